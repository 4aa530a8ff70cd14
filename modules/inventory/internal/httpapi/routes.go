// Package httpapi exposes the inventory service over HTTP: its public routes,
// and every contract method on its internal route (from the one
// declaration in contract.go).
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/internal/app"
	"mitosis/platform/auth"
	"mitosis/platform/transport"
)

// createItemBody is the body of POST /api/v1/inventory/items.
type createItemBody struct {
	Name string `json:"name"`
}

// Mount registers the public routes, and the internal routes of every
// contract method, on the module's own implementation.
func Mount(e *echo.Echo, svc *app.Service, tokens *auth.Verifier) {
	// Middleware per route, not per group: an echo group with middleware
	// also claims every unknown path under its prefix.
	e.POST("/api/v1/inventory/items", postItem(svc), tokens.Required)
	API.Serve(e, svc)
}

// postItem creates an item for a signed-in caller.
func postItem(svc *app.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body createItemBody
		if err := transport.Bind(c, &body); err != nil {
			return err
		}
		item, err := svc.CreateItem(c.Request().Context(), inventory.CreateItemRequest{Name: body.Name})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, item)
	}
}

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

// restockBody is the body of POST /api/v1/inventory/stock/{sku}/restock.
type restockBody struct {
	Quantity int64 `json:"quantity"`
}

// Mount registers the public routes, and the internal routes of every
// contract method, on the module's own implementation.
func Mount(e *echo.Echo, svc *app.Service, tokens *auth.Verifier) {
	// Middleware per route, not per group: an echo group with middleware
	// also claims every unknown path under its prefix.
	e.GET("/api/v1/inventory/stock", listStock(svc), tokens.Required)
	e.POST("/api/v1/inventory/stock/:sku/restock", restockSKU(svc), tokens.Required, auth.AdminOnly)
	API.Serve(e, svc)
}

// listStock returns the stock of the SKUs named by ?sku=, or of every SKU.
func listStock(svc *app.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		list, err := svc.GetStock(c.Request().Context(), inventory.StockRequest{SKUs: c.QueryParams()["sku"]})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, list)
	}
}

// restockSKU adds an admin's delivery to an SKU's stock.
func restockSKU(svc *app.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body restockBody
		if err := transport.Bind(c, &body); err != nil {
			return err
		}
		stock, err := svc.Restock(c.Request().Context(), inventory.RestockRequest{SKU: c.Param("sku"), Quantity: body.Quantity,
			IdempotencyKey: c.Request().Header.Get("Idempotency-Key")})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, stock)
	}
}

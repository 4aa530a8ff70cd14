// Package httpapi exposes the orders service over HTTP: the catalog and the
// caller's orders on the public API, every method on internal routes.
package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/platform/auth"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

type placeBody struct {
	Items []orders.Item `json:"items"`
}

// Mount registers the public and internal routes.
func Mount(e *echo.Echo, svc *app.Service, tokens *auth.Verifier) {
	e.GET("/api/v1/products", func(c echo.Context) error {
		list, err := svc.ListProducts(c.Request().Context(), orders.ListProductsRequest{})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, list)
	})
	// Middleware per route, not per group: an echo group with middleware
	// also claims every unknown path under its prefix.
	e.POST("/api/v1/orders", func(c echo.Context) error {
		var body placeBody
		if err := transport.Bind(c, &body); err != nil {
			return err
		}
		ctx := c.Request().Context()
		o, err := svc.PlaceOrder(ctx, orders.PlaceOrderRequest{
			CustomerID: auth.Subject(ctx), Items: body.Items, IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
		})
		if err != nil {
			return err
		}
		if o.Status == orders.StatusPending {
			// Accepted: the saga settles the order by itself.
			return c.JSON(http.StatusAccepted, o)
		}
		return c.JSON(http.StatusCreated, o)
	}, tokens.Required)
	e.GET("/api/v1/orders", func(c echo.Context) error {
		ctx := c.Request().Context()
		in := orders.ListOrdersRequest{CustomerID: auth.Subject(ctx), Cursor: c.QueryParam("cursor")}
		// ?all=true is the admin view of every customer's orders.
		if all := c.QueryParam("all"); all != "" {
			b, err := strconv.ParseBool(all)
			if err != nil {
				return problem.Malformed("all", "must be true or false")
			}
			if b && !auth.IsAdmin(ctx) {
				return fmt.Errorf("%w: only admins list every customer's orders", problem.ErrForbidden)
			}
			in.AllCustomers = b
		}
		if raw := c.QueryParam("limit"); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				return problem.Malformed("limit", "must be an integer")
			}
			in.Limit = n
		}
		page, err := svc.ListOrders(ctx, in)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, page)
	}, tokens.Required)
	e.GET("/api/v1/orders/:id", func(c echo.Context) error {
		ctx := c.Request().Context()
		o, err := svc.GetOrder(ctx, orders.GetOrderRequest{CustomerID: auth.Subject(ctx), OrderID: c.Param("id")})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, o)
	}, tokens.Required)
	e.GET("/api/v1/orders/:id/history", func(c echo.Context) error {
		ctx := c.Request().Context()
		h, err := svc.GetOrderHistory(ctx, orders.GetOrderRequest{CustomerID: auth.Subject(ctx), OrderID: c.Param("id")})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, h)
	}, tokens.Required)
	e.POST("/api/v1/orders/:id/cancel", func(c echo.Context) error {
		ctx := c.Request().Context()
		o, err := svc.CancelOrder(ctx, orders.CancelOrderRequest{CustomerID: auth.Subject(ctx), OrderID: c.Param("id")})
		if err != nil {
			return err
		}
		if o.Status != orders.StatusCancelled {
			// Accepted: the refund waits for payments, and the saga
			// cancels the order by itself.
			return c.JSON(http.StatusAccepted, o)
		}
		return c.JSON(http.StatusOK, o)
	}, tokens.Required)

	API.Serve(e, svc)
}

// Package httpapi exposes the payments service over HTTP: the caller's
// wallet and payments on the public API, every method on internal routes.
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/modules/payments"
	"mitosis/modules/payments/internal/app"
	"mitosis/platform/auth"
	"mitosis/platform/transport"
)

type depositBody struct {
	AmountCents int64 `json:"amount_cents"`
}

// Mount registers the public routes, and the internal routes of every
// contract method, on the module's own implementation.
func Mount(e *echo.Echo, svc *app.Service, tokens *auth.Verifier) {
	// Middleware per route, not per group: an echo group with middleware
	// also claims every unknown path under its prefix.
	e.POST("/api/v1/wallet/deposits", func(c echo.Context) error {
		var body depositBody
		if err := transport.Bind(c, &body); err != nil {
			return err
		}
		ctx := c.Request().Context()
		w, err := svc.Deposit(ctx, payments.DepositRequest{
			UserID: auth.Subject(ctx), AmountCents: body.AmountCents,
			IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, w)
	}, tokens.Required)
	e.GET("/api/v1/wallet", func(c echo.Context) error {
		ctx := c.Request().Context()
		w, err := svc.GetWallet(ctx, payments.WalletRequest{UserID: auth.Subject(ctx)})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, w)
	}, tokens.Required)
	e.GET("/api/v1/payments/:id", func(c echo.Context) error {
		ctx := c.Request().Context()
		p, err := svc.GetPayment(ctx, payments.GetPaymentRequest{UserID: auth.Subject(ctx), PaymentID: c.Param("id")})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}, tokens.Required)
	e.GET("/api/v1/payments", func(c echo.Context) error {
		ctx := c.Request().Context()
		list, err := svc.ListPayments(ctx, payments.ListPaymentsRequest{UserID: auth.Subject(ctx), OrderID: c.QueryParam("order_id")})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, list)
	}, tokens.Required)

	API.Serve(e, svc)
}

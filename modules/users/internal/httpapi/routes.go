// Package httpapi exposes the users service over HTTP: the public REST API
// and the internal routes its remote client calls.
package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/platform/auth"
	"mitosis/platform/transport"
)

// Internal routes, shared by the handlers and the client.
const (
	internalRegister     = "/internal/users/register"
	internalAuthenticate = "/internal/users/authenticate"
	internalGet          = "/internal/users/get"
)

// Mount registers the public and internal routes. It takes the local
// service, which also serves the profile with its order statistics.
func Mount(e *echo.Echo, svc *app.Service, tokens *auth.Tokens) {
	e.POST("/api/v1/users", func(c echo.Context) error {
		var in users.RegisterRequest
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		u, err := svc.Register(c.Request().Context(), in)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, u)
	})
	e.POST("/api/v1/auth/token", func(c echo.Context) error {
		var in users.Credentials
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		tok, err := svc.Authenticate(c.Request().Context(), in)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, tok)
	})
	e.GET("/api/v1/users/me", func(c echo.Context) error {
		me, err := svc.Me(c.Request().Context(), auth.Subject(c.Request().Context()))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, me)
	}, tokens.Required)

	e.POST(internalRegister, transport.Handle(svc.Register, http.StatusOK))
	e.POST(internalAuthenticate, transport.Handle(svc.Authenticate, http.StatusOK))
	e.POST(internalGet, transport.Handle(svc.Get, http.StatusOK))
}

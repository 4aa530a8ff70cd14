// Package httpapi exposes the users service over HTTP: the public REST API
// and the internal routes its remote client calls.
package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/internal/keys"
	"mitosis/platform/auth"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// Mount registers the public and internal routes. It takes the local
// service, which also serves the profile with its order statistics.
func Mount(e *echo.Echo, svc *app.Service, tokens *auth.Verifier, ring *keys.Ring) {
	// Public keys are public: every verifier (other processes, the gateway)
	// reads them here. An HTTP cache may keep them for less than
	// auth.PublishLead, so a new key is visible before it signs.
	e.GET(auth.JWKSPath, func(c echo.Context) error {
		set, err := ring.JWKS(c.Request().Context())
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(auth.JWKSMinRefresh.Seconds())))
		return c.JSON(http.StatusOK, set)
	})
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
	e.POST("/api/v1/auth/refresh", func(c echo.Context) error {
		var in users.RefreshRequest
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		tok, err := svc.Refresh(c.Request().Context(), in)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, tok)
	})
	e.POST("/api/v1/auth/logout", func(c echo.Context) error {
		var in users.RefreshRequest
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		if _, err := svc.Logout(c.Request().Context(), in); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	// Admins list every user; anyone else is forbidden.
	e.GET("/api/v1/users", func(c echo.Context) error {
		in := users.ListUsersRequest{Cursor: c.QueryParam("cursor")}
		if raw := c.QueryParam("limit"); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				return problem.Malformed("limit", "must be an integer")
			}
			in.Limit = n
		}
		page, err := svc.List(c.Request().Context(), in)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, page)
	}, tokens.Required, auth.AdminOnly)
	e.GET("/api/v1/users/me", func(c echo.Context) error {
		me, err := svc.Me(c.Request().Context(), auth.Subject(c.Request().Context()))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, me)
	}, tokens.Required)

	API.Serve(e, svc)
}

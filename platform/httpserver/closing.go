package httpserver

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// lateKey marks the context of a request that arrived after the listener
// closed (Server.guard sets it).
type lateKey struct{}

// markLate is r marked as arriving late.
func markLate(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), lateKey{}, true))
}

// refuseLate answers a request marked late with ErrClosing (503 and
// Retry-After) before routing: after the access log, the request id, the
// security and CORS headers, which it gets as any other answer, and before
// any handler or later Pre middleware (a gateway's proxy) runs. Any other
// request pays one context lookup.
func refuseLate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if late, _ := c.Request().Context().Value(lateKey{}).(bool); late {
			return ErrClosing
		}
		return next(c)
	}
}

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

// closeWhile answers every request with Connection: close while draining
// says so (SHUTDOWN_DELAY: /health/ready answers 503, the process is on
// its way out), so that each kept-alive connection of its clients closes
// after its next answer instead of idling until the server closes it: a
// request sent on an idle connection in the instant the server closes it
// is lost without an answer, and HTTP/1.1 has no way to close one safely.
func closeWhile(draining func() bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

package health

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Mount serves /health/live, /health/ready and /health on the public
// listener, with statuses only.
func (r *Registry) Mount(e *echo.Echo) {
	e.GET("/health/live", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": Up})
	})
	e.GET("/health/ready", func(c echo.Context) error {
		ok, status := r.Ready(c.Request().Context())
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		return c.JSON(code, map[string]string{"status": status})
	})
	e.GET("/health", func(c echo.Context) error {
		rep := r.Public(c.Request().Context())
		return c.JSON(StatusCode(rep.Status), rep)
	})
}

// ServeDetail answers the whole report, errors and URLs included, for the
// admin listener.
func (r *Registry) ServeDetail(c echo.Context) error {
	rep := r.Detail(c.Request().Context())
	return c.JSON(StatusCode(rep.Status), rep)
}

// StatusCode is the HTTP status of an answer with this health: 200
// healthy, 202 degraded, 503 unhealthy.
func StatusCode(status string) int {
	switch status {
	case Healthy:
		return http.StatusOK
	case Degraded:
		return http.StatusAccepted
	}
	return http.StatusServiceUnavailable
}

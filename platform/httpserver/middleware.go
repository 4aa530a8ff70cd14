package httpserver

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/platform/transport"
)

// maxBudget bounds a deadline a caller may ask for.
const maxBudget = 5 * time.Minute

// Deadline applies the caller's time budget (transport.DeadlineHeader) to
// the request context, so a remote callee stops when its caller gives up.
func Deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := c.Request().Header.Get(transport.DeadlineHeader)
		if raw == "" {
			return next(c)
		}
		ms, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || ms <= 0 {
			return next(c)
		}
		budget := min(time.Duration(ms)*time.Millisecond, maxBudget)
		ctx, cancel := context.WithTimeout(c.Request().Context(), budget)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

package httpserver

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/platform/transport"
)

// maxBudget bounds a deadline a caller may ask for.
const maxBudget = 5 * time.Minute

// Deadline applies the caller's time budget (transport.DeadlineHeader) to
// the request context, so a remote callee stops when its caller gives up.
// On a public route the budget is a client's, marked as such
// (transport.ErrClientDeadline) so that its passing does not count against
// the modules this request calls; an internal route's is a module's.
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
		var cause error
		if !strings.HasPrefix(c.Request().URL.Path, internalPrefix) {
			cause = transport.ErrClientDeadline
		}
		ctx, cancel := context.WithTimeoutCause(c.Request().Context(), budget, cause)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

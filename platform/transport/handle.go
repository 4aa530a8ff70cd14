package transport

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Handle serves one contract method on an internal route: decode the input,
// call, encode the output (200). Errors go to the central error handler.
func Handle[In, Out any](method func(context.Context, In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in In
		if err := Bind(c, &in); err != nil {
			return err
		}
		out, err := method(c.Request().Context(), in)
		if err != nil {
			return err
		}
		// An answer JSON cannot carry (a NaN, a channel) is then a 500
		// problem the server logs with its cause, not a 200 with an empty
		// body.
		if err := WriteJSON(c.Response(), http.StatusOK, "application/json", out); err != nil && !c.Response().Committed {
			return fmt.Errorf("encode answer of %s: %w", c.Path(), err)
		}
		return nil
	}
}

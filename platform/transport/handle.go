package transport

import (
	"context"
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
		return c.JSON(http.StatusOK, out)
	}
}

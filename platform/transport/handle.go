package transport

import (
	"context"

	"github.com/labstack/echo/v4"
)

// Handle serves one contract method on an internal route: decode the input,
// call, encode the output. Errors go to the central error handler.
func Handle[In, Out any](method func(context.Context, In) (Out, error), status int) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in In
		if err := Bind(c, &in); err != nil {
			return err
		}
		out, err := method(c.Request().Context(), in)
		if err != nil {
			return err
		}
		return c.JSON(status, out)
	}
}

// Invoke calls one contract method of a remote module; safety declares
// whether the call may be repeated after a failure.
func Invoke[Out any](ctx context.Context, c *Client, safety Safety, method, path string, in any) (Out, error) {
	var out Out
	err := c.Call(ctx, safety, method, path, in, &out)
	return out, err
}

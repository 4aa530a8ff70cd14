package httpserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/httpserver"
	"mitosis/platform/transport"
)

// TestADeadlineIsMarkedByWhoChoseIt: X-Deadline-Ms bounds the request's
// context on every route; on a public route the budget is a client's and
// its passing carries transport.ErrClientDeadline as the cause (the
// breakers leave it out), on an internal route it is a module's.
func TestADeadlineIsMarkedByWhoChoseIt(t *testing.T) {
	e := echo.New()
	e.Use(httpserver.Deadline)
	wait := func(c echo.Context) error {
		ctx := c.Request().Context()
		<-ctx.Done()
		if context.Cause(ctx) == transport.ErrClientDeadline {
			return c.String(http.StatusOK, "client")
		}
		return c.String(http.StatusOK, "module")
	}
	e.GET("/api/v1/wait", wait)
	e.GET("/internal/shop/wait", wait)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	for path, want := range map[string]string{"/api/v1/wait": "client", "/internal/shop/wait": "module"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set(transport.DeadlineHeader, "20")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, string(body), path)
	}
}

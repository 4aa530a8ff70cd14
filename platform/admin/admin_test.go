package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"mitosis/platform/admin"
	"mitosis/platform/config"
	"mitosis/platform/problem"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The listener serves its routes on an address of its own, lists them at
// /admin/v1, answers anything else with a problem, and stops with the app.
func TestTheListenerServesAndListsItsRoutes(t *testing.T) {
	var s *admin.Server
	bound := &admin.Bound{}
	app := fx.New(fx.NopLogger,
		fx.Supply(config.Config{Admin: config.Admin{Addr: "127.0.0.1:0"}}, bound, quiet()),
		admin.Module,
		fx.Populate(&s),
		fx.Invoke(func(s *admin.Server) {
			s.Handle(http.MethodGet, admin.Prefix+"/thing", "A thing", func(c echo.Context) error {
				return c.JSON(http.StatusOK, map[string]int{"n": 1})
			})
		}))
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(context.Background()))
	require.NotEmpty(t, bound.Addr)
	base := "http://" + bound.Addr

	var index struct{ Routes []admin.Route }
	get(t, base+"/admin/v1", http.StatusOK, &index)
	assert.Equal(t, []admin.Route{
		{Method: http.MethodGet, Path: "/admin/v1", Summary: "This list: every admin route"},
		{Method: http.MethodGet, Path: "/admin/v1/thing", Summary: "A thing"},
	}, index.Routes)
	var thing map[string]int
	get(t, base+"/admin/v1/thing", http.StatusOK, &thing)
	assert.Equal(t, 1, thing["n"])
	var missing map[string]any
	ct := get(t, base+"/admin/v1/nothing", http.StatusNotFound, &missing)
	assert.Equal(t, "not_found", missing["code"])
	assert.Equal(t, problem.ContentType, ct)

	require.NoError(t, app.Stop(context.Background()))
	_, err := http.Get(base + "/admin/v1")
	assert.Error(t, err, "stopped with the app")
}

// ADMIN_ADDR=off: nothing listens.
func TestOffMeansNoListener(t *testing.T) {
	bound := &admin.Bound{}
	app := fx.New(fx.NopLogger,
		fx.Supply(config.Config{Admin: config.Admin{Addr: config.AdminOff}}, bound, quiet()),
		admin.Module)
	require.NoError(t, app.Start(context.Background()))
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	assert.Empty(t, bound.Addr)
}

// get decodes the answer of url into out, and returns its content type.
func get(t *testing.T, url string, status int, out any) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, status, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	return resp.Header.Get("Content-Type")
}

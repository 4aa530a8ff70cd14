package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/health"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// A remote module that is ready but fails every call.
func failingModule(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == transport.ReadyPath {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", problem.ContentType)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(problem.From(problem.ErrUnavailable))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// dependency is how /health shows the remote module shop to its caller.
func dependency(t *testing.T, e *echo.Echo) (int, health.Item) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	var rep health.Report
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep), rec.Body.String())
	require.Len(t, rep.Modules, 1)
	require.Len(t, rep.Modules[0].Checks, 1)
	return rec.Code, rep.Modules[0].Checks[0]
}

func TestHealthShowsARemoteModulesBreakerNextToItsReadiness(t *testing.T) {
	calls := config.Calls{
		Timeout: 5 * time.Second, Backoff: time.Millisecond, MaxConcurrency: 4,
		BreakerFailures: 2, BreakerCooldown: time.Minute,
	}
	factory := transport.NewFactory(config.Config{Calls: calls}, nil, quiet())
	spec := topology.Spec{Name: "shop", Remote: shopAPI.RemoteOption()}
	var (
		client shop
		checks *health.Registry
	)
	url := failingModule(t)
	app := fx.New(
		fx.NopLogger,
		fx.Supply(factory, contract.NewRegistry()),
		fx.Provide(func() *health.Registry { return health.NewRegistry() }),
		topology.Manual(nil, map[string]string{"shop": url}).Options([]topology.Spec{spec}),
		fx.Populate(&client, &checks),
	)
	require.NoError(t, app.Err())
	checks.Local("buyer", "shop")
	e := echo.New()
	checks.Mount(e)

	code, dep := dependency(t, e)
	assert.Equal(t, http.StatusAccepted, code, "not checked yet: degraded")
	assert.Equal(t, health.Unknown, dep.Status)

	checks.ProbeRemotes(context.Background())
	code, dep = dependency(t, e)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, health.Item{Name: "shop", Kind: health.KindDependency, Status: health.Up, Breaker: "closed", CheckedAt: dep.CheckedAt}, dep)

	for range 2 {
		_, err := client.Restock(context.Background(), priceRequest{SKU: "tea"})
		require.ErrorIs(t, err, problem.ErrUnavailable)
	}
	code, dep = dependency(t, e)
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, health.Up, dep.Status, "ready, but this process has stopped sending it calls")
	assert.Equal(t, "open", dep.Breaker)
	assert.Empty(t, dep.URL, "no URL in a public answer")
	assert.Equal(t, url, checks.Detail(context.Background()).Modules[0].Checks[0].URL)
	assert.Equal(t, []transport.Circuit{{Module: "shop", URL: url, State: "open", Slots: 4}}, factory.Circuits())
}

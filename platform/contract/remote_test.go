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

// A remote module that is alive but fails every call.
func failingModule(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health/live" {
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

func dependencies(t *testing.T, e *echo.Echo) []health.Status {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	var rep health.Report
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep), rec.Body.String())
	return rep.Deps
}

func TestHealthShowsARemoteModulesBreakerNextToItsLiveness(t *testing.T) {
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
		fx.Provide(health.NewRegistry),
		topology.Manual(nil, map[string]string{"shop": url}).Options([]topology.Spec{spec}),
		fx.Populate(&client, &checks),
	)
	require.NoError(t, app.Err())
	e := echo.New()
	checks.Mount(e)

	deps := dependencies(t, e)
	require.Len(t, deps, 1)
	assert.Equal(t, health.Status{Name: "shop", Kind: health.KindDependency, Status: "up", Breaker: "closed"}, deps[0])

	for range 2 {
		_, err := client.Restock(context.Background(), priceRequest{SKU: "tea"})
		require.ErrorIs(t, err, problem.ErrUnavailable)
	}
	deps = dependencies(t, e)
	assert.Equal(t, health.Status{Name: "shop", Kind: health.KindDependency, Status: "up", Breaker: "open"}, deps[0],
		"alive, but this process has stopped sending it calls")
	assert.Equal(t, []transport.Circuit{{Module: "shop", URL: url, State: "open"}}, factory.Circuits())
}

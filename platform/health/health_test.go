package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/health"
)

func get(t *testing.T, e *echo.Echo, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	return rec.Code, body
}

func TestReadinessFollowsEveryCheck(t *testing.T) {
	r := health.NewRegistry()
	e := echo.New()
	r.Mount(e)
	r.Add("orders", health.KindModule, func(context.Context) error { return nil })
	code, _ := get(t, e, "/health/ready")
	assert.Equal(t, http.StatusOK, code)

	r.Add("payments", health.KindDependency, func(context.Context) error { return errors.New("connection refused") })
	code, _ = get(t, e, "/health/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = get(t, e, "/health/live")
	assert.Equal(t, http.StatusOK, code, "liveness does not depend on others")

	code, body := get(t, e, "/health")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	deps := body["dependencies"].([]any)
	require.Len(t, deps, 1)
	assert.Equal(t, "down", deps[0].(map[string]any)["status"])
	assert.Equal(t, "connection refused", deps[0].(map[string]any)["error"])
}

func TestAHungCheckIsBounded(t *testing.T) {
	r := health.NewRegistry()
	r.Add("stuck", health.KindDependency, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	start := time.Now()
	rep := r.Run(context.Background())
	assert.Equal(t, "down", rep.Status)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestBreakersShowNextToTheirDependency(t *testing.T) {
	r := health.NewRegistry()
	r.Add("orders", health.KindModule, func(context.Context) error { return nil })
	r.Add("payments", health.KindDependency, func(context.Context) error { return nil })
	r.AddBreaker("payments", func() string { return "open" })
	rep := r.Run(context.Background())
	assert.Equal(t, "up", rep.Status, "an open breaker alone does not fail readiness")
	assert.Equal(t, "open", rep.Deps[0].Breaker)
	assert.Empty(t, rep.Modules[0].Breaker)
}

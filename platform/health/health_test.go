package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
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
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

func served(r *health.Registry) *echo.Echo {
	e := echo.New()
	r.Mount(e)
	return e
}

// switchable is a check whose answer the test sets.
type switchable struct{ err atomic.Pointer[error] }

func (s *switchable) fail(err error) { s.err.Store(&err) }
func (s *switchable) heal()          { s.err.Store(nil) }
func (s *switchable) check(context.Context) error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

func up(context.Context) error { return nil }

// Readiness follows the local modules' own parts only; a remote module
// down leaves the process ready but degraded; a part down makes it
// unready and unhealthy.
func TestReadinessIsThisProcesssOwnWork(t *testing.T) {
	r := health.NewRegistry(health.Freshness(0))
	db := &switchable{}
	payments := &switchable{}
	r.Add("orders", "database", db.check)
	r.Local("orders", "payments")
	r.AddRemote("payments", "http://10.0.0.7:8082", payments.check, func() string { return "closed" })
	e := served(r)
	r.ProbeRemotes(context.Background())

	code, body := get(t, e, "/health/ready")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "up", body["status"])
	code, body = get(t, e, "/health")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, health.Healthy, body["status"])

	payments.fail(errors.New("dial tcp 10.0.0.7:8082: connection refused"))
	r.ProbeRemotes(context.Background())
	code, _ = get(t, e, "/health/ready")
	assert.Equal(t, http.StatusOK, code, "a remote module down does not make its caller unready")
	code, body = get(t, e, "/health")
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, health.Degraded, body["status"])

	db.fail(errors.New(`password authentication failed for user "mitosis_orders"`))
	code, body = get(t, e, "/health/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "down", body["status"])
	code, body = get(t, e, "/health")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, health.Unhealthy, body["status"])
	code, _ = get(t, e, "/health/live")
	assert.Equal(t, http.StatusOK, code, "liveness depends on nothing")

	db.heal()
	payments.heal()
	r.ProbeRemotes(context.Background())
	code, _ = get(t, e, "/health")
	assert.Equal(t, http.StatusOK, code)
}

// The public report has statuses only; the detail has the errors and the
// remote module's URL.
func TestPublicAnswersShowNoInternals(t *testing.T) {
	r := health.NewRegistry(health.Version("v1.2.3"))
	r.Add("orders", "database", func(context.Context) error {
		return errors.New(`failed to connect to host=10.0.0.5 user=mitosis_orders database=mitosis: dial error`)
	})
	r.Local("orders", "payments")
	r.AddRemote("payments", "http://10.0.0.7:8082", func(context.Context) error {
		return errors.New("Get http://10.0.0.7:8082/health/ready: dial tcp 10.0.0.7:8082: connection refused")
	}, func() string { return "open" })
	r.ProbeRemotes(context.Background())

	rec := httptest.NewRecorder()
	served(r).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	public := rec.Body.String()
	for _, secret := range []string{"10.0.0", "mitosis_orders", "dial", ":8082", "refused", "error"} {
		assert.NotContains(t, public, secret)
	}
	var rep health.Report
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
	assert.Equal(t, health.Unhealthy, rep.Status)
	assert.Equal(t, "v1.2.3", rep.Version)
	assert.WithinDuration(t, time.Now(), rep.Timestamp, 5*time.Second)
	assert.GreaterOrEqual(t, rep.Uptime, int64(0))
	require.Len(t, rep.Modules, 1)
	assert.Equal(t, []string{"database", "payments"}, names(rep.Modules[0].Checks))
	dep := rep.Modules[0].Checks[1]
	assert.Equal(t, health.KindDependency, dep.Kind)
	assert.Equal(t, health.Down, dep.Status)
	assert.Equal(t, "open", dep.Breaker)
	require.NotNil(t, dep.CheckedAt)

	detail := r.Detail(context.Background())
	assert.Contains(t, detail.Modules[0].Checks[0].Error, "mitosis_orders")
	assert.Equal(t, "http://10.0.0.7:8082", detail.Modules[0].Checks[1].URL)
	assert.Contains(t, detail.Modules[0].Checks[1].Error, "connection refused")
	e := echo.New()
	e.GET("/detail", r.ServeDetail)
	code, body := get(t, e, "/detail")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, health.Unhealthy, body["status"])
}

func names(items []health.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

// What degrades a module and what makes it unhealthy.
func TestModuleStatuses(t *testing.T) {
	failing := func(context.Context) error { return errors.New("down") }
	for _, tc := range []struct {
		name     string
		setup    func(r *health.Registry)
		want     string
		unprobed bool // the monitor has not run yet
	}{
		{"no checks at all", func(r *health.Registry) { r.Local("gateway") }, health.Healthy, false},
		{"optional part down", func(r *health.Registry) { r.AddOptional("orders", "cache", failing) }, health.Degraded, false},
		{"breaker open, module up", func(r *health.Registry) {
			r.Local("orders", "payments")
			r.AddRemote("payments", "", up, func() string { return "open" })
		}, health.Degraded, false},
		{"dependency never checked", func(r *health.Registry) {
			r.Local("orders", "payments")
			r.AddRemote("payments", "", up, nil)
		}, health.Degraded, true},
		{"a fronted dependency down", func(r *health.Registry) {
			r.Local("gateway", "payments")
			r.Fronts("gateway")
			r.AddRemote("payments", "", failing, nil)
		}, health.Unhealthy, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := health.NewRegistry()
			tc.setup(r)
			if !tc.unprobed {
				r.ProbeRemotes(context.Background())
			}
			rep := r.Public(context.Background())
			assert.Equal(t, tc.want, rep.Status)
			ok, _ := r.Ready(context.Background())
			assert.True(t, ok, "none of these makes the process unready")
		})
	}
}

// Drain turns readiness to 503 for good, and leaves liveness alone.
func TestDrainMakesTheProcessUnready(t *testing.T) {
	r := health.NewRegistry()
	r.Add("orders", "database", up)
	e := served(r)
	code, _ := get(t, e, "/health/ready")
	require.Equal(t, http.StatusOK, code)

	r.Drain()
	assert.True(t, r.Draining())
	code, body := get(t, e, "/health/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "draining", body["status"])
	code, _ = get(t, e, "/health/live")
	assert.Equal(t, http.StatusOK, code)
	_, body = get(t, e, "/health")
	assert.Equal(t, true, body["draining"])
}

func TestAHungCheckIsBounded(t *testing.T) {
	r := health.NewRegistry()
	r.Add("orders", "stuck", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	start := time.Now()
	ok, _ := r.Ready(context.Background())
	assert.False(t, ok)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// Many probes at once run the local checks once; a check added later is
// not hidden by the reused results.
func TestLocalChecksRunOnceForConcurrentProbes(t *testing.T) {
	r := health.NewRegistry(health.Freshness(time.Minute))
	var runs atomic.Int32
	r.Add("orders", "database", func(context.Context) error {
		runs.Add(1)
		time.Sleep(50 * time.Millisecond)
		return nil
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { r.Ready(context.Background()) })
	}
	wg.Wait()
	r.Ready(context.Background())
	assert.Equal(t, int32(1), runs.Load())

	r.Add("orders", "migrations", func(context.Context) error { return errors.New("pending") })
	ok, _ := r.Ready(context.Background())
	assert.False(t, ok, "the new check runs at once")
}

package httpserver_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/logging"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		out = append(out, line)
	}
	return out
}

// observed is a server with orders local and payments remote, logging
// JSON at level into logs, its metrics in reg.
func observed(t *testing.T, level string) (*echo.Echo, *lockedBuffer, *prometheus.Registry) {
	t.Helper()
	logs := &lockedBuffer{}
	log := logging.New(config.Config{Log: config.Log{Format: config.LogJSON, Level: level}}, logs)
	place, err := topology.Plan([]topology.Spec{
		{Name: "orders", Routes: []string{"/api/v1/orders"}},
		{Name: "payments", Routes: []string{"/api/v1/wallet"}},
	}, config.Config{Services: []string{"orders"}})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	o, err := httpserver.NewObserver(log, reg, place)
	require.NoError(t, err)
	e := httpserver.New(config.Config{}, log, o.Middleware)
	limited := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("X-Flood") != "" {
				return problem.New("rate_limited", http.StatusTooManyRequests, "Too many requests")
			}
			return next(c)
		}
	}
	e.Pre(limited)
	e.Use(auth.NewAPIKeyServiceAuth(observeKey, "orders").GuardInternal)
	e.GET("/api/v1/orders/:id", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")}) })
	e.POST("/internal/orders/place-order", func(echo.Context) error { return errors.New("disk on fire") })
	e.Any("/api/v1/wallet/*", func(c echo.Context) error { return c.String(http.StatusOK, "proxied") })
	e.GET("/health/ready", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	return e, logs, reg
}

const observeKey = "observe-test-key-observe-test-key-0123"

func do(e *echo.Echo, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	return rec
}

// One line per request, with the route template (never the raw path or
// query), status, duration, bytes, module and, on an internal route, the
// calling module; every answer counted in the semantic-convention
// histogram, those given before routing included.
func TestEveryRequestIsLoggedOnceAndMeasuredByRoute(t *testing.T) {
	e, logs, reg := observed(t, "info")
	secretID := "0191f6c5-0000-7000-8000-00000000abcd"
	do(e, httptest.NewRequest(http.MethodGet, "/api/v1/orders/"+secretID+"?token=hunter2", nil))
	do(e, httptest.NewRequest(http.MethodGet, "/no/such/"+secretID, nil))
	flood := httptest.NewRequest(http.MethodGet, "/api/v1/orders/"+secretID, nil)
	flood.Header.Set("X-Flood", "1")
	do(e, flood)
	internal := httptest.NewRequest(http.MethodPost, "/internal/orders/place-order", strings.NewReader(`{"password":"hunter2"}`))
	require.NoError(t, auth.NewAPIKeyServiceAuth(observeKey, "gateway").Apply(internal.Header, "", "orders"))
	do(e, internal)
	do(e, httptest.NewRequest(http.MethodPut, "/api/v1/wallet/deposits", nil))
	do(e, httptest.NewRequest(http.MethodGet, "/health/ready", nil))

	var access []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" {
			access = append(access, l)
		}
	}
	require.Len(t, access, 5, "one line a request; health probes only at debug")
	assert.Equal(t, "/api/v1/orders/:id", access[0]["route"])
	assert.EqualValues(t, 200, access[0]["status"])
	assert.NotContains(t, access[0], "code", "a success has no problem")
	assert.Equal(t, "orders", access[0]["module"])
	assert.NotEmpty(t, access[0]["request_id"])
	assert.Contains(t, access[0], "duration_ms")
	assert.Positive(t, access[0]["bytes"])
	assert.Equal(t, httpserver.RouteUnmatched, access[1]["route"])
	assert.EqualValues(t, 404, access[1]["status"])
	assert.Equal(t, "not_found", access[1]["code"], "the problem answered")
	assert.Equal(t, httpserver.RouteUnmatched, access[2]["route"], "answered before routing")
	assert.EqualValues(t, 429, access[2]["status"])
	assert.Equal(t, "rate_limited", access[2]["code"])
	assert.Equal(t, "/internal/orders/place-order", access[3]["route"])
	assert.EqualValues(t, 500, access[3]["status"])
	assert.Equal(t, "internal", access[3]["code"])
	assert.Equal(t, "gateway", access[3]["caller"])
	assert.Equal(t, "payments", access[4]["module"])
	assert.Equal(t, true, access[4]["proxied"])
	raw, _ := json.Marshal(logs.lines(t))
	for _, leak := range []string{secretID, "hunter2", observeKey, "token="} {
		assert.NotContains(t, string(raw), leak)
	}

	counts := map[string]uint64{}
	fams, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		require.Equal(t, "http_server_request_duration_seconds", f.GetName())
		for _, m := range f.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetValue())
			}
			counts[strings.Join(key, " ")] = m.GetHistogram().GetSampleCount()
		}
	}
	// Labels in name order: method, status class, route, module.
	assert.Equal(t, map[string]uint64{
		"GET 2xx /api/v1/orders/:id orders":            1,
		"GET 4xx unmatched ":                           1,
		"GET 4xx unmatched orders":                     1,
		"POST 5xx /internal/orders/place-order orders": 1,
		"PUT 2xx /api/v1/wallet/* payments":            1,
		"GET 2xx /health/ready ":                       1,
	}, counts)
}

// At debug, health probes are logged too.
func TestProbesAreLoggedAtDebug(t *testing.T) {
	e, logs, _ := observed(t, "debug")
	do(e, httptest.NewRequest(http.MethodGet, "/health/ready", nil))
	var routes []any
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" {
			routes = append(routes, l["route"])
		}
	}
	assert.Equal(t, []any{"/health/ready"}, routes)
}

package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
	"mitosis/platform/topology"
)

// tracedServer runs a process of orders and the gateway, users elsewhere,
// traced to rcv at rate, with a route of each kind.
func tracedServer(t *testing.T, rcv *telemetrytest.Receiver, rate float64) (string, *telemetry.Tracing) {
	t.Helper()
	specs := []topology.Spec{
		{Name: "users", Routes: []string{"/api/v1/users"}},
		{Name: "orders", Routes: []string{"/api/v1/orders"}},
		{Name: "gateway", Routes: []string{"/api/v1/orders/:id/details"}, Proxies: true, Stateless: true},
	}
	place, err := topology.Plan(specs, config.Config{Services: []string{"orders", "gateway"},
		Modules: map[string]config.Module{"users": {URL: "http://users.invalid"}}})
	require.NoError(t, err)
	tr := telemetrytest.Tracing(t, rcv, rate, place.Local()...)
	e := httpserver.New(config.Config{Env: config.Development}, quiet())
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().URL.Path == "/api/v1/orders/limited" {
				return problem.ErrUnavailable // as a gateway's 429 answers before routing
			}
			return next(c)
		}
	})
	e.GET("/api/v1/orders/:id", ok)
	e.GET("/api/v1/orders/:id/details", ok)
	e.Any("/api/v1/users/*", ok) // the proxy's route
	e.GET("/health", ok)
	e.POST("/internal/orders/place-order", ok)
	srv := httptest.NewServer(httpserver.Traced(e, tr, place))
	t.Cleanup(srv.Close)
	return srv.URL, tr
}

func get(t *testing.T, url string, headers map[string]string) *http.Response {
	t.Helper()
	method := http.MethodGet
	if strings.Contains(url, "/internal/") {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// Each request is a SERVER span named by its route template, of the
// module owning the route; every answer carries the x-trace-* headers.
func TestEachRequestIsAServerSpanOfTheModuleOwningItsRoute(t *testing.T) {
	rcv := telemetrytest.Start(t)
	base, tr := tracedServer(t, rcv, 1)
	for _, tc := range []struct {
		path, name, service string
		status              int
	}{
		{"/api/v1/orders/0196", "GET /api/v1/orders/:id", "orders", 204},
		{"/api/v1/orders/0196/details", "GET /api/v1/orders/:id/details", "gateway", 204},
		{"/api/v1/users/42/secret-path", "GET /api/v1/users/*", "gateway", 204}, // users runs elsewhere: proxied
		{"/health", "GET /health", telemetry.ProcessService, 204},
		{"/internal/orders/place-order", "POST /internal/orders/place-order", "orders", 204},
		{"/internal/users/get", "POST", telemetry.ProcessService, 404},
		{"/no/such/route", "GET", telemetry.ProcessService, 404},
		{"/api/v1/orders/limited", "GET", "orders", 503},
	} {
		resp := get(t, base+tc.path, nil)
		require.Equal(t, tc.status, resp.StatusCode, tc.path)
		id := resp.Header.Get(telemetry.TraceIDHeader)
		require.Len(t, id, 32, tc.path)
		assert.Equal(t, tc.service, resp.Header.Get(telemetry.ServiceHeader), tc.path)
		assert.Equal(t, "0", resp.Header.Get(telemetry.DepthHeader), tc.path)

		require.NoError(t, tr.ForceFlush(t.Context()))
		spans := rcv.WaitFor(t, 5*time.Second, tc.path, func(s []telemetrytest.Span) bool { return len(rcvTrace(s, id)) == 1 })
		sp := rcvTrace(spans, id)[0]
		assert.Equal(t, tc.name, sp.Name, tc.path)
		assert.Equal(t, "server", sp.Kind)
		assert.Equal(t, tc.service, sp.Service, tc.path)
		assert.Equal(t, tc.path, sp.Attributes["url.path"])
		assert.NotContains(t, sp.Name, "0196", "never the raw path")
		assert.Equal(t, tc.status >= 500, sp.Error, tc.path)
	}
}

func rcvTrace(spans []telemetrytest.Span, id string) []telemetrytest.Span {
	var out []telemetrytest.Span
	for _, s := range spans {
		if s.TraceID == id {
			out = append(out, s)
		}
	}
	return out
}

// A caller's traceparent is continued, and its depth counted; an
// x-trace-id alone is honoured when it is a trace id, and otherwise only
// recorded, cut and cleaned, on a fresh trace.
func TestIncomingTraceContext(t *testing.T) {
	rcv := telemetrytest.Start(t)
	base, tr := tracedServer(t, rcv, 1)
	const parent = "0af7651916cd43dd8448eb211c80319c"
	path := base + "/api/v1/orders/1"

	resp := get(t, path, map[string]string{"Traceparent": "00-" + parent + "-b7ad6b7169203331-01", telemetry.DepthHeader: "1",
		telemetry.TraceIDHeader: "4bf92f3577b34da6a3ce929d0e0e4736"})
	assert.Equal(t, parent, resp.Header.Get(telemetry.TraceIDHeader), "traceparent wins over x-trace-id")
	assert.Equal(t, "2", resp.Header.Get(telemetry.DepthHeader))

	resp = get(t, path, map[string]string{telemetry.TraceIDHeader: "4BF92F3577B34DA6A3CE929D0E0E4736"})
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", resp.Header.Get(telemetry.TraceIDHeader))

	hostile := "'; DROP TABLE users; --\t<script>" + strings.Repeat("A", 5000)
	for _, bad := range []string{"00000000000000000000000000000000", "4bf92f3577b34da6a3ce929d0e0e47", hostile} {
		resp = get(t, path, map[string]string{telemetry.TraceIDHeader: bad})
		fresh := resp.Header.Get(telemetry.TraceIDHeader)
		require.Len(t, fresh, 32)
		assert.NotEqual(t, strings.ToLower(bad), fresh)
		require.NoError(t, tr.ForceFlush(t.Context()))
		spans := rcv.WaitFor(t, 5*time.Second, "the fresh trace", func(s []telemetrytest.Span) bool { return len(rcvTrace(s, fresh)) == 1 })
		got := rcvTrace(spans, fresh)[0].Attributes[string(httpserver.AttrUntrustedTraceID)]
		assert.Equal(t, telemetry.Untrusted(bad), got)
		assert.LessOrEqual(t, len(got), 64)
		assert.NotContains(t, got, " ")
	}

	// Unsampled: the ids go on, nothing is exported.
	const unsampled = "1af7651916cd43dd8448eb211c80319c"
	before := len(rcv.Spans())
	resp = get(t, path, map[string]string{"Traceparent": "00-" + unsampled + "-b7ad6b7169203331-00"})
	assert.Equal(t, unsampled, resp.Header.Get(telemetry.TraceIDHeader))
	require.NoError(t, tr.ForceFlush(t.Context()))
	assert.Len(t, rcv.Spans(), before)
	assert.Empty(t, rcv.Trace(unsampled))
}

// Browsers may send a trace context and read the x-trace-* headers.
func TestCORSExposesTheTraceHeaders(t *testing.T) {
	rcv := telemetrytest.Start(t)
	base, _ := tracedServer(t, rcv, 1)
	resp := get(t, base+"/api/v1/orders/1", map[string]string{"Origin": "http://localhost:3000"})
	exposed := resp.Header.Get("Access-Control-Expose-Headers")
	for _, h := range []string{telemetry.TraceIDHeader, telemetry.ServiceHeader, telemetry.DepthHeader} {
		assert.Contains(t, exposed, h)
	}
	req, err := http.NewRequest(http.MethodOptions, base+"/api/v1/orders/1", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "traceparent")
	pre, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	pre.Body.Close()
	assert.Contains(t, strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "traceparent")
}

package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
)

// The gateway's hop is a span of its own: the module behind continues the
// gateway's trace from its proxy span, at depth 1, and never sees the
// client's raw trace headers; the answer names the module that answered.
func TestProxyContinuesTheGatewaysTrace(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tracing := telemetrytest.Tracing(t, rcv, 1, "gateway")
	got := make(chan http.Header, 1)
	module := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		if r.URL.Path == "/api/v1/users/answered-by-users" {
			// What a module process answers with (Traced): kept as it is.
			w.Header().Set(telemetry.TraceIDHeader, "4bf92f3577b34da6a3ce929d0e0e4736")
			w.Header().Set(telemetry.ServiceHeader, "users")
			w.Header().Set(telemetry.DepthHeader, "1")
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(module.Close)
	base := startTracedGateway(t, config.Config{}, module.URL, 5*time.Second, tracing)

	const clientTrace = "0af7651916cd43dd8448eb211c80319c"
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/users/42", nil)
	require.NoError(t, err)
	req.Header.Set("Traceparent", "00-"+clientTrace+"-b7ad6b7169203331-01")
	req.Header.Set("Baggage", "tenant=acme")
	req.Header.Set(telemetry.DepthHeader, "7") // a caller that counts itself a hop
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, clientTrace, resp.Header.Get(telemetry.TraceIDHeader))
	assert.Equal(t, "gateway", resp.Header.Get(telemetry.ServiceHeader), "the module sent none: the gateway answered")
	assert.Equal(t, "8", resp.Header.Get(telemetry.DepthHeader))

	h := <-got
	// The server span ends after the answer reached the client: flush
	// until both are out, not once (a span ended after a flush would wait
	// for the batcher's next round).
	require.Eventually(t, func() bool {
		return tracing.ForceFlush(t.Context()) == nil && len(rcv.Spans()) >= 2
	}, 10*time.Second, 50*time.Millisecond, "the gateway's two spans")
	spans := rcv.Spans()
	var server, client telemetrytest.Span
	for _, s := range spans {
		switch s.Kind {
		case "server":
			server = s
		case "client":
			client = s
		}
	}
	assert.Equal(t, "GET /api/v1/users/*", server.Name, "the route template, not the path")
	assert.Equal(t, "gateway", server.Service)
	assert.Equal(t, "b7ad6b7169203331", server.ParentID, "the client's span is the parent")
	assert.Equal(t, "proxy users", client.Name)
	assert.Equal(t, server.SpanID, client.ParentID)
	assert.Equal(t, clientTrace, client.TraceID)
	assert.Equal(t, "00-"+clientTrace+"-"+client.SpanID+"-01", h.Get("Traceparent"), "the module continues from the proxy span")
	assert.Equal(t, "tenant=acme", h.Get("Baggage"))
	assert.Equal(t, "8", h.Get(telemetry.DepthHeader), "the gateway's depth, one more than its caller's")

	// A module's own x-trace-* answer passes unchanged, once.
	req, err = http.NewRequest(http.MethodGet, base+"/api/v1/users/answered-by-users", nil)
	require.NoError(t, err)
	req.Header.Set(telemetry.TraceIDHeader, "not a trace id")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	h = <-got
	assert.Empty(t, h.Get(telemetry.TraceIDHeader), "the client's x-trace-id does not pass the gateway")
	assert.True(t, strings.HasPrefix(h.Get("Traceparent"), "00-"), "a fresh trace goes on instead")
	assert.Equal(t, []string{"users"}, resp.Header.Values(telemetry.ServiceHeader))
	assert.Equal(t, []string{"1"}, resp.Header.Values(telemetry.DepthHeader))
	assert.Equal(t, []string{"4bf92f3577b34da6a3ce929d0e0e4736"}, resp.Header.Values(telemetry.TraceIDHeader))
}

package contract_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/httpserver"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// serveTracedShop is serveShop behind the traced handler a process
// serves, tracing with tr.
func serveTracedShop(t *testing.T, impl shop, tr *telemetry.Tracing) (url string, f *transport.Factory) {
	t.Helper()
	guard := auth.NewJWTServiceAuth([]byte(secret), "shop")
	e := httpserver.New(config.Config{}, quiet())
	e.Use(guard.GuardInternal)
	shopAPI.Serve(e, impl)
	srv := httptest.NewServer(httpserver.Traced(e, tr, topology.Manual([]string{"shop"}, nil)))
	t.Cleanup(srv.Close)
	creds := auth.NewJWTServiceAuth([]byte(secret), "orders")
	return srv.URL, transport.NewFactory(config.Config{Calls: testCalls()}, creds, quiet())
}

func byName(spans []telemetrytest.Span, name string) []telemetrytest.Span {
	var out []telemetrytest.Span
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// In-process, a traced call is one INTERNAL span of the callee named
// after the method; a failure records its code.
func TestATracedLocalCallIsOneInternalSpan(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1, "shop", "orders")
	s := contract.ForCaller(shopAPI.Local(&store{}, contract.NewRegistry(contract.Traced(tr))), "orders")
	_, ok := s.(interface{ Local() (shop, bool) }).Local()
	assert.False(t, ok, "traced, the stub takes Call's path")

	ctx, parent := tr.Tracer("orders").Start(context.Background(), "request")
	_, err := s.Buy(ctx, buyRequest{SKU: "tea"})
	require.NoError(t, err)
	_, err = s.Buy(ctx, buyRequest{SKU: "gone"})
	require.ErrorIs(t, err, errSoldOut)
	parent.End()
	require.NoError(t, tr.ForceFlush(t.Context()))

	spans := rcv.WaitFor(t, 5*time.Second, "two calls", func(s []telemetrytest.Span) bool { return len(byName(s, "shop.Buy")) == 2 })
	for _, sp := range byName(spans, "shop.Buy") {
		assert.Equal(t, "internal", sp.Kind)
		assert.Equal(t, "shop", sp.Service, "the callee's service")
		assert.Equal(t, parent.SpanContext().SpanID().String(), sp.ParentID)
		assert.Equal(t, map[string]string{"mitosis.caller": "orders", "mitosis.callee": "shop", "mitosis.method": "Buy", "mitosis.transport": "local"},
			without(sp.Attributes, "error.type"))
		if sp.Error {
			assert.Equal(t, "shop.sold_out", sp.Attributes["error.type"])
		}
	}
	assert.True(t, byName(spans, "shop.Buy")[0].Error != byName(spans, "shop.Buy")[1].Error, "one failed")
}

func without(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// Over HTTP the same call is a CLIENT span of the caller and a SERVER span
// of the callee, both named after the method, the second a child of the
// first; the callee sees who called.
func TestATracedRemoteCallIsAClientAndAServerSpanOfOneName(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1, "shop", "orders")
	url, f := serveTracedShop(t, &store{}, tr)
	s := contract.ForCaller(shopAPI.Remote(f.New("shop", url, errSoldOut), contract.NewRegistry(contract.Traced(tr))), "orders")

	_, err := s.Buy(context.Background(), buyRequest{SKU: "gone"})
	require.ErrorIs(t, err, errSoldOut)
	require.NoError(t, tr.ForceFlush(t.Context()))
	spans := rcv.WaitFor(t, 5*time.Second, "client and server", func(s []telemetrytest.Span) bool { return len(byName(s, "shop.Buy")) == 2 })
	kinds := map[string]telemetrytest.Span{}
	for _, sp := range byName(spans, "shop.Buy") {
		kinds[sp.Kind] = sp
		assert.Equal(t, "http", sp.Attributes["mitosis.transport"])
		assert.Equal(t, "orders", sp.Attributes["mitosis.caller"])
		assert.Equal(t, "shop", sp.Attributes["mitosis.callee"])
		assert.Equal(t, "shop.sold_out", sp.Attributes["error.type"])
		assert.True(t, sp.Error)
	}
	client, server := kinds["client"], kinds["server"]
	assert.Equal(t, "orders", client.Service)
	assert.Equal(t, "shop", server.Service)
	assert.Equal(t, client.SpanID, server.ParentID)
	assert.Equal(t, client.TraceID, server.TraceID)
	assert.Equal(t, "/internal/shop/buy", server.Attributes["http.route"])
	assert.Equal(t, "409", server.Attributes["http.response.status_code"])
}

// With tracing off the in-process call keeps its fast path: no span, no
// allocation of its own. Over HTTP the ids still cross, unsampled, and
// nothing is exported.
func TestTracingOffKeepsTheLocalFastPathAndPropagatesIds(t *testing.T) {
	off, err := telemetry.New(telemetry.Settings{Tracing: config.Tracing{Exporter: config.TracingOff, SampleRate: 1}})
	require.NoError(t, err)
	impl := &store{}
	s := contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry(contract.Traced(off))), "orders")
	_, ok := s.(interface{ Local() (shop, bool) }).Local()
	assert.True(t, ok)
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(200, func() { _, _ = s.Buy(ctx, buyRequest{SKU: "tea"}) }))

	seen := make(chan string, 1)
	guard := auth.NewJWTServiceAuth([]byte(secret), "shop")
	e := echo.New()
	e.Use(guard.GuardInternal)
	e.POST("/internal/shop/buy", func(c echo.Context) error {
		seen <- c.Request().Header.Get("Traceparent")
		return c.JSON(200, receipt{})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	f := transport.NewFactory(config.Config{Calls: testCalls()}, auth.NewJWTServiceAuth([]byte(secret), "orders"), quiet())
	remote := contract.ForCaller(shopAPI.Remote(f.New("shop", srv.URL), contract.NewRegistry(contract.Traced(off))), "orders")
	ctx, span := off.Tracer("orders").Start(ctx, "request")
	_, err = remote.Buy(ctx, buyRequest{SKU: "tea"})
	require.NoError(t, err)
	tp := <-seen
	require.Len(t, tp, 55)
	assert.Equal(t, span.SpanContext().TraceID().String(), tp[3:35], "the caller's trace goes on")
	assert.Equal(t, "-00", tp[52:], "unsampled")
}

// A strict in-process call (LOCAL_CALLS=strict) is traced as the HTTP call
// it imitates: a CLIENT span of the caller and the served route's SERVER
// span of the callee, one trace, both named after the method, with
// transport local.
func TestATracedStrictCallIsTracedAsOverHTTP(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1, "shop", "orders")
	e := httpserver.New(config.Config{}, quiet())
	e.Use(auth.NewJWTServiceAuth([]byte(secret), "shop").GuardInternal)
	shopAPI.Serve(e, &store{})
	f := transport.NewFactory(config.Config{Calls: testCalls()}, auth.NewJWTServiceAuth([]byte(secret), "orders"), quiet())
	loop := f.Loopback(httpserver.Traced(e, tr, topology.Manual([]string{"shop", "orders"}, nil)))
	s := contract.ForCaller(shopAPI.Local(&store{}, contract.NewRegistry(contract.Traced(tr), contract.Strict(loop))), "orders")

	_, err := s.Buy(context.Background(), buyRequest{SKU: "gone"})
	require.ErrorIs(t, err, errSoldOut)
	require.NoError(t, tr.ForceFlush(t.Context()))
	spans := rcv.WaitFor(t, 5*time.Second, "client and server", func(s []telemetrytest.Span) bool { return len(byName(s, "shop.Buy")) == 2 })
	kinds := map[string]telemetrytest.Span{}
	for _, sp := range byName(spans, "shop.Buy") {
		kinds[sp.Kind] = sp
		assert.Equal(t, "orders", sp.Attributes["mitosis.caller"])
		assert.Equal(t, "shop.sold_out", sp.Attributes["error.type"])
	}
	client, server := kinds["client"], kinds["server"]
	assert.Equal(t, "orders", client.Service)
	assert.Equal(t, "local", client.Attributes["mitosis.transport"])
	assert.Equal(t, "shop", server.Service)
	assert.Equal(t, client.SpanID, server.ParentID, "the trace context crossed as headers")
	assert.Equal(t, client.TraceID, server.TraceID)
	assert.Equal(t, "/internal/shop/buy", server.Attributes["http.route"])
}

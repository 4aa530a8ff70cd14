package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Each module traces as its own service, though they share a process and
// its one exporter; every span carries the process's attributes.
func TestEachModuleIsItsOwnServiceInOneProcess(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1, "users", "orders")
	for _, service := range []string{"users", "orders", telemetry.ProcessService} {
		_, span := tr.Tracer(service).Start(context.Background(), "work of "+service)
		span.End()
	}
	require.NoError(t, tr.ForceFlush(t.Context()))
	spans := rcv.WaitFor(t, 5*time.Second, "three spans", func(s []telemetrytest.Span) bool { return len(s) == 3 })
	host, _ := os.Hostname()
	instances := map[string]bool{}
	for _, s := range spans {
		assert.Equal(t, "work of "+s.Service, s.Name)
		assert.Equal(t, "users,orders", s.Resource["mitosis.services"])
		assert.Equal(t, strconv.Itoa(os.Getpid()), s.Resource["process.pid"])
		assert.Equal(t, host, s.Resource["host.name"])
		assert.Equal(t, "mitosis", s.Resource["service.namespace"])
		instances[s.Resource["service.instance.id"]] = true
	}
	assert.Len(t, instances, 1, "one process, one instance id")
	assert.Equal(t, 1, rcv.Requests(), "one exporter for every service")
}

func rootSampled(t *testing.T, tr *telemetry.Tracing) bool {
	t.Helper()
	_, span := tr.Tracer("orders").Start(context.Background(), "root")
	defer span.End()
	require.True(t, span.SpanContext().IsValid(), "an unsampled span still has ids")
	return span.SpanContext().IsSampled()
}

// TRACING_SAMPLE_RATE samples that share of new traces, and a parent's
// decision is followed either way.
func TestSampleRateAndParentDecision(t *testing.T) {
	rcv := telemetrytest.Start(t)
	never, always, half := telemetrytest.Tracing(t, rcv, 0), telemetrytest.Tracing(t, rcv, 1), telemetrytest.Tracing(t, rcv, 0.5)
	const n = 4000
	counts := map[*telemetry.Tracing]int{}
	for _, tr := range []*telemetry.Tracing{never, always, half} {
		for range n {
			if rootSampled(t, tr) {
				counts[tr]++
			}
		}
	}
	assert.Zero(t, counts[never])
	assert.Equal(t, n, counts[always])
	// Binomial(4000, 0.5): standard deviation about 32; 6 of them.
	assert.InDelta(t, n/2, counts[half], 190, "half of %d, got %d", n, counts[half])

	sampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true})
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{2}, SpanID: trace.SpanID{2}, Remote: true})
	_, child := never.Tracer("orders").Start(trace.ContextWithRemoteSpanContext(context.Background(), sampled), "child")
	assert.True(t, child.SpanContext().IsSampled(), "a sampled parent is followed at rate 0")
	child.End()
	_, child = always.Tracer("orders").Start(trace.ContextWithRemoteSpanContext(context.Background(), unsampled), "child")
	assert.False(t, child.SpanContext().IsSampled(), "an unsampled parent is followed at rate 1")
	assert.Equal(t, unsampled.TraceID(), child.SpanContext().TraceID(), "its ids continue")
	child.End()
}

// TRACING=off makes ids, records nothing, and ignores a sampled parent.
func TestOffMakesIdsAndRecordsNothing(t *testing.T) {
	tr, err := telemetry.New(telemetry.Settings{Tracing: config.Tracing{Exporter: config.TracingOff, SampleRate: 1}})
	require.NoError(t, err)
	assert.False(t, tr.On())
	_, span := tr.Tracer("users").Start(context.Background(), "root")
	assert.True(t, span.SpanContext().IsValid())
	assert.False(t, span.IsRecording())
	assert.False(t, span.SpanContext().IsSampled())
	sampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true})
	_, child := tr.Tracer("users").Start(trace.ContextWithRemoteSpanContext(context.Background(), sampled), "child")
	assert.False(t, child.IsRecording())
	assert.Equal(t, sampled.TraceID(), child.SpanContext().TraceID())
	require.NoError(t, tr.Shutdown(t.Context()))

	var none *telemetry.Tracing
	assert.False(t, none.On())
	_, span = none.Tracer("users").Start(context.Background(), "x")
	assert.False(t, span.IsRecording())

	// Off, a served request's span has an id of its own; with no Tracing
	// at all the caller's goes on as it came.
	caller := trace.ContextWithRemoteSpanContext(context.Background(), sampled)
	assert.NotEqual(t, sampled.SpanID(), trace.SpanContextFromContext(tr.UnrecordedSpan(caller)).SpanID())
	assert.Equal(t, sampled, trace.SpanContextFromContext(none.UnrecordedSpan(caller)))
}

// A request served with tracing off gets an unrecorded span: in the
// caller's trace (sampled or not, its state kept) with an id of its own,
// in the trace an x-trace-id asked for, or in a new one; never sampled,
// as TRACING=off's spans (above).
func TestUnrecordedSpansCarryTheIds(t *testing.T) {
	state, err := trace.ParseTraceState("vendor=1")
	require.NoError(t, err)
	caller := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, TraceState: state, Remote: true})
	span := trace.SpanFromContext(telemetry.UnrecordedSpan(trace.ContextWithRemoteSpanContext(context.Background(), caller)))
	sc := span.SpanContext()
	assert.Equal(t, caller.TraceID(), sc.TraceID())
	assert.True(t, sc.SpanID().IsValid())
	assert.NotEqual(t, caller.SpanID(), sc.SpanID())
	assert.False(t, sc.IsSampled())
	assert.False(t, sc.IsRemote())
	assert.Equal(t, "vendor=1", sc.TraceState().String())
	assert.False(t, span.IsRecording())

	id, ok := telemetry.ParseTraceID("4BF92F3577B34DA6A3CE929D0E0E4736")
	require.True(t, ok)
	asked := telemetry.WithTraceID(context.Background(), id)
	assert.Equal(t, id, trace.SpanContextFromContext(telemetry.UnrecordedSpan(asked)).TraceID())
	assert.NotEqual(t, id, trace.SpanContextFromContext(telemetry.UnrecordedSpan(asked)).TraceID(), "the asked id names one trace")

	first := trace.SpanContextFromContext(telemetry.UnrecordedSpan(context.Background()))
	second := trace.SpanContextFromContext(telemetry.UnrecordedSpan(context.Background()))
	assert.True(t, first.IsValid())
	assert.NotEqual(t, first.TraceID(), second.TraceID())
}

// An x-trace-id taken by WithTraceID names the next new trace only: a
// root started later under the same context gets an id of its own.
func TestWithTraceIDNamesOneTrace(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1)
	id, ok := telemetry.ParseTraceID("4BF92F3577B34DA6A3CE929D0E0E4736")
	require.True(t, ok)
	ctx := telemetry.WithTraceID(context.Background(), id)
	_, first := tr.Tracer("orders").Start(ctx, "request")
	_, second := tr.Tracer("orders").Start(ctx, "detached", trace.WithNewRoot())
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", first.SpanContext().TraceID().String())
	assert.NotEqual(t, first.SpanContext().TraceID(), second.SpanContext().TraceID())
}

func TestIncomingValuesAreNeverTrustedBlindly(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"00000000000000000000000000000000", false},
		{"4bf92f3577b34da6a3ce929d0e0e473", false},
		{"4bf92f3577b34da6a3ce929d0e0e47360", false},
		{"4bf92f3577b34da6a3ce929d0e0e473g", false},
		{"", false},
	} {
		_, ok := telemetry.ParseTraceID(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
	}
	long := "<script>" + string(make([]byte, 10000))
	got := telemetry.Untrusted(long)
	assert.Len(t, got, 64)
	assert.Equal(t, "?script?", got[:8])
	assert.Equal(t, "abc-DEF_9", telemetry.Untrusted("abc-DEF_9"))

	for raw, want := range map[string]int{"": 0, "0": 1, "3": 4, "-1": 0, "x": 0, "63": 64, "64": 0, "99999999999999999999": 0} {
		assert.Equal(t, want, telemetry.IncomingDepth(raw), "depth after %q", raw)
	}
}

// Inject replaces whatever trace headers a request had with ctx's.
func TestInjectWritesTheCallersContextAndDepth(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1)
	ctx, span := tr.Tracer("orders").Start(telemetry.WithHop(context.Background(), telemetry.Hop{Service: "orders", Depth: 2}), "call")
	defer span.End()
	h := http.Header{}
	h.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.Set(telemetry.TraceIDHeader, "anything")
	telemetry.Inject(ctx, h)
	assert.Equal(t, "00-"+span.SpanContext().TraceID().String()+"-"+span.SpanContext().SpanID().String()+"-01", h.Get("Traceparent"))
	assert.Empty(t, h.Get(telemetry.TraceIDHeader))
	assert.Equal(t, "2", h.Get(telemetry.DepthHeader))

	assert.False(t, trace.SpanContextFromContext(telemetry.Detached(ctx)).IsValid())
}

// Stopping the app exports the spans still queued; a collector that is
// gone costs at most the flush timeout, and is no error.
func TestStopFlushesWithinABound(t *testing.T) {
	rcv := telemetrytest.Start(t)
	run := func(endpoint string) time.Duration {
		cfg := config.Config{Tracing: config.Tracing{Exporter: config.TracingOTLP, SampleRate: 1, OTLPEndpoint: endpoint}}
		var tr *telemetry.Tracing
		app := fx.New(fx.NopLogger,
			fx.Provide(func(lc fx.Lifecycle) (*telemetry.Tracing, error) {
				return telemetry.Start(lc, cfg, []string{"orders"}, quiet())
			}),
			fx.Populate(&tr))
		require.NoError(t, app.Start(t.Context()))
		_, span := tr.Tracer("orders").Start(context.Background(), "last words")
		span.End()
		start := time.Now()
		require.NoError(t, app.Stop(context.Background()))
		return time.Since(start)
	}
	run(rcv.URL())
	assert.Len(t, rcv.Named("last words"), 1, "exported by the stop, without a flush asked for")

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	took := run(gone.URL)
	assert.Less(t, took, 8*time.Second)
}

package telemetry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/telemetry"
)

// The ring keeps the last traces, whole, and forgets the oldest.
func TestRingKeepsRecentTraces(t *testing.T) {
	ring := telemetry.NewRing(3)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(ring))
	tr := tp.Tracer("test")
	var ids []string
	for i := range 5 {
		ctx, root := tr.Start(context.Background(), "root")
		_, child := tr.Start(ctx, "child")
		if i == 4 {
			child.RecordError(errors.New("boom"))
			child.SetStatus(codes.Error, "boom")
		}
		time.Sleep(time.Millisecond) // a measurable duration, not synchronisation
		child.End()
		root.End()
		ids = append(ids, root.SpanContext().TraceID().String())
	}
	recent := ring.Recent(telemetry.Filter{})
	require.Len(t, recent, 3)
	require.Equal(t, ids[4], recent[0].TraceID, "newest first")
	require.Equal(t, "root", recent[0].Root)
	require.Equal(t, 2, recent[0].Spans)
	require.Empty(t, ring.Trace(ids[0]), "the oldest is gone")
	spans := ring.Trace(ids[3])
	require.Len(t, spans, 2)
	require.Equal(t, spans[0].SpanID, spans[1].ParentID)

	errs := ring.Recent(telemetry.Filter{ErrorsOnly: true})
	require.Len(t, errs, 1)
	require.Equal(t, ids[4], errs[0].TraceID)
	require.Empty(t, ring.Recent(telemetry.Filter{MinMS: 10_000}))
	require.Len(t, ring.Recent(telemetry.Filter{Limit: 2}), 2)
	require.Empty(t, ring.Recent(telemetry.Filter{Service: "nobody"}))
	require.Nil(t, ring.Trace("not-hex"))

	_, probe := tr.Start(context.Background(), "GET /health/ready")
	probe.End()
	require.Equal(t, "GET /health/ready", ring.Recent(telemetry.Filter{})[0].Root)
	require.Equal(t, ids[4], ring.Recent(telemetry.Filter{HideProbes: true})[0].TraceID, "probes left out")
}

// A trace is kept up to RingSpans spans and its root, and found by the
// module that made it.
func TestRingCapsATraceAndFindsItByService(t *testing.T) {
	ring := telemetry.NewRing(2)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(ring),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "orders"))))
	ctx, root := tr(tp).Start(context.Background(), "root")
	for range telemetry.RingSpans + 10 {
		_, child := tr(tp).Start(ctx, "child")
		child.End()
	}
	root.End()
	id := root.SpanContext().TraceID().String()
	require.Len(t, ring.Trace(id), telemetry.RingSpans+1)
	found := ring.Recent(telemetry.Filter{Service: "orders"})
	require.Len(t, found, 1)
	require.Equal(t, id, found[0].TraceID)
	require.Equal(t, "root", found[0].Root, "the root ended last, past the cap, and is kept")
	require.Equal(t, []string{"orders"}, found[0].Services)
}

func tr(tp *sdktrace.TracerProvider) trace.Tracer { return tp.Tracer("test") }

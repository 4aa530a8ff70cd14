package events_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/natstest"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// publishTraced appends an event under a span of pub, the change that
// causes it, and returns that span's ids.
func (w world) publishTraced(t *testing.T, tr *telemetry.Tracing, aggregate string) (traceID, spanID string) {
	t.Helper()
	ctx, cause := tr.Tracer("pub").Start(context.Background(), "make thing")
	defer cause.End()
	e, err := events.New("pub", "thing.made", aggregate, map[string]int{"n": 1})
	require.NoError(t, err)
	require.NoError(t, w.pub.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return events.AppendEvent(ctx, tx, e) }))
	return cause.SpanContext().TraceID().String(), cause.SpanContext().SpanID().String()
}

func linkedTo(s telemetrytest.Span, traceID, spanID string) bool {
	return len(s.Links) == 1 && s.Links[0].TraceID == traceID && s.Links[0].SpanID == spanID
}

// The outbox keeps the trace context of the transaction that wrote the
// event; its delivery and its handling are spans of their own traces,
// linked to that change, on every way an event travels.
func TestAnEventsHandlingIsLinkedToTheChangeThatCausedIt(t *testing.T) {
	for _, way := range []string{"in-process", "over HTTP", config.BrokerNATS} {
		t.Run(way, func(t *testing.T) {
			rcv := telemetrytest.Start(t)
			tr := telemetrytest.Tracing(t, rcv, 1, "pub", "sub")
			w := newWorld(t, record)
			w.bus.Traced(tr)
			causeTrace, causeSpan := w.publishTraced(t, tr, "a")
			var stored string
			require.NoError(t, w.pub.NewRaw("SELECT trace_parent FROM event_outbox").Scan(context.Background(), &stored))
			assert.Equal(t, "00-"+causeTrace+"-"+causeSpan+"-01", stored)

			switch way {
			case "in-process":
				_, err := w.relay(nil).Traced(tr).RunOnce(context.Background())
				require.NoError(t, err)
			case "over HTTP":
				e := httpserver.New(config.Config{}, quiet)
				events.Mount(e, w.bus)
				srv := httptest.NewServer(httpserver.Traced(e, tr, topology.Manual([]string{"sub"}, nil)))
				t.Cleanup(srv.Close)
				cfg := config.Config{Calls: config.Calls{Timeout: 5 * time.Second, Backoff: 10 * time.Millisecond, MaxConcurrency: 8, BreakerFailures: 5, BreakerCooldown: time.Second}}
				deliver := events.NewDeliverer(events.NewBus(), topology.Manual(nil, map[string]string{"sub": srv.URL}), transport.NewFactory(cfg, nil, quiet), nil)
				_, err := w.relay(deliver).Traced(tr).RunOnce(context.Background())
				require.NoError(t, err)
			case config.BrokerNATS:
				srv := natstest.Start(t)
				cfg := fast
				cfg.Broker, cfg.NATSURL = config.BrokerNATS, srv.ClientURL()
				b := events.NewBroker(cfg, quiet).Traced(tr)
				require.NoError(t, b.Start(context.Background()))
				t.Cleanup(b.Stop)
				r := b.Relay("pub", w.pub, quiet)
				r.Start()
				t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
				c := b.Consumer("sub", []string{"thing.made"}, w.bus, w.sub)
				require.NoError(t, c.Start(context.Background()))
				t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
			}
			require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 1 }, 10*time.Second, 10*time.Millisecond)

			// Flushed on every look: the effect is visible once the
			// handler's transaction commits, a little before its span
			// ends (after the ack, on NATS), and a span ended after one
			// flush would wait for the batch's next export.
			spans := rcv.WaitFor(t, 10*time.Second, "the handling", func(s []telemetrytest.Span) bool {
				if len(byName(s, "handle thing.made")) == 1 {
					return true
				}
				_ = tr.ForceFlush(t.Context()) // (in Eventually's goroutine: a failed flush shows as the span missing)
				return false
			})
			handle := byName(spans, "handle thing.made")[0]
			assert.Equal(t, "consumer", handle.Kind)
			assert.Equal(t, "sub", handle.Service)
			assert.True(t, linkedTo(handle, causeTrace, causeSpan), "links: %v", handle.Links)
			assert.NotEqual(t, causeTrace, handle.TraceID, "a trace of its own")

			send := "deliver thing.made"
			if way == config.BrokerNATS {
				send = "publish thing.made"
			}
			require.Len(t, byName(spans, send), 1, telemetrytest.Names(spans))
			producer := byName(spans, send)[0]
			assert.Equal(t, "producer", producer.Kind)
			assert.Equal(t, "pub", producer.Service)
			assert.True(t, linkedTo(producer, causeTrace, causeSpan))
			assert.Empty(t, producer.ParentID, "the root of the delivery's trace")
			switch way {
			case "in-process":
				assert.Equal(t, producer.SpanID, handle.ParentID)
			case "over HTTP":
				server := byName(spans, "POST /internal/:subscriber/events/batch")
				require.Len(t, server, 1)
				assert.Equal(t, "sub", server[0].Service)
				assert.Equal(t, producer.SpanID, server[0].ParentID)
				assert.Equal(t, server[0].SpanID, handle.ParentID)
			case config.BrokerNATS:
				assert.Empty(t, handle.ParentID, "the consumer's handling starts a trace")
			}
		})
	}
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

// A trace context that is not one is dropped, never stored as it came.
func TestAMalformedTraceContextIsDropped(t *testing.T) {
	raw := []byte(`{"id":"0196d6c4-7c1e-7000-8000-000000000001","type":"thing.made","aggregate_id":"a","source":"pub",` +
		`"payload":{"n":1},"occurred_at":"2026-01-01T00:00:00Z","traceparent":"00-zz-not-it\u0000","tracestate":"x=1"}`)
	e, err := events.DecodeEvent(raw)
	require.NoError(t, err)
	assert.Empty(t, e.TraceParent)
	assert.Empty(t, e.TraceState)
	assert.False(t, e.Cause().IsValid())
}

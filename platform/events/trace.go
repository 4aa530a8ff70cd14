package events

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/telemetry"
)

// Tracing an event: the outbox row carries the W3C trace context of the
// transaction that wrote it (Event.TraceParent, TraceState), and so do the
// HTTP delivery body and, as message headers, a NATS message. Each relay
// delivery (or publish) is a PRODUCER span of the publisher, and each
// handling a CONSUMER span of the subscriber; both are linked to the
// change that caused them rather than made its children, since they
// happen later, are retried, and belong to no request. A relay delivers a
// batch at once, in one span linked to every event's change; the
// subscriber still handles each event in a span of its own.

// Span attributes of event delivery.
const (
	AttrSubscriber = attribute.Key("mitosis.subscriber")
	// AttrAttempt is the attempt of a delivery: of a batch, the highest
	// among its events.
	AttrAttempt = attribute.Key("mitosis.attempt")
)

// w3c reads and writes traceparent and tracestate only: an event carries
// no baggage.
var w3c = propagation.TraceContext{}

// traceContextOf is the trace context of the span in ctx, as W3C header
// values ("" when ctx has none).
func traceContextOf(ctx context.Context) (parent, state string) {
	c := propagation.MapCarrier{}
	w3c.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}

// Cause is the span the event was written under; not valid when the event
// carries no (or no well-formed) trace context.
func (e Event) Cause() trace.SpanContext {
	if e.TraceParent == "" {
		return trace.SpanContext{}
	}
	c := propagation.MapCarrier{"traceparent": e.TraceParent, "tracestate": e.TraceState}
	return trace.SpanContextFromContext(w3c.Extract(context.Background(), c))
}

// withCleanTrace keeps a received event's trace context only when it is
// well formed, rewritten by the propagator: what came over the wire is
// never stored or passed on as it was sent.
func (e Event) withCleanTrace() Event {
	e.TraceParent, e.TraceState = traceContextOf(trace.ContextWithRemoteSpanContext(context.Background(), e.Cause()))
	return e
}

// withHeaderTrace takes the trace context of a NATS message's headers,
// where the relay put it, over the one in its body.
func (e Event) withHeaderTrace(h nats.Header) Event {
	if p := h.Get("traceparent"); p != "" {
		e.TraceParent, e.TraceState = p, h.Get("tracestate")
	}
	return e.withCleanTrace()
}

// traceHeaders are the NATS headers carrying e's trace context.
func traceHeaders(e Event) nats.Header {
	h := nats.Header{}
	if e.TraceParent != "" {
		h.Set("traceparent", e.TraceParent)
		if e.TraceState != "" {
			h.Set("tracestate", e.TraceState)
		}
	}
	return h
}

// Traced makes the relay's deliveries spans of t.
func (r *Relay) Traced(t *telemetry.Tracing) *Relay {
	r.tracing = t
	return r
}

// Traced makes the bus's handlings spans of t.
func (b *Bus) Traced(t *telemetry.Tracing) *Bus {
	b.tracing = t
	return b
}

// Traced makes the broker's publishes spans of t.
func (b *Broker) Traced(t *telemetry.Tracing) *Broker {
	b.tracing = t
	return b
}

// startEventSpan starts a new trace for one step of e's journey, linked
// to its cause.
func startEventSpan(ctx context.Context, tracer trace.Tracer, name string, kind trace.SpanKind, e Event, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithAttributes(append(attrs,
		semconv.MessagingDestinationName(e.Type), semconv.MessagingMessageID(e.ID))...)}
	if cause := e.Cause(); cause.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: cause}))
	}
	return tracer.Start(ctx, name, opts...)
}

// deliverTraced is one delivery attempt of a subscriber's share of a
// batch, as one span of the publishing module: the root of a trace, linked
// to the change behind each of its events, which the subscriber's handling
// of each event joins (in-process, or over HTTP through the traceparent
// header). A batch of one is named and marked as its event.
func (r *Relay) deliverTraced(ctx context.Context, subscriber string, group []due) []error {
	batch := make([]Event, len(group))
	var types []string
	attempt := 0
	links := make([]trace.Link, 0, len(group))
	for i, d := range group {
		batch[i] = d.Event
		if !slices.Contains(types, d.Type) {
			types = append(types, d.Type)
		}
		attempt = max(attempt, d.Attempts+1)
		if cause := d.Cause(); cause.IsValid() && !slices.ContainsFunc(links, func(l trace.Link) bool { return l.SpanContext.Equal(cause) }) {
			links = append(links, trace.Link{SpanContext: cause})
		}
	}
	slices.Sort(types)
	attrs := []attribute.KeyValue{semconv.MessagingOperationTypeSend, AttrSubscriber.String(subscriber), AttrAttempt.Int(attempt),
		semconv.MessagingDestinationName(strings.Join(types, ","))}
	if len(group) == 1 {
		attrs = append(attrs, semconv.MessagingMessageID(group[0].ID))
	} else {
		attrs = append(attrs, semconv.MessagingBatchMessageCount(len(group)))
	}
	ctx, span := r.tracing.Tracer(r.module).Start(telemetry.Detached(ctx), "deliver "+strings.Join(types, ","),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...), trace.WithLinks(links...))
	errs := r.deliver(ctx, subscriber, batch)
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		span.SetStatus(codes.Error, fmt.Sprintf("%d of %d failed", failed, len(errs)))
	}
	span.End()
	return errs
}

// startHandle starts the subscriber's span of handling e: a child of the
// delivery that brought it (if any), linked to its cause.
func (b *Bus) startHandle(ctx context.Context, module string, e Event) (context.Context, trace.Span) {
	return startEventSpan(ctx, b.tracing.Tracer(module), "handle "+e.Type, trace.SpanKindConsumer, e,
		semconv.MessagingOperationTypeProcess, AttrSubscriber.String(module))
}

// startPublish starts the span of publishing e to the stream: the root
// of a trace of the publishing module, linked to its cause.
func (b *Broker) startPublish(ctx context.Context, module string, e Event) (context.Context, trace.Span) {
	return startEventSpan(telemetry.Detached(ctx), b.tracing.Tracer(module), "publish "+e.Type, trace.SpanKindProducer, e,
		semconv.MessagingSystemKey.String("nats"), semconv.MessagingOperationTypeSend)
}

func endEventSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}

package app

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"mitosis/modules/orders"
)

// Attributes of the saga's spans.
const (
	attrOrderID = attribute.Key("mitosis.order_id")
	attrStep    = attribute.Key("mitosis.saga.step")
	attrAttempt = attribute.Key("mitosis.saga.attempt")
	attrOutcome = attribute.Key("mitosis.saga.outcome")
)

// Traced makes each saga step a span of tracer ("saga charge"), and each
// saga the recovery worker resumes the root of a trace ("saga recover").
func (s *Service) Traced(tracer trace.Tracer) *Service {
	s.tracer = tracer
	return s
}

func (s *Service) tracerOrNoop() trace.Tracer {
	if s.tracer == nil {
		return noop.NewTracerProvider().Tracer("")
	}
	return s.tracer
}

// startStep starts the span of one step, its outcome's record included.
func (s *Service) startStep(ctx context.Context, sg saga) (context.Context, trace.Span) {
	return s.tracerOrNoop().Start(ctx, "saga "+sg.Step, trace.WithAttributes(
		attrOrderID.String(sg.OrderID), attrStep.String(sg.Step), attrAttempt.Int(sg.Attempts+1)))
}

// endStep ends a step's span: a step to be retried is an error (a
// dependency did not answer); one that failed for good is an outcome.
func endStep(span trace.Span, out outcome, err error) {
	span.SetAttributes(attrOutcome.String(out.Outcome))
	if out.Outcome == orders.OutcomeRetrying || err != nil {
		span.SetStatus(codes.Error, out.Detail)
	}
	span.End()
}

// startRecovery starts the trace of a saga the worker resumes, linked to
// the request that started the saga's run.
func (s *Service) startRecovery(ctx context.Context, sg saga) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithAttributes(attrOrderID.String(sg.OrderID), attrStep.String(sg.Step))}
	if cause := spanContextOf(sg.TraceParent); cause.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: cause}))
	}
	return s.tracerOrNoop().Start(ctx, "saga recover", opts...)
}

// traceParentOf is the W3C traceparent of ctx's span ("" if none).
func traceParentOf(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

func spanContextOf(traceParent string) trace.SpanContext {
	if traceParent == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceParent})
	return trace.SpanContextFromContext(ctx)
}

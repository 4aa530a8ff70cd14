package contract

import (
	"context"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/auth"
	"mitosis/platform/telemetry"
)

// Attributes of a contract call's spans, named "<callee>.<Method>" in
// every topology: INTERNAL when the callee is in-process, CLIENT (the
// caller's) and SERVER (the callee's) when it is remote.
const (
	AttrCaller    = attribute.Key("mitosis.caller")
	AttrCallee    = attribute.Key("mitosis.callee")
	AttrMethod    = attribute.Key("mitosis.method")
	AttrTransport = attribute.Key("mitosis.transport")
)

// Option configures a Registry.
type Option func(*Registry)

// Traced makes the stubs bound in the registry trace their calls with t.
// With tracing on, in-process calls too go through Call (Local reports
// false), which makes their INTERNAL span; off, they stay one interface
// call from the implementation, remote calls make no span, and the
// caller's (unsampled) ids still cross the wire.
func Traced(t *telemetry.Tracing) Option { return func(r *Registry) { r.tracing = t } }

// callSpan is what a conn needs to start the span of one method: fixed
// when the conn is built, so a call allocates nothing for it but the span.
type callSpan struct {
	name   string
	tracer trace.Tracer
	opts   []trace.SpanStartOption
}

// spans builds the span of every method, or nil when nothing is recorded
// (no tracing, or TRACING=off, where a remote call's traceparent is then
// its caller's span, which carries the ids on as well): the callee's
// tracer in-process, the caller's over HTTP.
//
// A strict in-process call (LOCAL_CALLS=strict) has the spans of an HTTP
// call, a CLIENT span and the served route's SERVER span, with transport
// local: internal is true only for a direct in-process call.
func (c *Contract[S]) spans(caller string, internal bool, via string, reg *Registry) []callSpan {
	if !reg.tracing.On() {
		return nil
	}
	kind, service := trace.SpanKindClient, caller
	if internal {
		kind, service = trace.SpanKindInternal, c.module
	}
	if service == "" {
		service = telemetry.ProcessService
	}
	tracer := reg.tracing.Tracer(service)
	out := make([]callSpan, len(c.methods))
	for i, m := range c.methods {
		attrs := []attribute.KeyValue{AttrCallee.String(c.module), AttrMethod.String(m.name), AttrTransport.String(via)}
		if caller != "" {
			attrs = append(attrs, AttrCaller.String(caller))
		}
		out[i] = callSpan{name: c.module + "." + m.name, tracer: tracer,
			opts: []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithAttributes(attrs...)}}
	}
	return out
}

// startSpan starts the span of method i, if the conn traces.
func (c *conn[S]) startSpan(ctx context.Context, i int) (context.Context, trace.Span) {
	if c.spans == nil {
		return ctx, nil
	}
	s := &c.spans[i]
	return s.tracer.Start(ctx, s.name, s.opts...)
}

// endSpan ends a call's span, with its error's code when it failed.
func endSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		failed(span, err)
	}
	span.End()
}

func failed(span trace.Span, err error) {
	code := Code(err)
	span.SetAttributes(semconv.ErrorTypeKey.String(code))
	span.SetStatus(codes.Error, code)
}

// serveSpan names the SERVER span of an internal route after the contract
// method it serves, so a remote call's two spans carry the same name as
// the in-process call's one, and records who called and how it ended.
func serveSpan(module, method string, h echo.HandlerFunc) echo.HandlerFunc {
	name := module + "." + method
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		span := trace.SpanFromContext(ctx)
		if !span.IsRecording() {
			return h(c)
		}
		span.SetName(name)
		span.SetAttributes(AttrCallee.String(module), AttrMethod.String(method), AttrTransport.String(TransportHTTP))
		if caller := auth.Caller(ctx); caller != "" {
			span.SetAttributes(AttrCaller.String(caller))
		}
		err := h(c)
		if err != nil {
			failed(span, err)
		}
		return err
	}
}

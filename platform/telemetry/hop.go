package telemetry

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Propagator carries W3C traceparent, tracestate and baggage on every
// call between modules: the only format spoken, so it is fixed here.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// The x-trace-* headers every answer carries (kept from the seed
// project): the trace id, the module that answered, and how many module
// hops from the edge it was reached at. DepthHeader also goes out on every
// call a module makes, holding the caller's depth.
const (
	TraceIDHeader = "X-Trace-Id"
	ServiceHeader = "X-Trace-Service"
	DepthHeader   = "X-Trace-Depth"
)

// maxDepth bounds a depth read from a caller: longer chains are not ours.
const maxDepth = 64

// Hop is where a request is handled: the module that owns its route (or
// ProcessService), and its depth, 0 at the edge and one more per hop
// between processes. Log handlers may read it beside the span context.
type Hop struct {
	Service string
	Depth   int
}

type hopKey struct{}

// WithHop stores the request's hop for its handlers and outgoing calls.
func WithHop(ctx context.Context, h Hop) context.Context {
	return context.WithValue(ctx, hopKey{}, h)
}

// HopFrom returns the hop stored by WithHop, or the request scope's (the
// zero Hop if none: a background job is at the edge).
func HopFrom(ctx context.Context) Hop {
	if h, ok := ctx.Value(hopKey{}).(Hop); ok {
		return h
	}
	if s := ScopeFrom(ctx); s != nil {
		return s.Hop
	}
	return Hop{}
}

// IncomingDepth is the depth of a request whose caller sent raw as its
// own depth: one more, or 0 (the edge) when raw is absent or not a depth.
func IncomingDepth(raw string) int {
	if raw == "" {
		return 0
	}
	d, err := strconv.Atoi(raw)
	if err != nil || d < 0 || d >= maxDepth {
		return 0
	}
	return d + 1
}

// Inject writes ctx's trace context, baggage and depth into the headers
// of an outgoing call. What a client sent is replaced, never passed on.
func Inject(ctx context.Context, h http.Header) {
	for _, k := range []string{"Traceparent", "Tracestate", "Baggage", TraceIDHeader} {
		delete(h, k)
	}
	Propagator.Inject(ctx, Carrier(h))
	h[DepthHeader] = DepthValue(HopFrom(ctx).Depth)
}

// depthValues are the header values of the depths a request may have,
// made once: every call and every answer carries one.
var depthValues = func() (v [maxDepth + 1][]string) {
	for d := range v {
		v[d] = []string{strconv.Itoa(d)}
	}
	return v
}()

// DepthValue is depth as a header's values, shared: a header's values are
// replaced or grown, never written into, so one slice serves every
// request (a full slice grows into a new array).
func DepthValue(depth int) []string {
	if depth >= 0 && depth < len(depthValues) {
		return depthValues[depth]
	}
	return []string{strconv.Itoa(depth)}
}

// Extract reads a caller's trace context and baggage from h into ctx.
func Extract(ctx context.Context, h http.Header) context.Context {
	return Propagator.Extract(ctx, Carrier(h))
}

// Carrier is h as the propagators read and write it. The W3C names are
// looked up in their canonical form directly: http.Header would build
// that form anew for every Get and Set, one allocation each, on every
// call between modules.
type Carrier http.Header

var canonical = map[string]string{"traceparent": "Traceparent", "tracestate": "Tracestate", "baggage": "Baggage"}

func (c Carrier) key(k string) string {
	if ck, ok := canonical[k]; ok {
		return ck
	}
	return http.CanonicalHeaderKey(k)
}

// Get returns the first value of key.
func (c Carrier) Get(key string) string {
	if v := c[c.key(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key.
func (c Carrier) Set(key, value string) { c[c.key(key)] = []string{value} }

// Keys lists the header names.
func (c Carrier) Keys() []string { return propagation.HeaderCarrier(c).Keys() }

// Detached is ctx without its span: work started under it (a cache
// refresh that serves every waiting request) belongs to no request's trace.
func Detached(ctx context.Context) context.Context {
	return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
}

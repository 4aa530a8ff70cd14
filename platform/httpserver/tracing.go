package httpserver

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
)

// AttrUntrustedTraceID records an incoming x-trace-id that was not a trace
// id, on the fresh trace started instead.
const AttrUntrustedTraceID = attribute.Key("mitosis.incoming_trace_id")

// Traced wraps the server's handler in a SERVER span per request, made by
// otelhttp with the tracer of the module that owns the route, so each
// module is its own service whichever process serves it. Before the span
// starts it reads the caller's trace context (W3C traceparent and
// baggage), or an x-trace-id sent without one, and the caller's depth.
// The span is named by the route template once echo has routed
// (routeSpan), and an internal contract route names it after its method.
func Traced(next http.Handler, t *telemetry.Tracing, place topology.Placement) http.Handler {
	o := newOwners(place)
	h := &traced{owners: o, next: next, by: map[string]http.Handler{}}
	if !t.On() {
		h.unrecorded = t.UnrecordedSpan
		// Nothing is recorded: the span only carries the ids, without
		// otelhttp's attributes and response wrappers.
		return h
	}
	for _, service := range o.services() {
		h.by[service] = otelhttp.NewHandler(next, "",
			otelhttp.WithTracerProvider(t.Provider(service)),
			// Extracted below, where an x-trace-id can stand in for it.
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
			// Metrics are not this middleware's job.
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return spanMethod(r.Method) }),
		)
	}
	return h
}

type traced struct {
	owners *owners
	next   http.Handler
	by     map[string]http.Handler // otelhttp, by service, when tracing is on
	// unrecorded is set when tracing is off: the request's span only
	// carries the ids on (Tracing.UnrecordedSpan).
	unrecorded func(context.Context) context.Context
}

type untrustedKey struct{}

func (h *traced) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	service := h.owners.of(r.URL.Path)
	ctx := telemetry.Extract(r.Context(), r.Header)
	if !trace.SpanContextFromContext(ctx).IsValid() {
		// The seed's x-trace-id: honoured only when it is a trace id.
		if raw := r.Header.Get(telemetry.TraceIDHeader); raw != "" {
			if id, ok := telemetry.ParseTraceID(raw); ok {
				ctx = telemetry.WithTraceID(ctx, id)
			} else {
				ctx = context.WithValue(ctx, untrustedKey{}, telemetry.Untrusted(raw))
			}
		}
	}
	ctx = telemetry.WithScope(ctx, &telemetry.RequestScope{
		Hop: telemetry.Hop{Service: service, Depth: telemetry.IncomingDepth(r.Header.Get(telemetry.DepthHeader))},
	})
	if h.unrecorded != nil {
		h.next.ServeHTTP(w, r.WithContext(h.unrecorded(ctx)))
		return
	}
	h.by[service].ServeHTTP(w, r.WithContext(ctx))
}

// traceHeaders answers every request with x-trace-id, x-trace-service and
// x-trace-depth. A proxied answer keeps the ones of the module behind the
// proxy, which is the module that answered. Registered with Pre, so the
// answers of early middleware (a 429, a hidden route's 404) carry them.
func traceHeaders() echo.MiddlewareFunc {
	services := &headerValues{by: map[string][]string{}}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			sc := trace.SpanContextFromContext(ctx)
			if !sc.IsValid() {
				return next(c) // served without Traced (tests)
			}
			if raw, ok := ctx.Value(untrustedKey{}).(string); ok {
				trace.SpanFromContext(ctx).SetAttributes(AttrUntrustedTraceID.String(raw))
			}
			res := c.Response()
			res.Before(func() {
				h := res.Header()
				if h.Get(telemetry.TraceIDHeader) != "" {
					return
				}
				hop := telemetry.HopFrom(ctx)
				// The names are canonical: assigned directly, without Set's
				// copy; the service's and the depth's values are shared (see
				// telemetry.DepthValue).
				h[telemetry.TraceIDHeader] = []string{sc.TraceID().String()}
				h[telemetry.ServiceHeader] = services.of(hop.Service)
				h[telemetry.DepthHeader] = telemetry.DepthValue(hop.Depth)
			})
			return next(c)
		}
	}
}

// headerValues makes the values of a header once per value: x-trace-service
// names one of a few services.
type headerValues struct {
	mu sync.RWMutex
	by map[string][]string
}

// maxHeaderValues bounds the values kept (services are a handful).
const maxHeaderValues = 256

func (hv *headerValues) of(v string) []string {
	hv.mu.RLock()
	values, ok := hv.by[v]
	hv.mu.RUnlock()
	if ok {
		return values
	}
	values = []string{v}
	hv.mu.Lock()
	if len(hv.by) < maxHeaderValues {
		hv.by[v] = values
	}
	hv.mu.Unlock()
	return values
}

// routeSpan names the SERVER span "METHOD route" with echo's route
// template, never the raw path, once the request is routed.
func routeSpan(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		span := trace.SpanFromContext(c.Request().Context())
		if route := c.Path(); route != "" && span.IsRecording() {
			span.SetName(spanMethod(c.Request().Method) + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		return next(c)
	}
}

// spanMethod keeps span names to the known methods: a client's made-up
// method is "HTTP", as the semantic conventions say.
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "HTTP"
}

// owners says which service answers a path: the local module whose route
// prefix matches it longest, the module of an /internal/<module>/ path,
// the proxying module (the gateway) for a module that runs elsewhere, and
// the process for anything else (health, documents, unknown paths).
type owners struct {
	local  map[string]bool
	proxy  string
	routes []ownedRoute // longest first
}

type ownedRoute struct {
	segments []string
	module   string
}

func newOwners(place topology.Placement) *owners {
	o := &owners{local: map[string]bool{}}
	for _, name := range place.Local() {
		o.local[name] = true
	}
	for _, m := range place.Modules() {
		if m.Proxies && o.local[m.Name] {
			o.proxy = m.Name
		}
		for _, r := range m.Routes {
			o.routes = append(o.routes, ownedRoute{segments: strings.Split(strings.Trim(r, "/"), "/"), module: m.Name})
		}
	}
	sort.SliceStable(o.routes, func(i, j int) bool { return len(o.routes[i].segments) > len(o.routes[j].segments) })
	return o
}

// services lists every service a request may be answered as.
func (o *owners) services() []string {
	out := []string{telemetry.ProcessService}
	for name := range o.local {
		out = append(out, name)
	}
	return out
}

func (o *owners) of(path string) string {
	if rest, ok := strings.CutPrefix(path, "/internal/"); ok {
		module, _, _ := strings.Cut(rest, "/")
		if o.local[module] {
			return module
		}
		return telemetry.ProcessService
	}
	for _, r := range o.routes {
		if !matches(r.segments, path) {
			continue
		}
		switch {
		case o.local[r.module]:
			return r.module
		case o.proxy != "":
			return o.proxy
		}
		return telemetry.ProcessService
	}
	return telemetry.ProcessService
}

// matches reports whether path starts with the route's segments, a
// ":name" segment matching any one.
func matches(segments []string, path string) bool {
	rest := strings.TrimPrefix(path, "/")
	for _, want := range segments {
		if rest == "" && want != "" {
			return false
		}
		got, tail, _ := strings.Cut(rest, "/")
		if got != want && !(strings.HasPrefix(want, ":") && got != "") {
			return false
		}
		rest = tail
	}
	return true
}

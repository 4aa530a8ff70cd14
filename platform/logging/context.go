package logging

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/telemetry"
	"mitosis/platform/transport"
)

// Keys of the request-scoped attributes.
const (
	KeyTraceID   = "trace_id"
	KeySpanID    = "span_id"
	KeyRequestID = "request_id"
	KeyModule    = "module"
)

type moduleKey struct{}

// WithModule records in ctx the module a request is for (the owner of its
// route), for lines logged without a module's own logger.
func WithModule(ctx context.Context, module string) context.Context {
	return context.WithValue(ctx, moduleKey{}, module)
}

// Module is the module WithModule recorded, or the request scope's, or "".
func Module(ctx context.Context) string {
	if m, ok := ctx.Value(moduleKey{}).(string); ok {
		return m
	}
	if s := telemetry.ScopeFrom(ctx); s != nil {
		return s.Module
	}
	return ""
}

// Handler adds the request's ids to every line logged with its context:
// the trace and span of the current span (once tracing makes spans), the
// request id, and the module, unless the logger already names its own.
type Handler struct {
	inner     slog.Handler
	hasModule bool // the logger's own attributes name a module
}

// NewHandler wraps inner.
func NewHandler(inner slog.Handler) *Handler { return &Handler{inner: inner} }

// Enabled reports whether inner logs at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle adds the context's attributes and passes the line on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.inner.Handle(ctx, r)
	}
	var attrs [4]slog.Attr
	n := 0
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs[0], attrs[1] = slog.String(KeyTraceID, sc.TraceID().String()), slog.String(KeySpanID, sc.SpanID().String())
		n = 2
	}
	if id := transport.RequestID(ctx); id != "" {
		attrs[n] = slog.String(KeyRequestID, id)
		n++
	}
	if m := Module(ctx); m != "" && !h.hasModule {
		attrs[n] = slog.String(KeyModule, m)
		n++
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(attrs[:n]...)
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs remembers whether the attributes name the logger's module.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := h.hasModule
	for _, a := range attrs {
		has = has || a.Key == KeyModule
	}
	return &Handler{inner: h.inner.WithAttrs(attrs), hasModule: has}
}

// WithGroup opens a group on inner.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), hasModule: h.hasModule}
}

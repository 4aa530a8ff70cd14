package transport

import (
	"context"

	"mitosis/platform/telemetry"
)

type requestIDKey struct{}

// WithRequestID stores the request id for outgoing calls.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id stored by WithRequestID, or the request
// scope's, or "".
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		return id
	}
	if s := telemetry.ScopeFrom(ctx); s != nil {
		return s.RequestID
	}
	return ""
}

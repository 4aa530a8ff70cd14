package telemetry

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// idGenerator makes random ids, except for the first new trace started
// under WithTraceID: that one takes the id a caller sent as x-trace-id.
type idGenerator struct{}

// wantedTraceID is used once: spans started later under the same context
// as new roots (a fetch that outlives the request) get ids of their own.
type wantedTraceID struct {
	id   trace.TraceID
	used atomic.Bool
}

type wantedKey struct{}

// WithTraceID makes the next new trace started under ctx take id.
func WithTraceID(ctx context.Context, id trace.TraceID) context.Context {
	return context.WithValue(ctx, wantedKey{}, &wantedTraceID{id: id})
}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if w, ok := ctx.Value(wantedKey{}).(*wantedTraceID); ok && w.used.CompareAndSwap(false, true) {
		return w.id, newSpanID()
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, newSpanID()
}

// UnrecordedSpan returns ctx with the span a served request gets when
// tracing is off: in the caller's trace (or the one WithTraceID asked for,
// or a new one), with a span id of its own, not sampled and recording
// nothing, as the SDK's span under NeverSample is, without the SDK's
// start (its options, sampler and checks of the parent span) on every
// request. Its End does nothing, as that span's.
func UnrecordedSpan(ctx context.Context) context.Context {
	parent := trace.SpanContextFromContext(ctx)
	var tid trace.TraceID
	var sid trace.SpanID
	if parent.TraceID().IsValid() {
		tid, sid = parent.TraceID(), newSpanID()
	} else {
		tid, sid = idGenerator{}.NewIDs(ctx)
	}
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    tid,
		SpanID:     sid,
		TraceFlags: parent.TraceFlags() &^ trace.FlagsSampled,
		TraceState: parent.TraceState(),
	}))
}

// UnrecordedSpan is the package's UnrecordedSpan for a process whose
// tracing is off; with no Tracing at all (nil, as in tests) ctx goes on
// as it came, as the no-op tracer of a nil Tracing passes it.
func (t *Tracing) UnrecordedSpan(ctx context.Context) context.Context {
	if t == nil {
		return ctx
	}
	return UnrecordedSpan(ctx)
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}

// ParseTraceID reads an x-trace-id: 32 hexadecimal digits (either case),
// not all zero. Anything else is refused.
func ParseTraceID(s string) (trace.TraceID, bool) {
	if len(s) != 32 {
		return trace.TraceID{}, false
	}
	id, err := trace.TraceIDFromHex(strings.ToLower(s))
	return id, err == nil && id.IsValid()
}

// maxUntrusted is how much of an unusable x-trace-id a span records.
const maxUntrusted = 64

// Untrusted is an incoming header value fit to record as an attribute:
// at most 64 bytes, anything but letters, digits, '-' and '_' replaced, so
// a client cannot grow spans or smuggle control characters into them.
func Untrusted(s string) string {
	if len(s) > maxUntrusted {
		s = s[:maxUntrusted]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '?'
	}, s)
}

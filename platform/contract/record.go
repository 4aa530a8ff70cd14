package contract

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// What `app advise` needs is more than the counters: the bytes a call
// carries, how long it takes in-process, and which calls each incoming
// request makes (how many times, how deeply nested). Measuring that on
// every call would cost more than the call, so one request in
// RecordEvery is recorded in full: while such a request is in flight the
// stubs leave their fast path (Local reports false) and go through Call,
// which finds the request's record in the context. Every other call pays
// one atomic load.

// RecordEvery makes the registry record one public request in n (0: none)
// in full; see Registry.Record.
func RecordEvery(n uint64) Option { return func(r *Registry) { r.recordEvery = n } }

// RecentCalls is how many timed calls each edge keeps the duration of,
// the newest replacing the oldest: a median of what one call takes, which
// the total (Seconds) cannot give, for a reader comparing one placement's
// calls with another's.
const RecentCalls = 256

// sample is what the recorded calls of one edge carried and took.
type sample struct {
	calls, nanos                       atomic.Uint64
	sized, requestBytes, responseBytes atomic.Uint64
	// recent holds the nanoseconds of the last RecentCalls timed calls,
	// the call numbered n (from 0, in calls) at n % RecentCalls: a lock-free
	// ring, each slot read and written whole.
	recent [RecentCalls]atomic.Int64
}

// Sample is what one edge's timed calls took and carried, at one moment.
type Sample struct {
	// Calls is how many calls were timed (over HTTP every call; in-process
	// only those made while a request was recorded), and Seconds their
	// total duration.
	Calls   uint64  `json:"calls"`
	Seconds float64 `json:"seconds"`
	// Sized is how many of them were part of a recorded request, whose
	// values were encoded to count RequestBytes and ResponseBytes (their
	// JSON, in total, as the transport's codec sends it).
	Sized         uint64 `json:"sized"`
	RequestBytes  uint64 `json:"request_bytes"`
	ResponseBytes uint64 `json:"response_bytes"`
	// Recent are the durations of the last RecentCalls timed calls, in
	// seconds, oldest first. A call still being written when they are read
	// may show its predecessor's duration in its slot: a sample, not a log.
	Recent []float64 `json:"recent_seconds"`
}

func (s *sample) snapshot() Sample {
	out := Sample{Calls: s.calls.Load(), Seconds: time.Duration(s.nanos.Load()).Seconds(),
		Sized: s.sized.Load(), RequestBytes: s.requestBytes.Load(), ResponseBytes: s.responseBytes.Load()}
	n := min(out.Calls, RecentCalls)
	out.Recent = make([]float64, 0, n)
	for i := out.Calls - n; i < out.Calls; i++ {
		out.Recent = append(out.Recent, time.Duration(s.recent[i%RecentCalls].Load()).Seconds())
	}
	return out
}

// requestRecord gathers the calls of one recorded request, from whichever
// goroutine makes them.
type requestRecord struct {
	mu       sync.Mutex
	calls    map[*Edge]uint32
	maxDepth int
}

// frame is the context value of a recorded request: its record and how
// deeply nested the current call is (0 in the request's handler).
type frame struct {
	rec   *requestRecord
	depth int
}

type frameKey struct{}

// recordingOn reports whether any request is being recorded, which sends
// the stubs' calls through Call.
func (r *Registry) recordingOn() bool { return r.inFlight.Load() > 0 }

// enter notes a call of e made under ctx, when ctx is a recorded request,
// and returns the context of the callee, one level deeper.
func enter(ctx context.Context, e *Edge) (context.Context, *frame) {
	f, ok := ctx.Value(frameKey{}).(*frame)
	if !ok {
		return ctx, nil
	}
	inner := &frame{rec: f.rec, depth: f.depth + 1}
	f.rec.mu.Lock()
	f.rec.calls[e]++
	f.rec.maxDepth = max(f.rec.maxDepth, inner.depth)
	f.rec.mu.Unlock()
	return context.WithValue(ctx, frameKey{}, inner), inner
}

// observe adds the duration of a call made through Call to its edge's
// sample, and to its histogram over HTTP.
func (e *Edge) observe(d time.Duration) {
	d = max(d, 0)
	n := e.sample.calls.Add(1) - 1
	e.sample.recent[n%RecentCalls].Store(int64(d))
	e.sample.nanos.Add(uint64(d))
	if e.latency != nil {
		e.latency.observe(d)
	}
}

// size adds the encoded size of a recorded call's values to its edge's
// sample: only recorded calls are sized, as encoding costs more than an
// in-process call.
func (e *Edge) size(in, out any) {
	e.sample.requestBytes.Add(encodedSize(in))
	e.sample.responseBytes.Add(encodedSize(out))
	e.sample.sized.Add(1)
}

// encodedSize is the length of v in JSON, as the transport's codec sends it.
func encodedSize(v any) uint64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return uint64(len(b))
}

package contract

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
	"mitosis/platform/transport"
)

// OtherCode counts the failures whose code the callee's contract does not
// declare, so a remote's unexpected code cannot grow the label set.
const OtherCode = "other"

// Registry holds the edges of this process: one per calling module,
// callee method and transport. Metrics and the console read it; calls only
// add to counters created when a stub is bound.
type Registry struct {
	mu      sync.RWMutex // routes are looked up on every request: read-locked
	edges   map[edgeKey]*Edge
	tracing *telemetry.Tracing  // nil: calls are not traced
	loop    *transport.Loopback // nil: in-process calls are direct (see Strict)

	// Requests recorded in full (record.go, routes.go).
	recordEvery uint64       // 0: none
	inFlight    atomic.Int64 // recorded requests being served
	// started and serving count every routed request (started ever, being
	// served now), for a recorded request's overlap.
	started atomic.Uint64
	serving atomic.Int64
	routes  map[routeKey]*route
}

type edgeKey struct{ caller, callee, method, transport string }

// NewRegistry returns an empty registry.
func NewRegistry(opts ...Option) *Registry {
	r := &Registry{edges: map[edgeKey]*Edge{}, routes: map[routeKey]*route{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Edge counts the calls of one caller to one method over one transport.
type Edge struct {
	Caller, Callee, Method, Transport string

	// ok counts the calls that succeeded; a failed call is counted only
	// under its code, so each call costs one atomic add (the calls are ok
	// plus every failure).
	ok atomic.Uint64
	// failures by code, fixed when the edge is made: the callee's declared
	// codes first (the failures a caller meets most), the shared ones,
	// OtherCode last. A call's sentinel is found by pointer first, which
	// costs less than hashing its code.
	failures []failureCount
	latency  *latency // HTTP edges only
	sample   sample   // the calls made through Call: timed, and sized when recorded
}

type failureCount struct {
	sentinel *problem.Error // nil for OtherCode
	code     string
	n        atomic.Uint64
}

func (r *Registry) edge(caller, callee, method, transport string, errs []*problem.Error) *Edge {
	k := edgeKey{caller, callee, method, transport}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.edges[k]; ok {
		return e
	}
	sentinels := append(append([]*problem.Error{}, errs...), problem.Common...)
	e := &Edge{Caller: caller, Callee: callee, Method: method, Transport: transport,
		failures: make([]failureCount, len(sentinels)+1)}
	for i, pe := range sentinels {
		e.failures[i].sentinel, e.failures[i].code = pe, pe.Code
	}
	e.failures[len(sentinels)].code = OtherCode
	if transport == TransportHTTP {
		e.latency = &latency{}
	}
	r.edges[k] = e
	return e
}

// record counts one call, under its code if it failed. Small enough to
// inline into a stub, so a call that succeeds costs one atomic add.
func (e *Edge) record(err error) {
	if err == nil {
		e.ok.Add(1)
		return
	}
	e.failed(err)
}

// failed counts a failed call under its code.
func (e *Edge) failed(err error) {
	if pe, ok := err.(*problem.Error); ok {
		for i := range e.failures {
			if e.failures[i].sentinel == pe {
				e.failures[i].n.Add(1)
				return
			}
		}
	}
	code := Code(err)
	for i := range e.failures {
		if f := &e.failures[i]; f.code == code || f.sentinel == nil {
			f.n.Add(1)
			return
		}
	}
}

// Code is the stable code of a failed call: the sentinel's, or the
// deadline's and cancellation's, or internal for an uncoded error.
func Code(err error) string {
	// The common case first, without errors.As: a contract's sentinel
	// returned as it is.
	if pe, ok := err.(*problem.Error); ok {
		return pe.Code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return problem.ErrTimeout.Code
	case errors.Is(err, context.Canceled):
		return problem.ErrCanceled.Code
	}
	return problem.CodeOf(err).Code
}

// EdgeCount is one edge's counters at one moment.
type EdgeCount struct {
	Caller    string            `json:"caller"`
	Callee    string            `json:"callee"`
	Method    string            `json:"method"`
	Transport string            `json:"transport"`
	Calls     uint64            `json:"calls"`
	Failures  map[string]uint64 `json:"failures"` // by code; codes never seen are left out
	// Latency is the duration histogram of an HTTP edge (nil in-process).
	Latency *Latency `json:"latency,omitempty"`
	// Sample is what the timed calls took and carried (see Sample).
	Sample Sample `json:"sample"`
}

// Counts lists every edge with its counters, sorted by caller, callee,
// method and transport.
func (r *Registry) Counts() []EdgeCount {
	r.mu.Lock()
	edges := make([]*Edge, 0, len(r.edges))
	for _, e := range r.edges {
		edges = append(edges, e)
	}
	r.mu.Unlock()
	out := make([]EdgeCount, 0, len(edges))
	for _, e := range edges {
		c := EdgeCount{Caller: e.Caller, Callee: e.Callee, Method: e.Method, Transport: e.Transport,
			Calls: e.ok.Load(), Failures: map[string]uint64{}, Sample: e.sample.snapshot()}
		for i := range e.failures {
			if v := e.failures[i].n.Load(); v > 0 {
				c.Failures[e.failures[i].code] = v
				c.Calls += v
			}
		}
		if e.latency != nil {
			c.Latency = e.latency.snapshot(e.sample.nanos.Load())
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Callee != b.Callee {
			return a.Callee < b.Callee
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Transport < b.Transport
	})
	return out
}

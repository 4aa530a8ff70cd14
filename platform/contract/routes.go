package contract

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// RecentRequests is how many recorded requests each route keeps, the
// newest replacing the oldest: the advisor's per-request distributions
// (fan-out, and so the p99 of what a split would add) are read from them.
const RecentRequests = 256

// ProbePrefix starts the routes of the hop probe (see the advise
// package), which are never recorded: they measure the transport, they
// are not traffic.
const ProbePrefix = "/internal/_probe/"

// route gathers the requests of one route template.
type route struct {
	method, path string
	requests     atomic.Uint64

	mu       sync.Mutex
	recorded uint64
	first    time.Time
	last     time.Time
	calls    map[*Edge]*routeEdge
	maxDepth int
	recent   [RecentRequests]RequestSample
	next     int // where the next recorded request goes in recent
}

type routeEdge struct {
	calls, max uint64
}

type routeKey struct{ method, path string }

func (r *Registry) route(method, path string) *route {
	k := routeKey{method, path}
	r.mu.RLock()
	rt, ok := r.routes[k]
	r.mu.RUnlock()
	if ok {
		return rt
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rt, ok = r.routes[k]
	if !ok {
		rt = &route{method: method, path: path, calls: map[*Edge]*routeEdge{}}
		r.routes[k] = rt
	}
	return rt
}

// Record is echo middleware, run after routing: it counts the requests of
// every route (by template, /api/v1/orders/:id, never the raw path) and
// records one in RecordEvery in full, with the contract calls it made,
// how often, and how deeply nested.
func (r *Registry) Record(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		path := c.Path()
		if r.recordEvery == 0 || path == "" || strings.HasPrefix(path, ProbePrefix) {
			return next(c)
		}
		rt := r.route(c.Request().Method, path)
		started := r.started.Add(1)
		r.serving.Add(1)
		defer r.serving.Add(-1)
		if rt.requests.Add(1)%r.recordEvery != 0 {
			return next(c)
		}
		// The requests it overlapped: those being served when it came
		// (itself left out) and those that came before it ended.
		overlap := r.serving.Load() - 1
		rec := &requestRecord{calls: map[*Edge]uint32{}}
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), frameKey{}, &frame{rec: rec})))
		r.inFlight.Add(1)
		start := time.Now()
		err := next(c)
		took := time.Since(start)
		r.inFlight.Add(-1)
		overlap += int64(r.started.Load() - started)
		rt.add(rec, start, took, uint32(max(overlap, 0)))
		return err
	}
}

func (rt *route) add(rec *requestRecord, start time.Time, took time.Duration, overlap uint32) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.recorded == 0 {
		rt.first = start
	}
	rt.recorded++
	rt.last = start.Add(took)
	rt.maxDepth = max(rt.maxDepth, rec.maxDepth)
	s := RequestSample{Seconds: took.Seconds(), Depth: rec.maxDepth, Overlap: overlap}
	for e, n := range rec.calls {
		re, ok := rt.calls[e]
		if !ok {
			re = &routeEdge{}
			rt.calls[e] = re
		}
		re.calls += uint64(n)
		re.max = max(re.max, uint64(n))
		s.Calls = append(s.Calls, EdgeCalls{Caller: e.Caller, Callee: e.Callee, Method: e.Method, N: n})
	}
	sortEdgeCalls(s.Calls)
	rt.recent[rt.next] = s
	rt.next = (rt.next + 1) % RecentRequests
}

// RequestSample is one recorded request: how long it took here, the
// calls it made (nested ones included) and the depth of its call chain
// (1: its handler called a module, which called no other).
type RequestSample struct {
	Seconds float64     `json:"seconds"`
	Depth   int         `json:"depth"`
	Calls   []EdgeCalls `json:"calls"`
	// Overlap counts the other requests this process served while it ran
	// (being served when it came, or come before it ended): how many
	// requests its own work shared the CPUs with, 0 for a client that
	// sends one request at a time.
	Overlap uint32 `json:"overlap"`
}

// EdgeCalls is how many calls of one edge (caller → callee.Method) a
// request made.
type EdgeCalls struct {
	Caller string `json:"caller"`
	Callee string `json:"callee"`
	Method string `json:"method"`
	N      uint32 `json:"n"`
}

// RouteEdge is one edge a route's recorded requests crossed.
type RouteEdge struct {
	Caller    string `json:"caller"`
	Callee    string `json:"callee"`
	Method    string `json:"method"`
	Transport string `json:"transport"`
	// Calls is the total over the recorded requests; MaxPerRequest the
	// most any one of them made.
	Calls         uint64 `json:"calls"`
	MaxPerRequest uint64 `json:"max_per_request"`
}

// RouteRecord is what one route's requests did, at one moment.
type RouteRecord struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	// Requests counts every request; Recorded those recorded in full,
	// between FirstAt and LastAt.
	Requests uint64      `json:"requests"`
	Recorded uint64      `json:"recorded"`
	FirstAt  time.Time   `json:"first_at"`
	LastAt   time.Time   `json:"last_at"`
	MaxDepth int         `json:"max_depth"`
	Edges    []RouteEdge `json:"edges"`
	// Recent are the last RecentRequests recorded requests, oldest first.
	Recent []RequestSample `json:"recent"`
}

// Routes lists every route seen, sorted by route then method.
func (r *Registry) Routes() []RouteRecord {
	r.mu.RLock()
	routes := make([]*route, 0, len(r.routes))
	for _, rt := range r.routes {
		routes = append(routes, rt)
	}
	r.mu.RUnlock()
	out := make([]RouteRecord, 0, len(routes))
	for _, rt := range routes {
		out = append(out, rt.snapshot())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Route != out[j].Route {
			return out[i].Route < out[j].Route
		}
		return out[i].Method < out[j].Method
	})
	return out
}

func (rt *route) snapshot() RouteRecord {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := RouteRecord{Method: rt.method, Route: rt.path, Requests: rt.requests.Load(), Recorded: rt.recorded,
		FirstAt: rt.first.UTC(), LastAt: rt.last.UTC(), MaxDepth: rt.maxDepth, Edges: []RouteEdge{}, Recent: []RequestSample{}}
	for e, re := range rt.calls {
		out.Edges = append(out.Edges, RouteEdge{Caller: e.Caller, Callee: e.Callee, Method: e.Method, Transport: e.Transport,
			Calls: re.calls, MaxPerRequest: re.max})
	}
	sort.Slice(out.Edges, func(i, j int) bool {
		a, b := out.Edges[i], out.Edges[j]
		return edgeName(a.Caller, a.Callee, a.Method) < edgeName(b.Caller, b.Callee, b.Method)
	})
	n := min(rt.recorded, RecentRequests)
	for i := range int(n) {
		out.Recent = append(out.Recent, rt.recent[(rt.next-int(n)+i+RecentRequests)%RecentRequests])
	}
	return out
}

func sortEdgeCalls(calls []EdgeCalls) {
	sort.Slice(calls, func(i, j int) bool {
		a, b := calls[i], calls[j]
		return edgeName(a.Caller, a.Callee, a.Method) < edgeName(b.Caller, b.Callee, b.Method)
	})
}

// edgeName orders the edges of a route's record: caller > callee.Method.
func edgeName(caller, callee, method string) string { return caller + ">" + callee + "." + method }

// MethodPath is the internal route a contract method is served on, for
// readers of the records that join a caller's edge with the callee
// process's route.
func MethodPath(module, method string) string { return "/internal/" + module + "/" + kebab(method) }

package advise

import (
	"runtime"
	"sort"
	"strings"
	"time"

	"mitosis/platform/contract"
)

// Edge names one caller module's calls to one method of a callee.
type Edge struct {
	Caller string `json:"caller"`
	Callee string `json:"callee"`
	Method string `json:"method"`
}

func (e Edge) String() string {
	caller := e.Caller
	if caller == "" {
		caller = "(process)"
	}
	return caller + " → " + e.Callee + "." + e.Method
}

// EdgeSize is what one call of an edge carries, on average.
type EdgeSize struct {
	RequestBytes, ResponseBytes float64
	Known                       bool // false: no recorded call sized it
}

// Route is one public route as the system recorded it.
type Route struct {
	Method string
	Path   string
	// Rate is requests per second while it was recorded.
	Rate     float64
	Requests uint64
	MaxDepth int
	// Samples are recorded requests: the calls each made, nested calls in
	// other processes folded in, and how long each took.
	Samples []Sample
}

// Sample is one recorded request.
type Sample struct {
	Seconds float64
	Calls   map[Edge]float64
	// Overlap is how many other requests its process served while it ran.
	Overlap float64
}

// System is every process's records, merged.
type System struct {
	Modules []string
	// InUse is the placement the records come from: one group per process
	// (replicas of the same group once).
	InUse  [][]string
	Sizes  map[Edge]EdgeSize
	Routes []Route
	// Cores are the CPUs the processes share (this host's, as the
	// advisor sees them): what the added CPU load is a share of.
	Cores int
}

// Merge joins the records of the processes of one system.
func Merge(procs []Process) System {
	s := System{Sizes: map[Edge]EdgeSize{}, Cores: runtime.NumCPU()}
	modules, groups := map[string]bool{}, map[string]bool{}
	sums := map[Edge]*contract.Sample{}
	for _, p := range procs {
		for _, m := range p.Modules {
			modules[m] = true
		}
		g := append([]string{}, p.Services...)
		sort.Strings(g)
		if key := strings.Join(g, ","); !groups[key] && len(g) > 0 {
			groups[key] = true
			s.InUse = append(s.InUse, g)
		}
		for _, e := range p.Edges {
			k := Edge{e.Caller, e.Callee, e.Method}
			sum, ok := sums[k]
			if !ok {
				sum = &contract.Sample{}
				sums[k] = sum
			}
			sum.Sized += e.Sample.Sized
			sum.RequestBytes += e.Sample.RequestBytes
			sum.ResponseBytes += e.Sample.ResponseBytes
		}
	}
	for m := range modules {
		s.Modules = append(s.Modules, m)
	}
	sort.Strings(s.Modules)
	for k, sum := range sums {
		if sum.Sized > 0 {
			s.Sizes[k] = EdgeSize{RequestBytes: float64(sum.RequestBytes) / float64(sum.Sized),
				ResponseBytes: float64(sum.ResponseBytes) / float64(sum.Sized), Known: true}
		}
	}
	nested := nestedCalls(procs)
	byKey := map[string]int{} // replicas, or a route every process serves (/health)
	for _, p := range procs {
		for _, r := range p.Routes {
			if strings.HasPrefix(r.Route, "/internal/") || r.Recorded == 0 {
				continue
			}
			rt := publicRoute(r, nested)
			i, ok := byKey[rt.Method+" "+rt.Path]
			if !ok {
				byKey[rt.Method+" "+rt.Path] = len(s.Routes)
				s.Routes = append(s.Routes, rt)
				continue
			}
			m := &s.Routes[i]
			m.Rate += rt.Rate
			m.Requests += rt.Requests
			m.MaxDepth = max(m.MaxDepth, rt.MaxDepth)
			m.Samples = append(m.Samples, rt.Samples...)
		}
	}
	sort.Slice(s.Routes, func(i, j int) bool {
		if s.Routes[i].Path != s.Routes[j].Path {
			return s.Routes[i].Path < s.Routes[j].Path
		}
		return s.Routes[i].Method < s.Routes[j].Method
	})
	return s
}

// nestedCalls is, for each contract method served over HTTP somewhere,
// the calls one of its requests makes on average in the callee's process:
// what a caller's call of it sets off there.
func nestedCalls(procs []Process) map[string]map[Edge]float64 {
	out := map[string]map[Edge]float64{}
	for _, p := range procs {
		for _, r := range p.Routes {
			if !strings.HasPrefix(r.Route, "/internal/") || r.Recorded == 0 {
				continue
			}
			calls := out[r.Route]
			if calls == nil {
				calls = map[Edge]float64{}
				out[r.Route] = calls
			}
			for _, e := range r.Edges {
				calls[Edge{e.Caller, e.Callee, e.Method}] += float64(e.Calls) / float64(r.Recorded)
			}
		}
	}
	return out
}

func publicRoute(r contract.RouteRecord, nested map[string]map[Edge]float64) Route {
	out := Route{Method: r.Method, Path: r.Route, Requests: r.Requests, MaxDepth: r.MaxDepth}
	if span := r.LastAt.Sub(r.FirstAt); span > time.Second && r.Recorded > 1 {
		// Every request is counted, one in RECORD_EVERY recorded: the span
		// of the recorded ones is the span of the traffic.
		out.Rate = float64(r.Requests) / span.Seconds()
	}
	for _, rs := range r.Recent {
		smp := Sample{Seconds: rs.Seconds, Calls: map[Edge]float64{}, Overlap: float64(rs.Overlap)}
		for _, c := range rs.Calls {
			e := Edge{c.Caller, c.Callee, c.Method}
			smp.Calls[e] += float64(c.N)
			expand(smp.Calls, nested, e, float64(c.N), 0)
		}
		out.Samples = append(out.Samples, smp)
	}
	return out
}

// expand adds the calls n calls of e set off in e's callee, when that runs
// elsewhere and recorded them, and theirs in turn (to a bounded depth: a
// cycle of calls must not recurse for ever).
func expand(calls map[Edge]float64, nested map[string]map[Edge]float64, e Edge, n float64, depth int) {
	if depth > 8 {
		return
	}
	for inner, per := range nested[contract.MethodPath(e.Callee, e.Method)] {
		calls[inner] += n * per
		expand(calls, nested, inner, n*per, depth+1)
	}
}

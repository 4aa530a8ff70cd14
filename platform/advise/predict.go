package advise

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// Report is the advisor's answer.
type Report struct {
	Processes  []string     `json:"processes"`
	HopSource  string       `json:"hop_source"`
	Hops       []Hop        `json:"hops"`
	Candidates []Prediction `json:"candidates"`
}

// Prediction is what one placement would cost, against the one in use.
type Prediction struct {
	Placement
	Routes []RoutePrediction `json:"routes"`
	// CPUSecondsPerSecond is the CPU the added calls over the network
	// would cost (both ends), at the recorded rate of requests.
	CPUSecondsPerSecond float64 `json:"added_cpu_seconds_per_second"`
	// CallsPerSecond and BytesPerSecond would cross the network (all of
	// them, not only the added ones), at the recorded rate.
	CallsPerSecond float64 `json:"network_calls_per_second"`
	BytesPerSecond float64 `json:"network_bytes_per_second"`
	// Expensive are the edges over the network that cost the most (hop
	// latency times calls, at the recorded rate), costliest first, whether
	// they cross already or would.
	Expensive []EdgeCost `json:"expensive"`
	// AddedCPULoad is the share of the host's CPUs the added calls' CPU
	// would take at the recorded rate (CPUSecondsPerSecond over the
	// cores).
	AddedCPULoad float64 `json:"added_cpu_load"`
	// WaitPerOverlap is what the added calls of one other request cost a
	// request that runs beside it: their CPU (the added CPU per request,
	// on average) shared over the cores, stretched by 1/(1−AddedCPULoad).
	// A route's prediction adds it once per request its recorded requests
	// overlapped (see contract.RequestSample.Overlap): a request's own
	// calls are in its hops already, and a client that sends one request
	// at a time makes none wait for another's. Under arrivals at random
	// (overlap ≈ rate × duration) it comes to the recorded time ×
	// load/(1−load).
	WaitPerOverlap float64 `json:"added_wait_per_overlap_seconds"`
	score          float64
}

// RoutePrediction is what a placement would do to one public route.
type RoutePrediction struct {
	Method string  `json:"method"`
	Route  string  `json:"route"`
	Rate   float64 `json:"requests_per_second"`
	// Recorded is how many recorded requests the prediction rests on.
	Recorded int `json:"recorded"`
	// NowP50 and NowP99 are the route's recorded latency in this process.
	NowP50 float64 `json:"now_p50_seconds"`
	NowP99 float64 `json:"now_p99_seconds"`
	// AddedP50 and AddedP99 are the latency the placement would add (a
	// negative figure: save) per request.
	AddedP50 float64 `json:"added_p50_seconds"`
	AddedP99 float64 `json:"added_p99_seconds"`
	// FanOut is the contract calls a request makes, MaxDepth the longest
	// chain of them; CrossingCalls and CrossingBytes those that would go
	// over the network, per request.
	FanOut        float64    `json:"fan_out"`
	MaxDepth      int        `json:"max_depth"`
	CrossingCalls float64    `json:"crossing_calls_per_request"`
	CrossingBytes float64    `json:"crossing_bytes_per_request"`
	Crossing      []EdgeCost `json:"crossing"`
}

// EdgeCost is one edge's share of a placement's cost.
type EdgeCost struct {
	Edge
	// CallsPerRequest (per route) or CallsPerSecond (per placement) cross.
	CallsPerRequest float64 `json:"calls_per_request,omitempty"`
	CallsPerSecond  float64 `json:"calls_per_second,omitempty"`
	BytesPerCall    float64 `json:"bytes_per_call"`
	HopP50          float64 `json:"hop_p50_seconds"`
	// Added is the median latency it adds per request against the
	// placement in use (per route), or the hop latency its calls cost per
	// second of traffic (per placement).
	Added float64 `json:"added_seconds"`
}

// draws is how many simulated requests each route's quantiles rest on.
const draws = 4000

// Advise weighs the candidates, and with separate the cheapest placement
// that separates those modules.
func Advise(ctx context.Context, s System, hops Hops, separate []string) (Report, error) {
	r := Report{HopSource: hops.Source()}
	edgeHop := map[Edge]Hop{}
	seen := map[[2]int]bool{}
	for _, rt := range s.Routes {
		for _, smp := range rt.Samples {
			for e := range smp.Calls {
				if _, ok := edgeHop[e]; ok || e.Caller == "" {
					continue
				}
				h, err := hops.Hop(ctx, s.Sizes[e])
				if err != nil {
					return Report{}, err
				}
				edgeHop[e] = h
				if k := [2]int{h.RequestBytes, h.ResponseBytes}; !seen[k] {
					seen[k] = true
					r.Hops = append(r.Hops, h)
				}
			}
		}
	}
	now := Placement{Groups: normalize(s.InUse)}
	for _, p := range Candidates(s) {
		r.Candidates = append(r.Candidates, predict(s, p, now, edgeHop))
	}
	if len(separate) > 0 {
		options, err := Separating(s, separate)
		if err != nil {
			return Report{}, err
		}
		best := predict(s, options[0], now, edgeHop)
		for _, p := range options[1:] {
			if pr := predict(s, p, now, edgeHop); pr.score < best.score {
				best = pr
			}
		}
		best.Name = "least added latency separating " + joinComma(separate)
		r.Candidates = append(r.Candidates, best)
	}
	return r, nil
}

func predict(s System, p, now Placement, hops map[Edge]Hop) Prediction {
	out := Prediction{Placement: p, Expensive: []EdgeCost{}}
	cand, cur := p.groupOf(), now.groupOf()
	delta := func(e Edge) int { return b2i(crosses(cand, e)) - b2i(crosses(cur, e)) }
	// The added CPU comes first: it delays the requests that run beside
	// the calls (see WaitPerOverlap).
	means := make([]map[Edge]float64, len(s.Routes))
	var rate float64
	for i, rt := range s.Routes {
		means[i] = meanCalls(rt)
		rate += rt.Rate
		for e, n := range means[i] {
			out.CPUSecondsPerSecond += rt.Rate * n * float64(delta(e)) * hops[e].CPUSeconds
		}
	}
	if s.Cores >= 1 {
		out.AddedCPULoad = min(max(out.CPUSecondsPerSecond/float64(s.Cores), -maxLoad), maxLoad)
		if rate > 0 {
			out.WaitPerOverlap = out.CPUSecondsPerSecond / rate / float64(s.Cores) / (1 - out.AddedCPULoad)
		}
	}
	perEdge := map[Edge]*EdgeCost{}
	rng := rand.New(rand.NewPCG(1, 2)) // the same records give the same report
	for i, rt := range s.Routes {
		out.Routes = append(out.Routes, predictRoute(rt, means[i], s.Sizes, hops, cand, delta, out.WaitPerOverlap, rng))
		w := rt.Rate
		if w == 0 {
			w = 1 // no rate known: every route weighs the same
		}
		for e, n := range means[i] {
			h := hops[e]
			out.score += w * n * float64(delta(e)) * h.P50
			if !crosses(cand, e) {
				continue
			}
			out.CallsPerSecond += rt.Rate * n
			out.BytesPerSecond += rt.Rate * n * bytesOf(s.Sizes[e])
			c := perEdge[e]
			if c == nil {
				c = &EdgeCost{Edge: e, BytesPerCall: bytesOf(s.Sizes[e]), HopP50: h.P50}
				perEdge[e] = c
			}
			c.CallsPerSecond += rt.Rate * n
			c.Added += w * n * h.P50
		}
	}
	for _, c := range perEdge {
		out.Expensive = append(out.Expensive, *c)
	}
	sort.Slice(out.Expensive, func(i, j int) bool { return out.Expensive[i].Added > out.Expensive[j].Added })
	if len(out.Expensive) > 3 {
		out.Expensive = out.Expensive[:3]
	}
	return out
}

// meanCalls is the calls a recorded request of rt makes of each edge, on
// average.
func meanCalls(rt Route) map[Edge]float64 {
	mean := map[Edge]float64{}
	for _, smp := range rt.Samples {
		for e, n := range smp.Calls {
			mean[e] += n / float64(len(rt.Samples))
		}
	}
	return mean
}

// predictRoute simulates the route's recorded requests with each crossing
// call's hop drawn from the measured ones; mean is meanCalls(rt).
func predictRoute(rt Route, mean map[Edge]float64, sizes map[Edge]EdgeSize, hops map[Edge]Hop, cand map[string]int,
	delta func(Edge) int, waitPerOverlap float64, rng *rand.Rand) RoutePrediction {
	rp := RoutePrediction{Method: rt.Method, Route: rt.Path, Rate: rt.Rate, Recorded: len(rt.Samples), MaxDepth: rt.MaxDepth,
		Crossing: []EdgeCost{}}
	now := make([]float64, 0, len(rt.Samples))
	for _, smp := range rt.Samples {
		now = append(now, smp.Seconds)
	}
	sort.Float64s(now)
	rp.NowP50, rp.NowP99 = quantile(now, .5), quantile(now, .99)
	for e, n := range mean {
		rp.FanOut += n
		if !crosses(cand, e) {
			continue
		}
		h := hops[e]
		rp.CrossingCalls += n
		rp.CrossingBytes += n * bytesOf(sizes[e])
		rp.Crossing = append(rp.Crossing, EdgeCost{Edge: e, CallsPerRequest: n, BytesPerCall: bytesOf(sizes[e]), HopP50: h.P50,
			Added: n * h.P50 * float64(delta(e))})
	}
	sort.Slice(rp.Crossing, func(i, j int) bool { return rp.Crossing[i].Added > rp.Crossing[j].Added })
	if len(rt.Samples) == 0 {
		return rp
	}
	added := make([]float64, draws)
	for i := range added {
		smp := rt.Samples[i%len(rt.Samples)]
		added[i] += smp.Overlap * waitPerOverlap
		for e, n := range smp.Calls {
			d := delta(e)
			if d == 0 {
				continue
			}
			h := hops[e]
			k := int(n)
			if rng.Float64() < n-math.Floor(n) {
				k++
			}
			for range k {
				added[i] += float64(d) * h.Seconds[rng.IntN(len(h.Seconds))]
			}
		}
	}
	sort.Float64s(added)
	rp.AddedP50, rp.AddedP99 = quantile(added, .5), quantile(added, .99)
	return rp
}

// maxLoad bounds the added CPU load the model weighs: near 1 the queue
// has no steady state and 1/(1−load) says nothing useful.
const maxLoad = 0.9

func bytesOf(s EdgeSize) float64 {
	if !s.Known {
		return 2 * defaultBytes
	}
	return s.RequestBytes + s.ResponseBytes
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func joinComma(list []string) string { return strings.Join(list, ", ") }

package advise

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// Hop is what one contract call over HTTP costs, measured (or given) for
// one size of request and answer.
type Hop struct {
	RequestBytes  int `json:"request_bytes"`
	ResponseBytes int `json:"response_bytes"`
	// Seconds are the measured round trips, sorted (one value when given).
	Seconds []float64 `json:"-"`
	P50     float64   `json:"p50_seconds"`
	P99     float64   `json:"p99_seconds"`
	// CPUSeconds is the CPU one round trip costs, both ends together.
	CPUSeconds float64 `json:"cpu_seconds"`
}

func newHop(reqBytes, respBytes int, seconds []float64, cpu float64) Hop {
	sort.Float64s(seconds)
	return Hop{RequestBytes: reqBytes, ResponseBytes: respBytes, Seconds: seconds,
		P50: quantile(seconds, .5), P99: quantile(seconds, .99), CPUSeconds: cpu}
}

// Hops gives the hop of each edge from its recorded size.
type Hops interface {
	Hop(ctx context.Context, size EdgeSize) (Hop, error)
	// Source says where the figures come from, for the report.
	Source() string
}

// FixedHop is a hop cost read from the user (--hop), not measured.
type FixedHop struct {
	Latency time.Duration
	CPU     time.Duration
}

// Hop returns the given figure whatever the size.
func (f FixedHop) Hop(_ context.Context, size EdgeSize) (Hop, error) {
	return newHop(int(size.RequestBytes), int(size.ResponseBytes), []float64{f.Latency.Seconds()}, f.CPU.Seconds()), nil
}

// Source names the figure.
func (f FixedHop) Source() string {
	return fmt.Sprintf("given: %s a call (--hop), %s of CPU (--hop-cpu)", f.Latency, f.CPU)
}

// Probed measures hops with the hop probe of the process at Admin, once
// per size (see sizedHops).
type Probed struct {
	Client Admin
	Base   string
	Calls  int
	// Pause is the time between two round trips (see ProbeRequest).
	Pause time.Duration
	// Target is the peer the process calls ("": itself).
	Target string

	sized sizedHops
}

// Hop probes size, or returns the probe already made for it.
func (p *Probed) Hop(ctx context.Context, size EdgeSize) (Hop, error) {
	return p.sized.hop(ctx, size, func(ctx context.Context, reqBytes, respBytes int) (Hop, error) {
		// With a peer in this process, the probed process's CPU is the
		// caller's end only: the callee's end is this process's, measured
		// around the probe (its own request to the admin route is a small
		// share of hundreds of round trips).
		before := processCPU()
		res, err := p.Client.Probe(ctx, p.Base, ProbeRequest{Calls: p.Calls, RequestBytes: reqBytes, ResponseBytes: respBytes,
			PauseMicros: int(p.Pause / time.Microsecond), Target: p.Target})
		if err != nil {
			return Hop{}, err
		}
		cpu := res.CPUSecondsPerCall
		if p.Target != "" {
			// This process does nothing else meanwhile: no background
			// to take off.
			cpu += (processCPU() - before).Seconds() / float64(p.Calls+min(p.Calls, 20)) // the warm-up's round trips too
		}
		return newHop(reqBytes, respBytes, res.Seconds, cpu), nil
	})
}

// Source names the probe.
func (p *Probed) Source() string {
	to := "itself"
	if p.Target != "" {
		to = "the advisor's process (--probe-peer)"
	}
	return fmt.Sprintf("measured: %d round trips per size, %s apart, from %s to %s through the transport on loopback", p.Calls, p.Pause, p.Base, to)
}

// The bounds of ProbePause. Past MaxProbePause a round trip takes no
// longer (see ProbeRequest.PauseMicros); a pause that long keeps a probe
// of 200 round trips per size to 2 s each.
const (
	MinProbePause = time.Millisecond
	MaxProbePause = 10 * time.Millisecond
)

// ProbePause is how long the recorded traffic leaves a callee idle
// between two calls, for the probe to pause as long: the interval between
// two calls of the busiest edge (the one a process alone with its callee
// would get most often), between MinProbePause and MaxProbePause; without
// a recorded rate, MaxProbePause.
func ProbePause(s System) time.Duration {
	perSecond := map[Edge]float64{}
	busiest := 0.0
	for _, rt := range s.Routes {
		for e, n := range meanCalls(rt) {
			if e.Caller == "" {
				continue
			}
			perSecond[e] += rt.Rate * n
			busiest = max(busiest, perSecond[e])
		}
	}
	if busiest == 0 {
		return MaxProbePause
	}
	return min(max(time.Duration(float64(time.Second)/busiest), MinProbePause), MaxProbePause)
}

// defaultBytes is the size assumed for an edge no recorded call sized.
const defaultBytes = 256

// sizedHops measures a hop once per size, rounded up to a power of two so
// that edges of about the same size share a measurement.
type sizedHops struct {
	cache map[[2]int]Hop
}

// hop returns the hop measured for size, measuring it first if need be.
func (c *sizedHops) hop(ctx context.Context, size EdgeSize, measure func(ctx context.Context, reqBytes, respBytes int) (Hop, error)) (Hop, error) {
	if !size.Known {
		size = EdgeSize{RequestBytes: defaultBytes, ResponseBytes: defaultBytes}
	}
	k := [2]int{roundUp(size.RequestBytes), roundUp(size.ResponseBytes)}
	if h, ok := c.cache[k]; ok {
		return h, nil
	}
	h, err := measure(ctx, k[0], k[1])
	if err != nil {
		return Hop{}, fmt.Errorf("calibrate a hop of %d+%d bytes: %w", k[0], k[1], err)
	}
	if c.cache == nil {
		c.cache = map[[2]int]Hop{}
	}
	c.cache[k] = h
	return h, nil
}

func roundUp(b float64) int {
	if b <= 64 {
		return 64
	}
	return 1 << int(math.Ceil(math.Log2(b)))
}

// quantile of sorted values, by nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

package e2e

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/platform/advise"
	platformcontract "mitosis/platform/contract"
)

// What the split adds, measured: orders go to both topologies from one
// client, one request at a time as the recorded load went, the two
// topologies taking turns in the order ABBA (so that neither always
// follows the other, whose work after answering, its events, would then
// weigh on it alone), in rounds, until the interval of the difference is
// within ±10% of the prediction or the budget is spent.
const (
	measureRound  = 100 // orders each
	measureBudget = 100 * time.Second
	// measureBlock is the run of consecutive pairs the bootstrap resamples
	// together: the machine's others' load drifts over seconds and slows
	// both topologies' neighbouring orders alike.
	measureBlock = 10
)

// added is what the split measurably adds: end to end (the p50 of POST
// /api/v1/orders on the split minus on the one process), and at the
// crossing (the p50 of orders' call of payments.Charge over HTTP minus in
// the process), each with its 95% interval.
type added struct {
	orders                           int
	e2e, e2eLo, e2eHi                float64
	crossing, crossingLo, crossingHi float64
}

// decided says what the interval [lo, hi] of a measured figure decides of
// the check that predicted is within 30% of it (predicted/1.3 ≤ measured ≤
// predicted/0.7): "within" when every value of it passes, "outside" when
// none does, "undecided" otherwise (the measurement is not precise enough
// to tell).
func decided(predicted, lo, hi float64) string {
	band0, band1 := predicted/1.3, predicted/0.7
	switch {
	case lo >= band0 && hi <= band1:
		return "within"
	case hi < band0 || lo > band1:
		return "outside"
	}
	return "undecided"
}

func measureAdded(t *testing.T, one, two *shopper, mono, rest *appProcess, predicted float64) added {
	var a, b, local, remote []float64
	deadline := time.Now().Add(measureBudget)
	for round := 0; ; round++ {
		for i := range measureRound {
			if k := (len(a) + i) % 4; k == 0 || k == 3 {
				a = append(a, one.order(t))
				b = append(b, two.order(t))
			} else {
				b = append(b, two.order(t))
				a = append(a, one.order(t))
			}
		}
		// Each order called Charge once: the last measureRound calls of
		// each edge are this round's.
		local = append(local, lastCalls(t, one, mono, platformcontract.TransportLocal)...)
		remote = append(remote, lastCalls(t, two, rest, platformcontract.TransportHTTP)...)
		lo, hi := pairedInterval(a, b)
		t.Logf("round %d: %d orders each, one process p50 %s, split p50 %s, added %s (95%% %s to %s); Charge %s in-process, %s over HTTP; predicted %s",
			round, len(a), secs(median(a)), secs(median(b)), secs(median(b)-median(a)), secs(lo), secs(hi),
			secs(median(local)), secs(median(remote)), secs(predicted))
		if (hi-lo)/2 <= 0.1*predicted || time.Now().After(deadline) {
			out := added{orders: len(a), e2e: median(b) - median(a), e2eLo: lo, e2eHi: hi, crossing: median(remote) - median(local)}
			out.crossingLo, out.crossingHi = pairedInterval(local, remote)
			return out
		}
	}
}

// lastCalls is the durations of the last measureRound calls of orders →
// payments.Charge over transport in p.
func lastCalls(t *testing.T, s *shopper, p *appProcess, transport string) []float64 {
	proc, err := (advise.Admin{HTTP: s.client}).Read(t.Context(), p.admin)
	require.NoError(t, err)
	for _, e := range proc.Edges {
		if e.Caller == "orders" && e.Callee == "payments" && e.Method == "Charge" && e.Transport == transport {
			require.GreaterOrEqual(t, len(e.Sample.Recent), measureRound, "every call is timed while every request is recorded")
			return e.Sample.Recent[len(e.Sample.Recent)-measureRound:]
		}
	}
	require.Failf(t, "no edge", "orders → payments.Charge over %s in %s", transport, p.name)
	return nil
}

// pairedInterval is a 95% bootstrap interval of median(b) − median(a),
// a[i] and b[i] taken at about the same time: blocks of measureBlock
// consecutive pairs are resampled together.
func pairedInterval(a, b []float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	blocks := (len(a) + measureBlock - 1) / measureBlock
	ra, rb := make([]float64, 0, blocks*measureBlock), make([]float64, 0, blocks*measureBlock)
	diffs := make([]float64, 1000)
	for i := range diffs {
		ra, rb = ra[:0], rb[:0]
		for range blocks {
			start := rng.IntN(max(len(a)-measureBlock, 0) + 1)
			end := min(start+measureBlock, len(a))
			ra, rb = append(ra, a[start:end]...), append(rb, b[start:end]...)
		}
		diffs[i] = median(rb) - median(ra)
	}
	slices.Sort(diffs)
	return diffs[int(math.Floor(.025*float64(len(diffs))))], diffs[int(math.Ceil(.975*float64(len(diffs))))-1]
}

// loadAverage is the machine's load average over the last minute, as
// /proc/loadavg says ("?" where there is none).
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(raw))[0]
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second)).Round(time.Microsecond)).String()
}

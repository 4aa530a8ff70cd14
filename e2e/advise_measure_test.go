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

// How the advisor's prediction is checked against the split, on a shared
// machine whose others' load moves a hop by a third within seconds: the
// advisor is asked before each round of orders on both topologies, so
// that predictions and measurements share the same minutes, and the
// median prediction is compared with the median over every measured
// order. Orders go from one client, one at a time as the recorded load
// went, the two topologies taking turns ABBA (so that neither always
// follows the other, whose work after answering, its events, would then
// weigh on it alone).
const (
	measureRound = 100 // orders each; a round ends with reading the records
	// measureRounds is how many rounds are measured at least. Past them,
	// rounds go on until the interval of what the split paid per order is
	// within ±10% of the prediction or the budget is spent; with
	// ADVISE_LATENCY_CHECK, until the end-to-end difference is that
	// precise or its longer budget is spent.
	measureRounds      = 3
	measureBudget      = 30 * time.Second
	measureBenchBudget = 100 * time.Second
	// bootstrapBlock is the run of consecutive orders the bootstrap
	// resamples together: the machine's others' load drifts over seconds
	// and slows neighbouring orders alike.
	bootstrapBlock = 10
)

// added is what the split measurably adds to POST /api/v1/orders, each
// with its 95% interval:
//   - paid: per order, what orders' call of payments.Charge took over HTTP
//     minus what payments took to handle it (its record of the same call):
//     the latency the split added to that order, the callee's own work
//     (the same in one process) taken out call by call;
//   - crossing: the p50 of that call over HTTP minus the p50 of the same
//     call in the one process;
//   - e2e: the p50 of the route on the split minus on the one process.
//
// The last two compare separate deployments, whose other differences (the
// database each has, which process the scheduler slows) weigh on them as
// much as the hop on this machine; the first compares each call with
// itself.
type added struct {
	orders                           int
	paid, paidLo, paidHi             float64
	crossing, crossingLo, crossingHi float64
	e2e, e2eLo, e2eHi                float64
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

// measureAdded measures what the split adds, asking predict (the
// advisor) before each round, and returns the measurement and the
// predictions.
func measureAdded(t *testing.T, one, two *shopper, mono, rest, pay *appProcess, predict func() float64) (added, []float64) {
	bench := os.Getenv(latencyCheck) != ""
	var a, b, local, remote, paid, predictions []float64
	var deadline time.Time
	for round := 0; ; round++ {
		predictions = append(predictions, predict())
		for i := range measureRound {
			if k := (len(a) + i) % 4; k == 0 || k == 3 {
				a = append(a, one.order(t))
				b = append(b, two.order(t))
			} else {
				b = append(b, two.order(t))
				a = append(a, one.order(t))
			}
		}
		// Each order called Charge once, one at a time: the last
		// measureRound calls of each edge, and payments' last
		// measureRound requests of Charge, are this round's, in order.
		local = append(local, lastCalls(t, one, mono, platformcontract.TransportLocal)...)
		calls := lastCalls(t, two, rest, platformcontract.TransportHTTP)
		remote = append(remote, calls...)
		for i, handled := range lastHandled(t, two, pay) {
			paid = append(paid, calls[i]-handled)
		}
		predicted := median(predictions)
		m := added{orders: len(a), paid: median(paid), crossing: median(remote) - median(local), e2e: median(b) - median(a)}
		m.paidLo, m.paidHi = interval(len(paid), func(idx []int) float64 { return median(pick(paid, idx)) })
		m.crossingLo, m.crossingHi = pairedInterval(local, remote)
		m.e2eLo, m.e2eHi = pairedInterval(a, b)
		t.Logf("round %d: %d orders each; paid per order %s (95%% %s to %s); Charge %s in-process, %s over HTTP: %s (95%% %s to %s); route p50 %s in one process, %s split: %s (95%% %s to %s); predicted %s",
			round, len(a), secs(m.paid), secs(m.paidLo), secs(m.paidHi), secs(median(local)), secs(median(remote)),
			secs(m.crossing), secs(m.crossingLo), secs(m.crossingHi), secs(median(a)), secs(median(b)),
			secs(m.e2e), secs(m.e2eLo), secs(m.e2eHi), secs(predicted))
		if round+1 < measureRounds {
			continue
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(measureBudget)
			if bench {
				deadline = time.Now().Add(measureBenchBudget)
			}
		}
		precise := (m.paidHi-m.paidLo)/2 <= 0.1*predicted
		if bench {
			precise = precise && (m.e2eHi-m.e2eLo)/2 <= 0.1*predicted
		}
		if precise || time.Now().After(deadline) {
			return m, predictions
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

// lastHandled is how long payments took to handle its last measureRound
// requests of Charge, by its records (RECORD_EVERY=1: every one; from its
// records' middleware on, the request decoded, handled and answered).
func lastHandled(t *testing.T, s *shopper, p *appProcess) []float64 {
	proc, err := (advise.Admin{HTTP: s.client}).Read(t.Context(), p.admin)
	require.NoError(t, err)
	for _, r := range proc.Routes {
		if r.Method == "POST" && r.Route == platformcontract.MethodPath("payments", "Charge") {
			require.GreaterOrEqual(t, len(r.Recent), measureRound)
			out := make([]float64, 0, measureRound)
			for _, smp := range r.Recent[len(r.Recent)-measureRound:] {
				out = append(out, smp.Seconds)
			}
			return out
		}
	}
	require.Failf(t, "no route", "payments' internal route of Charge in %s", p.name)
	return nil
}

// pairedInterval is a 95% bootstrap interval of median(b) − median(a),
// a[i] and b[i] taken at about the same time.
func pairedInterval(a, b []float64) (lo, hi float64) {
	return interval(len(a), func(idx []int) float64 { return median(pick(b, idx)) - median(pick(a, idx)) })
}

// interval is a 95% bootstrap interval of stat over n measurements in
// time order: blocks of bootstrapBlock consecutive ones are resampled
// together.
func interval(n int, stat func(idx []int) float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	blocks := (n + bootstrapBlock - 1) / bootstrapBlock
	idx := make([]int, 0, blocks*bootstrapBlock)
	stats := make([]float64, 1000)
	for i := range stats {
		idx = idx[:0]
		for range blocks {
			start := rng.IntN(max(n-bootstrapBlock, 0) + 1)
			for j := start; j < min(start+bootstrapBlock, n); j++ {
				idx = append(idx, j)
			}
		}
		stats[i] = stat(idx)
	}
	slices.Sort(stats)
	return stats[int(math.Floor(.025*float64(len(stats))))], stats[int(math.Ceil(.975*float64(len(stats))))-1]
}

func pick(xs []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
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
	if len(xs) == 0 {
		return math.NaN()
	}
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

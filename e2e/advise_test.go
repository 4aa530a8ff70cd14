package e2e

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/advise"
	platformcontract "mitosis/platform/contract"
	"mitosis/platform/pgtest"
)

// latencyCheck, set by bench/run.sh (make bench), adds the end-to-end
// half of the timed check (see TestAdvisorPredictsWhatSplittingPaymentsAdds).
const latencyCheck = "ADVISE_LATENCY_CHECK"

// The advisor's prediction checked against a real split. A load of orders
// is recorded in one process, `app advise` is asked what putting payments
// alone in a process would add to POST /api/v1/orders, and the same load
// runs on that split, side by side. What the advisor said would cross the
// network (which edge, how many calls per order, how many bytes) is what
// the split sent over HTTP; the recorded load, one order at a time,
// overlapped nothing, so a given hop is all it adds; reading the split's
// processes it sees the placement in use and what joining them would save.
// And the predicted p50 added latency must be within 30% of what the split
// added to each order, measured call by call: orders' call of
// payments.Charge over HTTP less payments' own handling of that call (see
// measureAdded). The differences against the one process, at that call
// and end to end, are measured and logged, and the end-to-end one checked
// only with ADVISE_LATENCY_CHECK=1 (make bench): two identical
// one-process deployments side by side differ there by as much as the hop
// on this shared machine (see BENCHMARKS.md, "Split advisor").
func TestAdvisorPredictsWhatSplittingPaymentsAdds(t *testing.T) {
	// The deployment's configuration, which the advisor runs with too.
	deployment := map[string]string{"RECORD_EVERY": "1", "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	mono := startApp(t, "one process", with(deployment, map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}))
	mono.waitReady(t)
	splitDB := pgtest.NewDatabase(t)
	restAddr := freeAddr(t)
	pay := startApp(t, "payments", with(deployment, map[string]string{"SERVICES": "payments", "DATABASE_URL": splitDB,
		"USERS_URL": "http://" + restAddr}))
	pay.waitReady(t)
	rest := startApp(t, "the rest", with(deployment, map[string]string{"SERVICES": "gateway,orders,users,inventory", "DATABASE_URL": splitDB,
		"HTTP_ADDR": restAddr, "PAYMENTS_URL": pay.url}))
	rest.waitReady(t)

	client := &http.Client{Timeout: 10 * time.Second}
	one := newShopper(t, client, mono.url, mono.url)
	two := newShopper(t, client, rest.url, pay.url)
	// The recorded load, the same on both: connections, pools, caches and
	// tables are then as warm (and as full) in one as in the other.
	const load = 300
	for i := range load {
		if i%2 == 0 {
			one.order(t)
			two.order(t)
		} else {
			two.order(t)
			one.order(t)
		}
	}

	// The advisor's own probe, paused as the records say, of 100 round
	// trips a size: it is asked again before each round of the timed
	// check (see measureAdded).
	report := adviseJSON(t, deployment, "--from", mono.admin, "--probe-calls", "100")
	alone, ok := prediction(report, "payments alone", "/api/v1/orders")
	require.True(t, ok, "no prediction for POST /api/v1/orders with payments alone: %+v", report)
	require.Contains(t, report.HopSource, "to itself", "by default the process calls itself")
	charge := advise.Edge{Caller: "orders", Callee: "payments", Method: "Charge"}
	require.InDelta(t, 4, alone.FanOut, 1e-9, "an order calls users.Get, inventory.Reserve, payments.Charge and inventory.Commit")
	require.InDelta(t, 1, alone.CrossingCalls, 1e-9)
	require.Len(t, alone.Crossing, 1)
	require.Equal(t, charge, alone.Crossing[0].Edge)
	require.Positive(t, alone.AddedP50)
	require.GreaterOrEqual(t, alone.AddedP99, alone.AddedP50)
	inUse, ok := prediction(report, "in use", "/api/v1/orders")
	require.True(t, ok)
	require.Zero(t, inUse.AddedP50)

	// One order at a time: no recorded order overlapped another, so with a
	// given hop the split adds that hop and no wait for others' hops, though
	// their CPU loads the cores.
	recorded, err := (advise.Admin{HTTP: client}).Read(t.Context(), mono.admin)
	require.NoError(t, err)
	for _, r := range recorded.Routes {
		if r.Route == "/api/v1/orders" && r.Method == http.MethodPost {
			require.NotEmpty(t, r.Recent)
			for _, s := range r.Recent {
				require.Zero(t, s.Overlap, "a recorded order overlapped another: %+v", s)
			}
		}
	}
	given := adviseJSON(t, deployment, "--from", mono.admin, "--hop", "1ms", "--hop-cpu", "1ms")
	givenAlone, ok := prediction(given, "payments alone", "/api/v1/orders")
	require.True(t, ok)
	require.InDelta(t, 1e-3, givenAlone.AddedP50, 1e-9, "the hop, and no wait")
	for _, c := range given.Candidates {
		if c.Name == "payments alone" {
			require.Positive(t, c.AddedCPULoad)
			require.Positive(t, c.WaitPerOverlap)
		}
	}

	// What the split sent over HTTP is what the advisor said would cross.
	split, err := (advise.Admin{HTTP: client}).Read(t.Context(), rest.admin)
	require.NoError(t, err)
	var sent *platformcontract.EdgeCount
	for i, e := range split.Edges {
		if e.Caller == charge.Caller && e.Callee == charge.Callee && e.Method == charge.Method && e.Calls > 0 {
			sent = &split.Edges[i]
		}
	}
	require.NotNil(t, sent, "the split calls payments.Charge: %+v", split.Edges)
	require.Equal(t, "http", sent.Transport)
	require.Equal(t, uint64(load), sent.Calls, "one call over HTTP per order")
	require.Positive(t, sent.Sample.Sized)
	sentBytes := float64(sent.Sample.RequestBytes+sent.Sample.ResponseBytes) / float64(sent.Sample.Sized)
	require.InEpsilon(t, sentBytes, alone.CrossingBytes, 0.05, "bytes per order over the network")

	// Read from the split's two processes: the placement in use is theirs,
	// and one process would save the hop.
	// The hop from a second process here (--probe-peer), not the default.
	out, errOut, err := runApp(t, deployment, "advise", "--from", rest.admin, "--from", pay.admin, "--separate", "orders,payments",
		"--probe-calls", "20", "--probe-pause", "1ms", "--probe-peer")
	require.NoError(t, err, "stderr:\n%s", errOut)
	require.Contains(t, out, "to the advisor's process (--probe-peer)")
	require.Contains(t, out, "in use: {gateway, inventory, orders, users} {payments}")
	require.Contains(t, out, "least added latency separating orders, payments: {gateway, inventory, orders, users} {payments}")
	require.Regexp(t, `in use: .*\n(.*\n)+?  expensive: orders → payments\.Charge`, out, "the hop in use is named")
	require.Regexp(t, `one process: .*\n.*\n  POST /api/v1/orders\s+\S+\s+\S+\s+-`, out, "joining them saves the hop")
	require.Regexp(t, `orders alone: .*\n(.*\n)+?  expensive: orders → users\.Get`, out)

	t.Logf("advise: %s", report.HopSource)
	for _, h := range report.Hops {
		t.Logf("advise: hop %d+%d B p50 %s, CPU %s both ends", h.RequestBytes, h.ResponseBytes, secs(h.P50), secs(h.CPUSeconds))
	}
	// The timed check: the advisor asked again, alike, before each round
	// of orders, the first answer above included.
	asked := 0
	predict := func() float64 {
		if asked++; asked == 1 {
			return alone.AddedP50
		}
		again, ok := prediction(adviseJSON(t, deployment, "--from", mono.admin, "--probe-calls", "100"), "payments alone", "/api/v1/orders")
		require.True(t, ok)
		return again.AddedP50
	}
	before := loadAverage()
	m, predictions := measureAdded(t, one, two, mono, rest, pay, predict)
	after := loadAverage()
	predicted := median(predictions)
	t.Logf("advise: POST /api/v1/orders, payments alone: predicted p50 +%s (median of %s); measured over %d orders each: paid per order %s (95%% %s to %s, %s), at the crossing %s (95%% %s to %s, %s), end to end %s (95%% %s to %s, %s); load average %s → %s",
		secs(predicted), secsList(predictions), m.orders, signed(m.paid), secs(m.paidLo), secs(m.paidHi), decided(predicted, m.paidLo, m.paidHi),
		signed(m.crossing), secs(m.crossingLo), secs(m.crossingHi), decided(predicted, m.crossingLo, m.crossingHi),
		signed(m.e2e), secs(m.e2eLo), secs(m.e2eHi), decided(predicted, m.e2eLo, m.e2eHi), before, after)
	t.Logf("advise-figures predicted_us=%.0f measured_us=%.0f lo_us=%.0f hi_us=%.0f orders=%d error_pct=%.0f crossing_us=%.0f crossing_error_pct=%.0f e2e_us=%.0f e2e_lo_us=%.0f e2e_hi_us=%.0f e2e_error_pct=%.0f load_before=%s load_after=%s",
		predicted*1e6, m.paid*1e6, m.paidLo*1e6, m.paidHi*1e6, m.orders, errorPct(predicted, m.paid), m.crossing*1e6, errorPct(predicted, m.crossing),
		m.e2e*1e6, m.e2eLo*1e6, m.e2eHi*1e6, errorPct(predicted, m.e2e), before, after)
	require.Positive(t, m.paid, "the split must cost something")
	assert.InDelta(t, m.paid, predicted, 0.3*m.paid, "predicted p50 added latency within 30%% of the measured one")
	if os.Getenv(latencyCheck) != "" {
		assert.InDelta(t, m.e2e, predicted, 0.3*math.Abs(m.e2e), "predicted p50 added latency within 30%% of the measured one, end to end")
	}
}

// signed is secs with its sign: what a figure adds (+) or saves (−).
func signed(s float64) string {
	if s >= 0 {
		return "+" + secs(s)
	}
	return secs(s)
}

func secsList(xs []float64) string {
	var out []string
	for _, x := range xs {
		out = append(out, secs(x))
	}
	return strings.Join(out, ", ")
}

// adviseJSON runs `app advise --format json` with args in env.
func adviseJSON(t *testing.T, env map[string]string, args ...string) advise.Report {
	t.Helper()
	out, errOut, err := runApp(t, env, append([]string{"advise", "--format", "json"}, args...)...)
	require.NoError(t, err, "stderr:\n%s", errOut)
	var report advise.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	return report
}

func errorPct(predicted, measured float64) float64 {
	return 100 * (predicted - measured) / math.Abs(measured)
}

func prediction(r advise.Report, placement, route string) (advise.RoutePrediction, bool) {
	for _, c := range r.Candidates {
		if c.Name != placement {
			continue
		}
		for _, rp := range c.Routes {
			if rp.Method == http.MethodPost && rp.Route == route {
				return rp, true
			}
		}
	}
	return advise.RoutePrediction{}, false
}

package e2e

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/advise"
	platformcontract "mitosis/platform/contract"
	"mitosis/platform/pgtest"
)

// latencyCheck, set by bench/run.sh (make bench), adds the timed half of
// the advisor's check: speed is measured in benchmarks, never in make test.
const latencyCheck = "ADVISE_LATENCY_CHECK"

// The advisor's prediction checked against a real split. A load of orders
// is recorded in one process, `app advise` is asked what putting payments
// alone in a process would add to POST /api/v1/orders, and the same load
// runs on that split, side by side. Always: what the advisor said would
// cross the network (which edge, how many calls per order, how many bytes)
// is what the split sent over HTTP; the recorded load, one order at a
// time, overlapped nothing, so a given hop is all it adds; and reading the
// split's processes it sees the placement in use and what joining them
// would save. With ADVISE_LATENCY_CHECK=1 (make bench): the median added
// latency is measured, end to end and at the crossing, and the prediction
// must be within 30% of both.
func TestAdvisorPredictsWhatSplittingPaymentsAdds(t *testing.T) {
	timed := os.Getenv(latencyCheck) != ""
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

	// Untimed, the probe is short: its figures are not checked.
	probe := []string{"--probe-calls", "20", "--probe-pause", "1ms"}
	if timed {
		probe = nil // the advisor's own: 200 round trips a size, paused as the records say
	}
	report := adviseJSON(t, deployment, append([]string{"--from", mono.admin}, probe...)...)
	alone, ok := prediction(report, "payments alone", "/api/v1/orders")
	require.True(t, ok, "no prediction for POST /api/v1/orders with payments alone: %+v", report)
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
	out, errOut, err := runApp(t, deployment, "advise", "--from", rest.admin, "--from", pay.admin, "--separate", "orders,payments",
		"--probe-calls", "20", "--probe-pause", "1ms")
	require.NoError(t, err, "stderr:\n%s", errOut)
	require.Contains(t, out, "in use: {gateway, inventory, orders, users} {payments}")
	require.Contains(t, out, "least added latency separating orders, payments: {gateway, inventory, orders, users} {payments}")
	require.Regexp(t, `in use: .*\n(.*\n)+?  expensive: orders → payments\.Charge`, out, "the hop in use is named")
	require.Regexp(t, `one process: .*\n.*\n  POST /api/v1/orders\s+\S+\s+\S+\s+-`, out, "joining them saves the hop")
	require.Regexp(t, `orders alone: .*\n(.*\n)+?  expensive: orders → users\.Get`, out)

	if !timed {
		return
	}
	t.Logf("advise: %s", report.HopSource)
	for _, h := range report.Hops {
		t.Logf("advise: hop %d+%d B p50 %s, CPU %s both ends", h.RequestBytes, h.ResponseBytes, secs(h.P50), secs(h.CPUSeconds))
	}
	before := loadAverage()
	m := measureAdded(t, one, two, mono, rest, alone.AddedP50)
	after := loadAverage()
	e2e, crossing := decided(alone.AddedP50, m.e2eLo, m.e2eHi), decided(alone.AddedP50, m.crossingLo, m.crossingHi)
	t.Logf("advise: POST /api/v1/orders, payments alone: predicted p50 +%s; measured end to end +%s (95%% %s to %s, %s), at the crossing +%s (95%% %s to %s, %s), over %d orders each; load average %s → %s",
		secs(alone.AddedP50), secs(m.e2e), secs(m.e2eLo), secs(m.e2eHi), e2e, secs(m.crossing), secs(m.crossingLo), secs(m.crossingHi), crossing,
		m.orders, before, after)
	t.Logf("advise-figures predicted_us=%.0f measured_us=%.0f lo_us=%.0f hi_us=%.0f crossing_us=%.0f crossing_lo_us=%.0f crossing_hi_us=%.0f orders=%d error_pct=%.0f crossing_error_pct=%.0f load_before=%s load_after=%s interval=%s crossing_interval=%s",
		alone.AddedP50*1e6, m.e2e*1e6, m.e2eLo*1e6, m.e2eHi*1e6, m.crossing*1e6, m.crossingLo*1e6, m.crossingHi*1e6, m.orders,
		errorPct(alone.AddedP50, m.e2e), errorPct(alone.AddedP50, m.crossing), before, after, e2e, crossing)
	assert.InDelta(t, m.crossing, alone.AddedP50, 0.3*math.Abs(m.crossing), "predicted p50 added latency within 30%% of the crossing's measured")
	assert.Positive(t, m.e2e, "the split must cost something")
	assert.InDelta(t, m.e2e, alone.AddedP50, 0.3*math.Abs(m.e2e), "predicted p50 added latency within 30%% of the measured one, end to end")
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

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
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
// is what the split sent over HTTP, and reading the split's processes it
// sees the placement in use and what joining them would save. With
// ADVISE_LATENCY_CHECK=1 (make bench): the median added latency is
// measured and the prediction must be within 30% of it.
func TestAdvisorPredictsWhatSplittingPaymentsAdds(t *testing.T) {
	record := map[string]string{"RECORD_EVERY": "1", "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	mono := startApp(t, "one process", with(record, map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}))
	mono.waitReady(t)
	splitDB := pgtest.NewDatabase(t)
	restAddr := freeAddr(t)
	pay := startApp(t, "payments", with(record, map[string]string{"SERVICES": "payments", "DATABASE_URL": splitDB,
		"USERS_URL": "http://" + restAddr}))
	pay.waitReady(t)
	rest := startApp(t, "the rest", with(record, map[string]string{"SERVICES": "gateway,orders,users,inventory", "DATABASE_URL": splitDB,
		"HTTP_ADDR": restAddr, "PAYMENTS_URL": pay.url}))
	rest.waitReady(t)

	client := &http.Client{Timeout: 10 * time.Second}
	one := newShopper(t, client, mono.url, mono.url)
	two := newShopper(t, client, rest.url, pay.url)
	// The recorded load, the same on both: connections, pools, caches and
	// tables are then as warm (and as full) in one as in the other.
	const load = 300
	for range load {
		one.order(t)
		two.order(t)
	}

	out, errOut, err := runApp(t, nil, "advise", "--from", mono.admin, "--format", "json", "--probe-calls", "600")
	require.NoError(t, err, "stderr:\n%s", errOut)
	var report advise.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	alone, ok := prediction(report, "payments alone", "/api/v1/orders")
	require.True(t, ok, "no prediction for POST /api/v1/orders with payments alone:\n%s", out)
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
	out, errOut, err = runApp(t, nil, "advise", "--from", rest.admin, "--from", pay.admin, "--separate", "orders,payments", "--probe-calls", "200")
	require.NoError(t, err, "stderr:\n%s", errOut)
	require.Contains(t, out, "in use: {gateway, inventory, orders, users} {payments}")
	require.Contains(t, out, "least added latency separating orders, payments: {gateway, inventory, orders, users} {payments}")
	require.Regexp(t, `in use: .*\n(.*\n)+?  expensive: orders → payments\.Charge`, out, "the hop in use is named")
	require.Regexp(t, `one process: .*\n.*\n  POST /api/v1/orders\s+\S+\s+\S+\s+-`, out, "joining them saves the hop")
	require.Regexp(t, `orders alone: .*\n(.*\n)+?  expensive: orders → users\.Get`, out)

	if os.Getenv(latencyCheck) == "" {
		return
	}
	for _, h := range report.Hops {
		t.Logf("advise: hop %d+%d B p50 %s, CPU %s both ends", h.RequestBytes, h.ResponseBytes, secs(h.P50), secs(h.CPUSeconds))
	}
	for _, c := range report.Candidates {
		if c.Name == "payments alone" {
			t.Logf("advise: payments alone adds a CPU load of %.4f (%s/s over the cores)", c.AddedCPULoad, secs(c.CPUSecondsPerSecond))
		}
	}
	measured, n := measureAdded(t, one, two, alone.AddedP50)
	logSplitHop(t, client, rest, pay)
	t.Logf("advise: POST /api/v1/orders, payments alone: predicted p50 +%s, measured +%s over %d orders each (error %+.0f%%)",
		secs(alone.AddedP50), secs(measured), n, 100*(alone.AddedP50-measured)/measured)
	t.Logf("advise-figures predicted_us=%.0f measured_us=%.0f orders=%d error_pct=%.0f", alone.AddedP50*1e6, measured*1e6, n,
		100*(alone.AddedP50-measured)/measured)
	require.Positive(t, measured, "the split must cost something")
	require.InDelta(t, measured, alone.AddedP50, 0.3*measured, "predicted p50 added latency within 30%% of the measured one")
}

// logSplitHop logs what the split's call of payments.Charge took over
// HTTP beyond the callee's own handling of it (means of the last recorded
// ones): the hop as the split paid it, beside the probe's, to tell the
// hop's share of the measured difference from the rest of the request's.
func logSplitHop(t *testing.T, client *http.Client, rest, pay *appProcess) {
	caller, err := (advise.Admin{HTTP: client}).Read(t.Context(), rest.admin)
	require.NoError(t, err)
	callee, err := (advise.Admin{HTTP: client}).Read(t.Context(), pay.admin)
	require.NoError(t, err)
	var call, served float64
	for _, e := range caller.Edges {
		if e.Callee == "payments" && e.Method == "Charge" && e.Sample.Calls > 0 {
			call = e.Sample.Seconds / float64(e.Sample.Calls)
		}
	}
	for _, r := range callee.Routes {
		if r.Route == platformcontract.MethodPath("payments", "Charge") && len(r.Recent) > 0 {
			for _, smp := range r.Recent {
				served += smp.Seconds / float64(len(r.Recent))
			}
		}
	}
	t.Logf("split: orders → payments.Charge took %s over HTTP (mean), payments handled it in %s (mean of the last %d): the hop %s",
		secs(call), secs(served), platformcontract.RecentRequests, secs(call-served))
}

// measureAdded sends orders to both topologies, one to each per step in
// alternating order from the same client, so that the busy machine's
// drift weighs on both alike, and returns the difference of the medians
// once it is known to ±10% of predicted (a bootstrap interval), or when
// the budget is spent.
func measureAdded(t *testing.T, one, two *shopper, predicted float64) (float64, int) {
	var a, b []float64
	var measured float64
	deadline := time.Now().Add(90 * time.Second)
	for round := 0; ; round++ {
		for i := range 200 {
			if i%2 == 0 {
				a, b = append(a, one.order(t)), append(b, two.order(t))
			} else {
				b, a = append(b, two.order(t)), append(a, one.order(t))
			}
		}
		measured = median(b) - median(a)
		lo, hi := bootstrapDiff(a, b)
		t.Logf("round %d: %d orders each, one process p50 %s, split p50 %s, added %s (95%% %s to %s), predicted %s",
			round, len(a), secs(median(a)), secs(median(b)), secs(measured), secs(lo), secs(hi), secs(predicted))
		if (hi-lo)/2 < 0.1*predicted || time.Now().After(deadline) {
			return measured, len(a)
		}
	}
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

// customers is how many customers each shopper places orders for, in
// turn: one wallet's row updated thousands of times would slow down as its
// dead versions pile up, whenever autovacuum comes by, which is noise.
const customers = 16

// shopper places orders on one topology, for its customers in turn.
type shopper struct {
	client        *http.Client
	orders, payer string   // base URLs serving orders and users, and the wallet
	tokens        []string // of each customer
	token         string   // the one sending now
	sku           string
	n             int
}

func newShopper(t *testing.T, client *http.Client, ordersURL, walletURL string) *shopper {
	s := &shopper{client: client, orders: ordersURL, payer: walletURL}
	for range customers {
		s.token = ""
		email := uuid.NewString() + "@example.com"
		var u users.User
		s.send(t, ordersURL+"/api/v1/users", map[string]string{"email": email, "name": "Advised", "password": "correct horse battery"}, http.StatusCreated, &u)
		var tok users.Token
		s.send(t, ordersURL+"/api/v1/auth/token", map[string]string{"email": email, "password": "correct horse battery"}, http.StatusOK, &tok)
		s.token = tok.AccessToken
		// The wallet is opened when payments handles user.registered.
		require.Eventually(t, func() bool {
			status, _ := s.post(t, walletURL+"/api/v1/wallet/deposits", map[string]int64{"amount_cents": payments.MaxAmountCents})
			return status == http.StatusCreated
		}, 20*time.Second, 50*time.Millisecond, "deposit")
		s.tokens = append(s.tokens, s.token)
	}
	var list orders.ProductList
	resp, err := client.Get(ordersURL + "/api/v1/products")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	slices.SortFunc(list.Items, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	s.sku = list.Items[0].SKU
	return s
}

// order places one order, which must be confirmed, and returns how long
// the answer took, in seconds.
func (s *shopper) order(t *testing.T) float64 {
	s.token = s.tokens[s.n%len(s.tokens)]
	s.n++
	start := time.Now()
	var o orders.Order
	s.send(t, s.orders+"/api/v1/orders", map[string]any{"items": []orders.Item{{SKU: s.sku, Quantity: 1}}}, http.StatusCreated, &o)
	took := time.Since(start).Seconds()
	require.Equal(t, orders.StatusConfirmed, o.Status)
	return took
}

func (s *shopper) send(t *testing.T, url string, body any, want int, out any) {
	t.Helper()
	status, raw := s.post(t, url, body)
	require.Equal(t, want, status, "POST %s: %s", url, raw)
	require.NoError(t, json.Unmarshal(raw, out))
}

func (s *shopper) post(t *testing.T, url string, body any) (int, []byte) {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", uuid.NewString())
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, answer
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// bootstrapDiff is a 95% interval of median(b) - median(a).
func bootstrapDiff(a, b []float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	resample := func(xs []float64) float64 {
		s := make([]float64, len(xs))
		for i := range s {
			s[i] = xs[rng.IntN(len(xs))]
		}
		return median(s)
	}
	diffs := make([]float64, 400)
	for i := range diffs {
		diffs[i] = resample(b) - resample(a)
	}
	slices.Sort(diffs)
	return diffs[int(math.Floor(.025*float64(len(diffs))))], diffs[int(math.Ceil(.975*float64(len(diffs))))-1]
}

func secs(s float64) string {
	return fmt.Sprint(time.Duration(s * float64(time.Second)).Round(time.Microsecond))
}

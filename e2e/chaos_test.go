package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/platform/natstest"
)

const (
	// chaosRequestTimeout bounds one HTTP attempt of the load.
	chaosRequestTimeout = 10 * time.Second
	// chaosRecoveryBound is how soon after a fault is lifted the system
	// must place and charge an order again (with the breakers' 1s cool-down
	// and a loaded machine, a healthy recovery takes a few seconds).
	chaosRecoveryBound = 30 * time.Second
	// chaosSettleTimeout bounds the settle phase: every order confirmed or
	// cancelled, every deposit acknowledged, every event delivered.
	chaosSettleTimeout = 90 * time.Second
)

// chaosPlan is the shape of one run: `make test` runs the short form (one
// round of faults, under a minute of load); `make chaos` the long one
// (CHAOS=long, rounds of faults for CHAOS_DURATION, 5m by default).
type chaosPlan struct {
	form     string
	load     time.Duration // at least this much load; faults stop 10s before
	rounds   int           // rounds of faults; 0: as many as fit in load
	workers  int
	pause    time.Duration // between two operations of a worker
	faultGap time.Duration // calm between a recovery and the next fault
	faults   []chaosFault  // injected in this order, round after round
}

func chaosPlanFromEnv(t *testing.T) chaosPlan {
	if os.Getenv("CHAOS") != "long" {
		return chaosPlan{form: "short", load: 45 * time.Second, rounds: 1, workers: 4, pause: 100 * time.Millisecond, faultGap: 2 * time.Second,
			faults: chaosFaults}
	}
	load := 5 * time.Minute
	if d := os.Getenv("CHAOS_DURATION"); d != "" {
		var err error
		load, err = time.ParseDuration(d)
		require.NoError(t, err, "CHAOS_DURATION")
	}
	return chaosPlan{form: "long", load: load, workers: 6, pause: 50 * time.Millisecond, faultGap: 5 * time.Second, faults: chaosFaults}
}

// natsPlan is plan for the round with EVENTS_BROKER=nats: in the short
// form only the rolling restart (the relays and consumers draining), under
// a shorter load, so that `make test` stays fast; in the long form the same
// as the PostgreSQL bus's.
func natsPlan(plan chaosPlan) chaosPlan {
	if plan.form != "short" {
		return plan
	}
	plan.load, plan.workers, plan.faults = 15*time.Second, 3, nil
	for _, f := range chaosFaults {
		if f.definite {
			plan.faults = append(plan.faults, f)
		}
	}
	return plan
}

// faultRecord is what one injected fault did to the clients.
type faultRecord struct {
	name                       string
	start, lifted, recovered   time.Time
	ok                         bool
	requests, fivexx, noAnswer int
	indefinite                 []string // of a definite fault: what had no definite answer
}

// TestChaos runs the split topology under a steady load of registrations,
// deposits, orders and cancellations while processes are killed,
// PostgreSQL restarts and the network between modules lags and breaks. Then
// the load stops, the clients settle what is open, and the data is audited:
// money conserved, every order confirmed with one net charge or cancelled
// with none, no order pending, every event handled once by each subscriber,
// read models in agreement; and after each fault the system answered again
// within chaosRecoveryBound.
//
// It runs twice, one after the other: with the PostgreSQL bus, and with
// NATS JetStream carrying the events (natsPlan).
func TestChaos(t *testing.T) {
	t.Parallel()
	plan := chaosPlanFromEnv(t)
	t.Run("postgres bus", func(t *testing.T) { runChaos(t, plan, "") })
	t.Run("nats", func(t *testing.T) { runChaos(t, natsPlan(plan), natstest.Start(t).ClientURL()) })
}

// runChaos is one run of the suite, with events through the NATS server at
// natsURL if set.
func runChaos(t *testing.T, plan chaosPlan, natsURL string) {
	r := startChaosRig(t, natsURL)
	edge := r.url("gateway")
	log := &exchangeLog{}
	load := &chaosLoad{
		c:    &chaosClient{http: &http.Client{Timeout: chaosRequestTimeout}, log: log},
		topo: topology{users: edge, payments: edge, orders: edge},
	}
	a := load.c.do(chaosPatience, http.MethodGet, edge+"/api/v1/products", "", "", nil)
	var catalog orders.ProductList
	require.True(t, a.status == http.StatusOK && a.decode(&catalog), "catalog: %d %s", a.status, a.body)
	load.catalog = catalog.Items
	cheapest := slices.MinFunc(catalog.Items, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	probeItem := orders.Item{SKU: cheapest.SKU, Quantity: 1}
	prober := load.register("chaos-probe@example.com")
	require.NotNil(t, prober, "probe user: %v", load.failures)
	load.deposit(prober, 1_000_000)
	// A resent registration answered 409 is ours only if our password logs
	// in: register one user, then take the 409 of its registration sent
	// again as the answer to a resend.
	claimer := &chaosUser{email: "chaos-claim@example.com", password: "chaos claim password"}
	reg := map[string]string{"email": claimer.email, "name": "Chaos", "password": claimer.password}
	require.Equal(t, http.StatusCreated, load.c.do(chaosPatience, http.MethodPost, edge+"/api/v1/users", "", "", reg).status)
	taken := load.c.once(http.MethodPost, edge+"/api/v1/users", "", "", reg)
	require.Equal(t, http.StatusConflict, taken.status, "%s", taken.body)
	require.Nil(t, load.signIn(claimer, taken), "a 409 on the first send is not ours")
	taken.attempts = 2
	require.Nil(t, load.signIn(&chaosUser{email: claimer.email, password: "not ours"}, taken), "a 409 for someone else's email is not ours")
	require.Len(t, load.failures, 2)
	load.failures = nil
	require.NotNil(t, load.signIn(claimer, taken), "%v", load.failures)
	require.Equal(t, 1, load.claimed)
	load.claimed = 0 // the summary counts the load's
	_, ok := load.probe(prober, probeItem, time.Now().Add(chaosRecoveryBound))
	require.True(t, ok, "the system answers before any fault")

	loadCtx, stopLoad := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	// If a fault fails the test, the workers stop before the processes do.
	t.Cleanup(func() {
		stopLoad()
		workers.Wait()
	})
	loadStart := time.Now()
	for i := range plan.workers {
		workers.Go(func() { load.worker(loadCtx, i, plan.pause) })
	}

	time.Sleep(3 * time.Second)
	faults := injectFaults(t, r, plan, loadStart, func(until time.Time) (time.Time, bool) {
		return load.probe(prober, probeItem, until)
	}, log)
	if rest := plan.load - time.Since(loadStart); rest > 0 {
		time.Sleep(rest)
	}
	stopLoad()
	workers.Wait()
	loadTime := time.Since(loadStart)

	settleStart := time.Now()
	open := load.settle(chaosSettleTimeout)
	require.Empty(t, open, "still open after %s of settling", chaosSettleTimeout)
	require.Empty(t, load.failures, "answers a valid request must never get")
	conn := connect(t, r.dbURL)
	checks := chaosChecks()
	if natsURL != "" {
		checks = chaosChecksNATS()
		require.Eventually(t, func() bool {
			failures, err := audit(t.Context(), conn, natsEventChecks(modules.All()))
			return err == nil && len(failures) == 0
		}, chaosSettleTimeout, 200*time.Millisecond, "events still unhandled")
	}
	undelivered := undeliveredQuery(modules.All())
	require.Eventually(t, func() bool {
		var n int
		err := conn.QueryRow(t.Context(), undelivered).Scan(&n)
		return err == nil && n == 0
	}, chaosSettleTimeout, 200*time.Millisecond, "events still undelivered")
	settleTime := time.Since(settleStart)

	auditStart := time.Now()
	failures, err := audit(t.Context(), conn, checks)
	require.NoError(t, err)
	t.Logf("audited in %s", time.Since(auditStart).Round(time.Millisecond))
	assert.Empty(t, failures, "the data after the chaos")
	disagree := append(load.agreesWithDatabase(t, conn), load.readModelsAgree()...)
	totals, err := readTotals(t.Context(), conn)
	require.NoError(t, err)
	t.Logf("chaos suite, %s form, %s:\n%s", plan.form, bus(natsURL), summary(plan, loadTime, settleTime, log, faults, totals, len(load.orders), load.resentOrders(), load.claimed))
	assert.Empty(t, disagree, "what the clients saw, and the read models, against the data")
}

// injectFaults injects the faults one at a time, round after round, and
// after each waits for probe to succeed, which must happen within
// chaosRecoveryBound of the fault being lifted.
func injectFaults(t *testing.T, r *chaosRig, plan chaosPlan, loadStart time.Time,
	probe func(until time.Time) (time.Time, bool), log *exchangeLog) []*faultRecord {
	var faults []*faultRecord
	for round := 0; plan.rounds == 0 || round < plan.rounds; round++ {
		if plan.rounds == 0 && time.Since(loadStart) > plan.load-10*time.Second {
			break
		}
		for _, f := range plan.faults {
			rec := &faultRecord{name: f.name, start: time.Now()}
			faults = append(faults, rec)
			f.inject(r)
			rec.lifted = time.Now()
			rec.recovered, rec.ok = probe(rec.lifted.Add(chaosRecoveryBound))
			if !rec.ok {
				rec.recovered = time.Now()
			}
			rec.requests, rec.fivexx, rec.noAnswer = log.count(rec.start, rec.recovered)
			if f.definite {
				rec.indefinite = log.indefinite(rec.start, rec.recovered)
				assert.Empty(t, rec.indefinite, "%q: every request gets a definite answer", f.name)
			}
			t.Logf("fault %q: lifted after %s, answered again %s later", f.name,
				rec.lifted.Sub(rec.start).Round(time.Millisecond), rec.recovered.Sub(rec.lifted).Round(time.Millisecond))
			require.True(t, rec.ok, "no answer within %s after %q", chaosRecoveryBound, f.name)
			time.Sleep(plan.faultGap)
		}
	}
	return faults
}

func bus(natsURL string) string {
	if natsURL != "" {
		return "events through NATS"
	}
	return "events through PostgreSQL"
}

// agreesWithDatabase compares what the clients were told with what the
// database holds: the acknowledged deposits are all the deposits, and each
// order has the status and total its client last saw.
func (l *chaosLoad) agreesWithDatabase(t *testing.T, conn *pgx.Conn) []string {
	var out []string
	var acked, ledger int64
	for _, d := range l.deposits {
		if d.acked {
			acked += d.amount
		}
	}
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT coalesce(sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'deposit'").Scan(&ledger))
	if acked != ledger {
		out = append(out, fmt.Sprintf("clients saw %d cents deposited, the ledger holds %d", acked, ledger))
	}
	rows, err := conn.Query(t.Context(), "SELECT id::text, status, total_cents FROM orders.orders")
	require.NoError(t, err)
	type row struct {
		status string
		total  int64
	}
	db := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		require.NoError(t, rows.Scan(&id, &r.status, &r.total))
		db[id] = r
	}
	require.NoError(t, rows.Err())
	if len(db) != len(l.orders) {
		out = append(out, fmt.Sprintf("clients placed %d orders, the database holds %d", len(l.orders), len(db)))
	}
	for _, o := range l.orders {
		if got, ok := db[o.id]; !ok || got.status != o.status || got.total != o.total {
			out = append(out, fmt.Sprintf("order %s: client saw %s of %d, database has %+v", o.id, o.status, o.total, got))
		}
	}
	return out
}

// readModelsAgree asks users, through the API, for each customer's order
// statistics and compares them with the orders the client knows.
func (l *chaosLoad) readModelsAgree() []string {
	want := map[*chaosUser]users.OrderStats{}
	for _, o := range l.orders {
		if o.status == orders.StatusConfirmed {
			s := want[o.user]
			s.OrdersConfirmed++
			s.TotalSpentCents += o.total
			want[o.user] = s
		}
	}
	var out []string
	for _, u := range l.users {
		a := l.c.do(chaosPatience, http.MethodGet, l.topo.users+"/api/v1/users/me", u.token, "", nil)
		var me users.Me
		if a.status != http.StatusOK || !a.decode(&me) {
			out = append(out, fmt.Sprintf("me of %s: %d %s", u.email, a.status, a.body))
		} else if me.Stats != want[u] {
			out = append(out, fmt.Sprintf("stats of %s: %+v, orders say %+v", u.email, me.Stats, want[u]))
		}
	}
	return out
}

// summary is the table the suite prints.
func summary(plan chaosPlan, loadTime, settleTime time.Duration, log *exchangeLog, faults []*faultRecord, tt chaosTotals, placed, resent, claimed int) string {
	var b strings.Builder
	total, fivexx, none := log.count(time.Time{}, time.Time{})
	fmt.Fprintf(&b, "load: %s with %d workers; %d HTTP attempts, %d answered 5xx, %d got no answer; settled in %s\n",
		loadTime.Round(time.Second), plan.workers, total, fivexx, none, settleTime.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "%-60s %5s %9s %9s %9s %6s %9s\n", "fault", "times", "lasted", "recovery", "requests", "5xx", "no answer")
	for _, f := range plan.faults {
		var n, requests, fx, na int
		var lasted, recovery time.Duration
		for _, r := range faults {
			if r.name != f.name {
				continue
			}
			n, requests, fx, na = n+1, requests+r.requests, fx+r.fivexx, na+r.noAnswer
			lasted = max(lasted, r.lifted.Sub(r.start))
			recovery = max(recovery, r.recovered.Sub(r.lifted))
		}
		fmt.Fprintf(&b, "%-60s %5d %9s %9s %9d %6d %9d\n", f.name, n, lasted.Round(100*time.Millisecond),
			recovery.Round(10*time.Millisecond), requests, fx, na)
	}
	fmt.Fprintf(&b, "(lasted and recovery: the longest; requests, 5xx and no answer: summed over the fault windows,\n from a fault's start to the first answer after it)\n")
	outside := fivexx
	for _, f := range faults {
		outside -= f.fivexx
	}
	var statuses []string
	for status, n := range log.byStatus() {
		statuses = append(statuses, fmt.Sprintf("%d: %d", status, n))
	}
	slices.Sort(statuses)
	fmt.Fprintf(&b, "5xx outside the fault windows: %d; 5xx by status: %s\n", outside, strings.Join(statuses, ", "))
	fmt.Fprintf(&b, "recovery bound %s after each fault is lifted (time until an order is placed and charged again)\n", chaosRecoveryBound)
	fmt.Fprintf(&b, "registrations answered 409 only once resent, proved ours by logging in: %d\n", claimed)
	fmt.Fprintf(&b, "users %d, wallets %d; orders %d (%d answered only once sent again with their key): %d confirmed, %d cancelled, %d pending\n",
		tt.users, tt.wallets, placed, resent, tt.byStatus[orders.StatusConfirmed], tt.byStatus[orders.StatusCancelled], tt.byStatus[orders.StatusPending])
	eq := "="
	if tt.deposits != tt.balances+tt.charges-tt.refunds {
		eq = "<>"
	}
	fmt.Fprintf(&b, "money (cents): deposits %d %s balances %d + charges %d - refunds %d\n", tt.deposits, eq, tt.balances, tt.charges, tt.refunds)
	fmt.Fprintf(&b, "events: %d in outboxes, %d deliveries, %d inbox entries\n", tt.events, tt.deliveries, tt.inbox)
	return b.String()
}

// resentOrders counts the orders answered only after being sent again.
func (l *chaosLoad) resentOrders() int {
	n := 0
	for _, o := range l.orders {
		if o.sends > 1 {
			n++
		}
	}
	return n
}

package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/platform/health"
	"mitosis/platform/pgtest"
)

// TestE2EOrdersSettleByThemselvesAfterPaymentsDies kills payments (SIGKILL)
// under a running orders process: placements answer 202 with the order
// pending within the inline timeout, orders' breaker for payments opens
// (/health shows it), and once payments is back every pending order is
// confirmed by the recovery worker, with no client retry, charged exactly
// once; its history shows the steps it took.
func TestE2EOrdersSettleByThemselvesAfterPaymentsDies(t *testing.T) {
	t.Parallel()
	sp := startSplit(t, pgtest.NewDatabase(t), "", nil, map[string]string{
		"BREAKER_FAILURES": "3", "BREAKER_COOLDOWN": "200ms", "CALL_BACKOFF": "5ms",
		"SAGA_INLINE_TIMEOUT": "2s", "SAGA_RECOVERY_INTERVAL": "100ms", "SAGA_BACKOFF_MAX": "300ms",
	})
	u, p, o := sp.users, sp.payments, sp.orders

	s := &session{
		topo:  topology{users: u.url, payments: p.url, orders: o.url},
		alice: account{email: "alice@example.com", name: "Alice", password: "correct horse battery"},
		bob:   account{email: "bob@example.com", name: "Bob", password: "another long password"},
	}
	s.catalogIsPublic(t)
	s.register(t)
	s.issueTokens(t)
	s.deposit(t)
	cheapest := slices.MinFunc(s.catalog, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	items := []orders.Item{{SKU: cheapest.SKU, Quantity: 1}}

	p.kill(t)
	var pending []orders.Order
	for range 2 {
		start := time.Now()
		r := s.placeWithKey(t, uuid.NewString(), items)
		assert.Less(t, time.Since(start), 3*time.Second, "answered within the inline timeout")
		placed := decode[orders.Order](t, r, http.StatusAccepted)
		require.Equal(t, orders.StatusPending, placed.Status)
		require.Nil(t, placed.PaymentID)
		pending = append(pending, placed)
	}
	// orders stays ready (its own work is fine) and is degraded: payments,
	// which it calls, is down behind an open breaker.
	var rep health.Report
	require.Eventually(t, func() bool {
		rep = decode[health.Report](t, s.topo.do(t, request{method: http.MethodGet, base: o.url, path: "/health"}), http.StatusAccepted)
		return breakers(rep)["payments"][0] == health.Down
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, health.Degraded, rep.Status)
	assert.Equal(t, [2]string{"up", "closed"}, breakers(rep)["users"])
	assert.NotEqual(t, "closed", breakers(rep)["payments"][1], "open, or half-open once its cooldown passed")
	decode[map[string]string](t, s.topo.do(t, request{method: http.MethodGet, base: o.url, path: "/health/ready"}), http.StatusOK)
	h := decode[orders.OrderHistory](t, s.topo.get(t, "/api/v1/orders/"+pending[0].ID+"/history", s.alice.token), http.StatusOK)
	require.NotNil(t, h.NextStep)
	assert.Equal(t, orders.StepCharge, *h.NextStep)
	assert.Equal(t, orders.OutcomeRetrying, h.Steps[len(h.Steps)-1].Outcome)

	// payments comes back where it was; nobody asks again, yet the orders
	// are confirmed and charged once each.
	sp.restart(t, "payments")
	for _, placed := range pending {
		require.Eventually(t, func() bool {
			got := decode[orders.Order](t, s.topo.get(t, "/api/v1/orders/"+placed.ID, s.alice.token), http.StatusOK)
			return got.Status == orders.StatusConfirmed
		}, 15*time.Second, 100*time.Millisecond)
		list := decode[payments.PaymentList](t, s.topo.get(t, "/api/v1/payments?order_id="+placed.ID, s.alice.token), http.StatusOK)
		require.Len(t, list.Items, 1)
		assert.Equal(t, payments.StatusCaptured, list.Items[0].Status)
	}
	s.requireBalance(t, s.alice, depositCents-2*cheapest.PriceCents)
	h = decode[orders.OrderHistory](t, s.topo.get(t, "/api/v1/orders/"+pending[0].ID+"/history", s.alice.token), http.StatusOK)
	assert.Nil(t, h.NextStep)
	var steps []string
	for _, st := range h.Steps {
		steps = append(steps, st.Step+" "+st.Outcome)
	}
	assert.Equal(t, "check_customer succeeded", steps[0])
	assert.Contains(t, steps, "charge retrying")
	assert.Equal(t, []string{"charge succeeded", "confirm succeeded"}, steps[len(steps)-2:])
	require.Eventually(t, func() bool {
		r := s.topo.do(t, request{method: http.MethodGet, base: o.url, path: "/health"})
		return r.status == http.StatusOK
	}, 5*time.Second, 100*time.Millisecond)
	rep = decode[health.Report](t, s.topo.do(t, request{method: http.MethodGet, base: o.url, path: "/health"}), http.StatusOK)
	assert.Equal(t, map[string][2]string{"payments": {"up", "closed"}, "users": {"up", "closed"}}, breakers(rep))
}

// breakers maps each dependency to its readiness, as the monitor last saw
// it, and its breaker state.
func breakers(rep health.Report) map[string][2]string {
	out := map[string][2]string{}
	for _, m := range rep.Modules {
		for _, c := range m.Checks {
			if c.Kind == health.KindDependency {
				out[c.Name] = [2]string{c.Status, c.Breaker}
			}
		}
	}
	return out
}

// TestE2EOrdersKilledMidSagaSettleAfterRestart kills payments, places
// orders that stay pending, then kills orders too (SIGKILL, possibly
// holding a saga's lease mid-step). Once both are back, the recovery worker
// of the new orders process settles every order at start: confirmed,
// charged exactly once.
func TestE2EOrdersKilledMidSagaSettleAfterRestart(t *testing.T) {
	t.Parallel()
	sp := startSplit(t, pgtest.NewDatabase(t), "", nil, map[string]string{
		"SAGA_INLINE_TIMEOUT": "1s", "SAGA_RECOVERY_INTERVAL": "50ms", "SAGA_BACKOFF_MAX": "200ms", "SAGA_LEASE": "2s",
	})
	u, p, o := sp.users, sp.payments, sp.orders

	s := &session{
		topo:  topology{users: u.url, payments: p.url, orders: o.url},
		alice: account{email: "alice@example.com", name: "Alice", password: "correct horse battery"},
		bob:   account{email: "bob@example.com", name: "Bob", password: "another long password"},
	}
	s.catalogIsPublic(t)
	s.register(t)
	s.issueTokens(t)
	s.deposit(t)
	cheapest := slices.MinFunc(s.catalog, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	items := []orders.Item{{SKU: cheapest.SKU, Quantity: 1}}

	p.kill(t)
	var pending []orders.Order
	for range 3 {
		pending = append(pending, decode[orders.Order](t, s.placeWithKey(t, uuid.NewString(), items), http.StatusAccepted))
	}
	o.kill(t)

	sp.restart(t, "payments")
	sp.restart(t, "orders")
	for _, placed := range pending {
		require.Eventually(t, func() bool {
			got := decode[orders.Order](t, s.topo.get(t, "/api/v1/orders/"+placed.ID, s.alice.token), http.StatusOK)
			return got.Status == orders.StatusConfirmed
		}, 15*time.Second, 100*time.Millisecond)
		list := decode[payments.PaymentList](t, s.topo.get(t, "/api/v1/payments?order_id="+placed.ID, s.alice.token), http.StatusOK)
		require.Len(t, list.Items, 1, "charged exactly once")
	}
	s.requireBalance(t, s.alice, depositCents-3*cheapest.PriceCents)
}

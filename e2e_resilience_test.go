package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/platform/health"
	"mitosis/platform/pgtest"
)

// TestE2EADeadModuleOpensItsBreaker stops payments under a running orders
// process: orders' breaker for payments opens and answers at once with a 503
// saying so, /health shows it, and once payments is back a probe closes it
// and the order placed with the same key is charged exactly once.
func TestE2EADeadModuleOpensItsBreaker(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	env := func(services string) map[string]string {
		return map[string]string{"SERVICES": services, "DATABASE_URL": db, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	}
	// payments first: users publishes user.registered to it; payments reads
	// users' JWKS at an address chosen before.
	usersAddr := freeAddr(t)
	paymentsEnv := env("payments")
	paymentsEnv["USERS_URL"] = "http://" + usersAddr
	p := startApp(t, "payments", paymentsEnv)
	p.waitReady(t)
	usersEnv := env("users")
	usersEnv["PAYMENTS_URL"], usersEnv["HTTP_ADDR"] = p.url, usersAddr
	u := startApp(t, "users", usersEnv)
	u.waitReady(t)
	ordersEnv := env("orders")
	ordersEnv["USERS_URL"], ordersEnv["PAYMENTS_URL"] = u.url, p.url
	ordersEnv["BREAKER_FAILURES"], ordersEnv["BREAKER_COOLDOWN"], ordersEnv["CALL_BACKOFF"] = "3", "200ms", "5ms"
	o := startApp(t, "orders", ordersEnv)
	o.waitReady(t)

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

	p.stop(t)
	key := uuid.NewString()
	// The charge carries a key: three refused attempts, which open the breaker.
	requireProblem(t, s.placeWithKey(t, key, items), http.StatusServiceUnavailable, "unavailable")
	start := time.Now()
	d := requireProblem(t, s.placeWithKey(t, uuid.NewString(), items), http.StatusServiceUnavailable, "unavailable")
	assert.Contains(t, d.Detail, "circuit open")
	assert.Less(t, time.Since(start), time.Second)
	rep := decode[health.Report](t, s.topo.do(t, request{method: http.MethodGet, base: o.url, path: "/health"}), http.StatusServiceUnavailable)
	assert.Equal(t, map[string][2]string{"payments": {"down", "open"}, "users": {"up", "closed"}}, breakers(rep))

	// payments comes back where it was; after the cool-down a probe closes
	// the breaker, and the first order resumes under its key.
	ppEnv := env("payments")
	ppEnv["HTTP_ADDR"], ppEnv["USERS_URL"] = strings.TrimPrefix(p.url, "http://"), u.url
	again := startApp(t, "payments again", ppEnv)
	again.url = p.url
	again.waitReady(t)
	var placed orders.Order
	require.Eventually(t, func() bool {
		r := s.placeWithKey(t, key, items)
		if r.status != http.StatusCreated {
			return false
		}
		placed = decode[orders.Order](t, r, http.StatusCreated)
		return true
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, orders.StatusConfirmed, placed.Status)
	s.requireBalance(t, s.alice, depositCents-cheapest.PriceCents)
	rep = decode[health.Report](t, s.topo.do(t, request{method: http.MethodGet, base: o.url, path: "/health"}), http.StatusOK)
	assert.Equal(t, map[string][2]string{"payments": {"up", "closed"}, "users": {"up", "closed"}}, breakers(rep))
}

// breakers maps each dependency to its liveness and breaker state.
func breakers(rep health.Report) map[string][2]string {
	out := map[string][2]string{}
	for _, d := range rep.Deps {
		out[d.Name] = [2]string{d.Status, d.Breaker}
	}
	return out
}

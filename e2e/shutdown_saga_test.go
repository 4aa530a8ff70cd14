package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/platform/pgtest"
)

// chargeLatency slows every answer of payments to orders: the worker's
// charge is in flight that long.
const chargeLatency = 3 * time.Second

// TestShutdownFinishesTheSagaStepInFlight sends SIGTERM to orders while its
// recovery worker waits for a charge: the charge completes and is recorded,
// the worker starts no next step (the confirmation, which commits the
// order's stock in inventory) and releases the saga, the process exits 0, and no saga is left
// leased by it. Restarted, orders serves the order confirmed.
func TestShutdownFinishesTheSagaStepInFlight(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	base := map[string]string{"DATABASE_URL": dbURL, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret,
		"PASSWORD_HASH_COST": "4"}
	usersAddr := freeAddr(t)
	pay := startApp(t, "payments", with(base, map[string]string{"SERVICES": "payments", "USERS_URL": "http://" + usersAddr}))
	pay.waitReady(t)
	usr := startApp(t, "users", with(base, map[string]string{"SERVICES": "users", "HTTP_ADDR": usersAddr, "PAYMENTS_URL": pay.url}))
	usr.waitReady(t)

	toxi := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(toxi, "payments", "127.0.0.1:0", strings.TrimPrefix(pay.url, "http://"))
	require.NoError(t, proxy.Start())
	t.Cleanup(proxy.Stop)
	// The placing request gives up on the slow charge after a second and
	// answers 202; the worker takes the saga over at once and waits for
	// the charge's answer (its lease and call timeout are ample).
	ordersEnv := with(base, map[string]string{"SERVICES": "orders,inventory", "USERS_URL": usr.url, "PAYMENTS_URL": "http://" + proxy.Listen,
		"SAGA_INLINE_TIMEOUT": "1s", "SAGA_RECOVERY_INTERVAL": "100ms", "SAGA_BACKOFF_MAX": "200ms", "SAGA_LEASE": "30s",
		"CALL_TIMEOUT": "20s", "SHUTDOWN_TIMEOUT": "20s"})
	ord := startApp(t, "orders", ordersEnv)
	ord.waitReady(t)

	load := &chaosLoad{c: &chaosClient{http: &http.Client{Timeout: chaosRequestTimeout}, log: &exchangeLog{}},
		topo: topology{users: usr.url, payments: pay.url, orders: ord.url}}
	u := load.register("saga-shutdown@example.com")
	require.NotNil(t, u, "%v", load.failures)
	load.deposit(u, 100_000)
	var catalog orders.ProductList
	a := load.c.once(http.MethodGet, ord.url+"/api/v1/products", "", "", nil)
	require.True(t, a.status == http.StatusOK && a.decode(&catalog), "catalog: %d %s", a.status, a.body)

	_, err := proxy.Toxics.AddToxicJson(strings.NewReader(fmt.Sprintf(
		`{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":%d}}`, chargeLatency.Milliseconds())))
	require.NoError(t, err)
	a = load.c.once(http.MethodPost, ord.url+"/api/v1/orders", u.token, uuid.NewString(),
		map[string]any{"items": []orders.Item{{SKU: catalog.Items[0].SKU, Quantity: 1}}})
	var placed orders.Order
	require.True(t, a.status == http.StatusAccepted && a.decode(&placed), "placed pending: %d %s", a.status, a.body)

	conn := connect(t, dbURL)
	owner := fmt.Sprintf("/%d/", ord.cmd.Process.Pid)
	require.Eventually(t, func() bool {
		var held bool
		err := conn.QueryRow(t.Context(), `SELECT step = 'charge' AND attempts >= 1 AND lease_until > now() AND lease_owner LIKE '%' || $2 || '%'
			FROM orders.sagas WHERE order_id = $1`, placed.ID, owner).Scan(&held)
		return err == nil && held
	}, 10*time.Second, 20*time.Millisecond, "the worker holds the saga at its charge")
	require.NoError(t, ord.cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()
	ord.exitsCleanly(t)
	assert.Greater(t, time.Since(signalled), chargeLatency/3, "the process waited for the charge in flight")
	assert.Contains(t, ord.output.String(), "shutdown: saga worker stopped")
	assert.Contains(t, ord.output.String(), "steps_cut_short=false")

	var step string
	var released bool
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT step, lease_until <= now() FROM orders.sagas WHERE order_id = $1`,
		placed.ID).Scan(&step, &released))
	// The confirmation commits the order's stock in inventory: a step of
	// its own, which the halted worker does not start.
	assert.Equal(t, "confirm", step, "the charge was recorded; the confirmation is left to the next runner")
	assert.True(t, released, "the saga's lease is released")
	var charged int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM orders.saga_steps
		WHERE order_id = $1 AND step = 'charge' AND outcome = 'succeeded'`, placed.ID).Scan(&charged))
	assert.Equal(t, 1, charged, "the charge's outcome is in the history")
	var leased int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM orders.sagas
		WHERE lease_until > now() AND lease_owner LIKE '%' || $1 || '%'`, owner).Scan(&leased))
	assert.Zero(t, leased, "no saga leased by the process that exited")

	require.NoError(t, proxy.Toxics.RemoveToxic(t.Context(), "slow"))
	again := startApp(t, "orders again", with(ordersEnv, map[string]string{"HTTP_ADDR": strings.TrimPrefix(ord.url, "http://")}))
	again.url = ord.url
	again.waitReady(t)
	require.Eventually(t, func() bool {
		var got orders.Order
		a := load.c.once(http.MethodGet, ord.url+"/api/v1/orders/"+placed.ID, u.token, "", nil)
		return a.status == http.StatusOK && a.decode(&got) && got.Status == orders.StatusConfirmed
	}, 20*time.Second, 100*time.Millisecond, "the restarted orders confirms the order")
	var charges int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM payments.payments WHERE order_id = $1`, placed.ID).Scan(&charges))
	assert.Equal(t, 1, charges, "charged once")
}

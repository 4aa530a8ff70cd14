package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/gateway"
	"mitosis/platform/db"
	"mitosis/platform/health"
	"mitosis/platform/pgserver"
	"mitosis/platform/pgtest"
)

// ownCluster starts a PostgreSQL server of the test's own (stopping it
// must not disturb the other tests) holding an empty database "mitosis".
func ownCluster(t *testing.T) *pgserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	base, err := os.MkdirTemp("", "mitosis-health-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755)) // the server may run as the postgres user
	pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(base, "pg")})
	require.NoError(t, err)
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, pg.Stop(stopCtx))
		if pg.Dir() != filepath.Join(base, "pg") {
			_ = os.RemoveAll(pg.Dir())
		}
	})
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE mitosis")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	return pg
}

// healthOf asks a process's /health, checked against the document.
func healthOf(t *testing.T, topo topology, base string, status int) health.Report {
	t.Helper()
	return decode[health.Report](t, topo.do(t, request{method: http.MethodGet, path: "/health", base: base}), status)
}

// item is the check name of module in rep.
func item(t *testing.T, rep health.Report, module, name string) health.Item {
	t.Helper()
	for _, m := range rep.Modules {
		if m.Name != module {
			continue
		}
		for _, c := range m.Checks {
			if c.Name == name {
				return c
			}
		}
	}
	t.Fatalf("no check %s of %s in %+v", name, module, rep)
	return health.Item{}
}

// eventually polls path of base until it answers status.
func eventually(t *testing.T, topo topology, base, path string, status int) {
	t.Helper()
	var last response
	require.Eventually(t, func() bool {
		last = topo.do(t, request{method: http.MethodGet, path: path, base: base})
		return last.status == status
	}, 20*time.Second, 50*time.Millisecond, "%s%s: want %d, last %d %s", base, path, status, last.status, last.body)
}

// TestE2EHealthWhenAModulesDatabaseStops stops the PostgreSQL server that
// holds payments' data (its own): payments is unready and unhealthy (503)
// and says which check failed, without the driver's error, which the
// admin listener has; orders, which calls it, stays ready and is degraded
// (202); the relay that cannot read its outbox logs it once with a count,
// not five lines a second. Once the server is back, everything is 200.
func TestE2EHealthWhenAModulesDatabaseStops(t *testing.T) {
	t.Parallel()
	pg := ownCluster(t)
	sp := startSplit(t, pgtest.NewDatabase(t), pg.URL("mitosis"), map[string]string{"LOG_FORMAT": "json"}, nil)
	topo := topology{users: sp.users.url, payments: sp.payments.url, orders: sp.orders.url}
	eventually(t, topo, sp.orders.url, "/health", http.StatusOK)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, pg.Stop(ctx))
	stopped := time.Now()

	eventually(t, topo, sp.payments.url, "/health/ready", http.StatusServiceUnavailable)
	ready := decode[map[string]string](t, topo.do(t, request{method: http.MethodGet, path: "/health/ready", base: sp.payments.url}), http.StatusServiceUnavailable)
	assert.Equal(t, "down", ready["status"])
	decode[map[string]string](t, topo.do(t, request{method: http.MethodGet, path: "/health/live", base: sp.payments.url}), http.StatusOK)
	rep := healthOf(t, topo, sp.payments.url, http.StatusServiceUnavailable)
	assert.Equal(t, health.Unhealthy, rep.Status)
	assert.Equal(t, health.Down, item(t, rep, "payments", db.CheckDatabase).Status)
	r := topo.do(t, request{method: http.MethodGet, path: "/health", base: sp.payments.url})
	for _, internal := range []string{"SQLSTATE", "connect", "mitosis_payments", "127.0.0.1", "dial"} {
		assert.NotContains(t, string(r.body), internal, "no driver error or address in a public answer")
	}
	detail := adminHealth(t, sp.payments.admin, http.StatusServiceUnavailable)
	assert.NotEmpty(t, item(t, detail, "payments", db.CheckDatabase).Error, "the admin listener has the cause")

	// orders is fine on its own: ready, and degraded by payments.
	decode[map[string]string](t, topo.do(t, request{method: http.MethodGet, path: "/health/ready", base: sp.orders.url}), http.StatusOK)
	eventually(t, topo, sp.orders.url, "/health", http.StatusAccepted)
	rep = healthOf(t, topo, sp.orders.url, http.StatusAccepted)
	assert.Equal(t, health.Degraded, rep.Status)
	assert.Equal(t, health.Down, item(t, rep, "orders", "payments").Status)
	assert.Equal(t, health.Up, item(t, rep, "orders", db.CheckDatabase).Status)

	time.Sleep(3*time.Second - time.Since(stopped)) // fifteen polls of the relay at least
	require.NoError(t, pg.Restart(ctx))
	eventually(t, topo, sp.payments.url, "/health/ready", http.StatusOK)
	eventually(t, topo, sp.payments.url, "/health", http.StatusOK)
	eventually(t, topo, sp.orders.url, "/health", http.StatusOK)

	failed, recovered := relayLines(t, sp.payments.output.String())
	assert.Equal(t, 1, failed, "the relay's failure is logged once per interval")
	require.Eventually(t, func() bool {
		_, recovered = relayLines(t, sp.payments.output.String())
		return recovered != nil
	}, 10*time.Second, 50*time.Millisecond, "the relay logs its recovery")
	assert.Greater(t, recovered["repeated"], 5.0, "with the count of the failures it did not log: %v", recovered)
	assert.Equal(t, "payments", recovered["module"])
}

// relayLines counts the relay's failure lines in JSON output and returns
// its recovery line.
func relayLines(t *testing.T, output string) (failed int, recovered map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line["msg"] {
		case "event relay failed":
			failed++
		case "event relay recovered":
			recovered = line
		}
	}
	return failed, recovered
}

// adminHealth reads the detailed report of a process's admin listener.
func adminHealth(t *testing.T, admin string, status int) health.Report {
	t.Helper()
	resp, err := httpClient.Get(admin + "/admin/v1/health")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, status, resp.StatusCode)
	var rep health.Report
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	return rep
}

// TestE2EHealthWhenARemoteModuleIsKilled kills payments (SIGKILL) behind a
// gateway: orders stays ready and turns degraded (202); the gateway's
// monitor finds payments unhealthy, so /api/v1/services and the gateway's
// /health answer 503 while the gateway stays ready; users, which only
// delivers events to payments, stays healthy. Once payments is back on
// its address, every answer is 200 again.
func TestE2EHealthWhenARemoteModuleIsKilled(t *testing.T) {
	t.Parallel()
	sp := startSplit(t, pgtest.NewDatabase(t), "", nil, nil)
	split := topology{users: sp.users.url, payments: sp.payments.url, orders: sp.orders.url, inventory: sp.orders.url}
	g := behindGateway(t, split).users
	eventually(t, split, g, "/api/v1/services", http.StatusOK)

	sp.payments.kill(t)
	eventually(t, split, g, "/api/v1/services", http.StatusServiceUnavailable)
	list := decode[gateway.ServiceList](t, split.do(t, request{method: http.MethodGet, path: "/api/v1/services", base: g}), http.StatusServiceUnavailable)
	assert.Equal(t, health.Unhealthy, list.Status)
	for _, s := range list.Items {
		want := health.Healthy
		switch {
		case s.Name == "payments":
			want = health.Unhealthy
		case s.Where == gateway.WhereUnused: // a module the split does not run
			want = gateway.HealthUnknown
		}
		assert.Equal(t, want, s.Health, s.Name)
	}
	rep := healthOf(t, split, g, http.StatusServiceUnavailable)
	assert.Equal(t, health.Down, item(t, rep, "gateway", "payments").Status)
	decode[map[string]string](t, split.do(t, request{method: http.MethodGet, path: "/health/ready", base: g}), http.StatusOK)

	decode[map[string]string](t, split.do(t, request{method: http.MethodGet, path: "/health/ready", base: sp.orders.url}), http.StatusOK)
	eventually(t, split, sp.orders.url, "/health", http.StatusAccepted)
	assert.Equal(t, health.Down, item(t, healthOf(t, split, sp.orders.url, http.StatusAccepted), "orders", "payments").Status)
	healthOf(t, split, sp.users.url, http.StatusOK)

	sp.restart(t, "payments")
	eventually(t, split, g, "/api/v1/services", http.StatusOK)
	eventually(t, split, g, "/health", http.StatusOK)
	eventually(t, split, sp.orders.url, "/health", http.StatusOK)
}

package e2e

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/health"
	"mitosis/platform/natstest"
	"mitosis/platform/pgtest"
)

// TestE2ENATS runs the scenario with EVENTS_BROKER=nats against a NATS
// server embedded in the test, in one process and in three: the wallet
// made on registration and the order statistics of users travel through
// the stream, and nothing goes through the PostgreSQL bus. Then the broker
// goes down, and no process is ready.
func TestE2ENATS(t *testing.T) {
	for name, start := range map[string]func(t *testing.T, db string, env map[string]string) topology{
		"one process":     func(t *testing.T, db string, env map[string]string) topology { return oneProcessOn(t, db, env) },
		"three processes": func(t *testing.T, db string, env map[string]string) topology { return threeProcesses(t, db, "", env) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := natstest.Start(t)
			db := pgtest.NewDatabase(t)
			topo := start(t, db, map[string]string{"EVENTS_BROKER": "nats", "NATS_URL": srv.ClientURL()})
			runScenario(t, topo)
			requireEventsCrossedNATS(t, srv.ClientURL(), db)

			// The scenario's modules: a module it does not use has no schema
			// in the three processes' database.
			stdout, stderr, err := runApp(t, map[string]string{"DATABASE_URL": db, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret,
				"EVENTS_BROKER": "nats", "NATS_URL": srv.ClientURL(), "SERVICES": "users,payments,orders"}, "events", "status")
			require.NoError(t, err, stderr)
			for _, module := range []string{"payments", "users"} {
				require.Regexp(t, module+`\s+\(nats consumer\)\s+0\s`, stdout)
			}
			require.NotContains(t, stdout, "orders  (nats consumer)", "orders subscribes to nothing")

			// Without its broker no process is ready, and /health says why.
			srv.Shutdown()
			for _, p := range topo.processes {
				require.Eventually(t, func() bool {
					return topo.do(t, request{method: http.MethodGet, path: "/health/ready", base: p.url}).status == http.StatusServiceUnavailable
				}, 10*time.Second, 50*time.Millisecond, p.url)
				rep := decode[health.Report](t, topo.do(t, request{method: http.MethodGet, path: "/health", base: p.url}), http.StatusServiceUnavailable)
				require.Equal(t, health.Unhealthy, rep.Status)
				for _, m := range rep.Modules {
					if !slices.Contains(p.checks[m.Name], events.CheckBroker) {
						continue // no outbox or inbox: the broker is none of its business
					}
					require.Contains(t, m.Checks, health.Item{Name: events.CheckBroker, Kind: health.KindModule, Status: health.Down}, m.Name)
				}
			}
		})
	}
}

// requireEventsCrossedNATS checks that the relays published every outbox
// row without fanning any out into the PostgreSQL bus's delivery rows, and
// that the subscribers' durable consumers took and acknowledged them all.
func requireEventsCrossedNATS(t *testing.T, natsURL, db string) {
	conn := connect(t, db)
	for _, schema := range schemasIn(t, conn) {
		var unpublished, deliveries, dead int
		require.Eventually(t, func() bool {
			require.NoError(t, conn.QueryRow(t.Context(), `SELECT
					(SELECT count(*) FROM `+schema+`.event_outbox WHERE fanned_out_at IS NULL),
					(SELECT count(*) FROM `+schema+`.event_deliveries),
					(SELECT count(*) FROM `+schema+`.event_dead_letters)`).Scan(&unpublished, &deliveries, &dead))
			return unpublished == 0
		}, 10*time.Second, 20*time.Millisecond, "%s published its whole outbox", schema)
		require.Zero(t, deliveries, "%s: no delivery rows of the PostgreSQL bus", schema)
		require.Zero(t, dead, schema)
	}
	nc, err := nats.Connect(natsURL)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	for _, module := range []string{"payments", "users"} {
		cons, err := js.Consumer(t.Context(), events.Stream, "mitosis-"+module)
		require.NoError(t, err, module)
		require.Eventually(t, func() bool {
			info, err := cons.Info(context.Background())
			require.NoError(t, err)
			return info.Delivered.Consumer > 0 && info.NumPending == 0 && info.NumAckPending == 0
		}, 10*time.Second, 20*time.Millisecond, "%s consumed and acknowledged everything", module)
	}
}

// with returns env with extra's variables added.
func with(extra, env map[string]string) map[string]string {
	maps.Copy(env, extra)
	return env
}

// brokerDeps is the check a module's health shows for the events broker
// its environment selects.
func brokerDeps(env map[string]string) []string {
	if env["EVENTS_BROKER"] == "nats" {
		return []string{events.CheckBroker}
	}
	return nil
}

// ownChecks are the checks of a module that keeps data, with the broker of
// env, then the remote modules it calls.
func ownChecks(env map[string]string, calls ...string) []string {
	return append(append([]string{db.CheckDatabase, db.CheckMigrations}, brokerDeps(env)...), calls...)
}

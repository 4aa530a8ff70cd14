package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/modules/gateway"
	"mitosis/modules/inventory"
	"mitosis/modules/payments"
	"mitosis/platform/auth"
	"mitosis/platform/db"
	"mitosis/platform/health"
	"mitosis/platform/pgtest"
)

// TestE2E runs the same scenario against every topology, in parallel.
func TestE2E(t *testing.T) {
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		runScenario(t, oneProcess(t))
	})
	t.Run("one process, strict local calls", func(t *testing.T) {
		t.Parallel()
		topo := oneProcessOn(t, pgtest.NewDatabase(t), map[string]string{"LOCAL_CALLS": "strict"})
		runScenario(t, topo)
		// Answered 2xx: the scenario's own probes of the internal routes
		// (refused, 401) are no call between modules.
		t.Run("calls between modules took the internal routes", func(t *testing.T) {
			fams := scrape(t, topo.processes[0].admin)
			for _, route := range []string{"/internal/payments/charge", "/internal/users/get", "/internal/inventory/reserve",
				"/internal/inventory/commit", "/internal/:subscriber/events/batch"} {
				m, ok := sample(fams, "http_server_request_duration_seconds", map[string]string{"http_route": route, "http_response_status_class": "2xx"})
				require.True(t, ok, "no request on %s", route)
				require.Positive(t, m.GetHistogram().GetSampleCount(), route)
			}
		})
	})
	t.Run("three processes", func(t *testing.T) {
		t.Parallel()
		runScenario(t, threeProcesses(t, pgtest.NewDatabase(t), "", nil))
	})
	t.Run("gateway before three processes", func(t *testing.T) {
		t.Parallel()
		runScenario(t, behindGateway(t, threeProcesses(t, pgtest.NewDatabase(t), "", nil)))
	})
	t.Run("gateway before users, payments and the rest", func(t *testing.T) {
		t.Parallel()
		runScenario(t, theRest(t, pgtest.NewDatabase(t)))
	})
	t.Run("three processes, payments isolated, api-key service auth", func(t *testing.T) {
		t.Parallel()
		shared, own := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
		runScenario(t, threeProcesses(t, shared, own, map[string]string{
			"SERVICE_AUTH": "api-key", "SERVICE_API_KEY": "e2e-api-key-e2e-api-key-e2e-api-key-0123",
		}))
		t.Run("payments data only in its own database", func(t *testing.T) {
			require.Subset(t, tables(t, own, "payments"), []string{"wallets", "payments", "ledger_entries"})
			require.Empty(t, tables(t, shared, "payments"), "no payments tables in the shared database")
			require.False(t, relationExists(t, shared, "payments.wallets"))
			require.Subset(t, tables(t, shared, "orders"), []string{"orders", "products"})
			require.Subset(t, tables(t, shared, "users"), []string{"users"})
			require.Empty(t, tables(t, own, "orders"))
			require.Empty(t, tables(t, own, "users"))
		})
	})
	t.Run("three processes, no service auth (development)", func(t *testing.T) {
		t.Parallel()
		runScenario(t, threeProcesses(t, pgtest.NewDatabase(t), "", map[string]string{"SERVICE_AUTH": "none"}))
	})
}

func oneProcess(t *testing.T) topology { return oneProcessOn(t, pgtest.NewDatabase(t), nil) }

// oneProcessOn runs every module in one process on the database at dbURL,
// with the extra environment (which may switch the events broker).
func oneProcessOn(t *testing.T, dbURL string, extra map[string]string) topology {
	p := startApp(t, "app", with(extra, map[string]string{"DATABASE_URL": dbURL, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}))
	p.waitReady(t)
	checks := map[string][]string{}
	for _, s := range modules.All() {
		checks[s.Name] = moduleChecks(s, extra)
	}
	return topology{
		users: p.url, payments: p.url, orders: p.url, inventory: p.url, gateway: gateway.WhereLocal,
		processes: []healthWant{{url: p.url, admin: p.admin, gateway: true, checks: checks}},
	}
}

// threeProcesses starts payments, users (which delivers its events to
// payments), then orders calling them, with inventory in orders' process. With paymentsDB set, payments keeps
// its data in that database instead; extra is added to every process's
// environment.
func threeProcesses(t *testing.T, sharedDB, paymentsDB string, extra map[string]string) topology {
	return splitTopology(startSplit(t, sharedDB, paymentsDB, extra, nil), extra)
}

// splitTopology is the topology of the three processes of sp, started
// with extra.
func splitTopology(sp *split, extra map[string]string) topology {
	return topology{
		users: sp.users.url, payments: sp.payments.url, orders: sp.orders.url, inventory: sp.orders.url, serviceAuth: extra["SERVICE_AUTH"],
		processes: []healthWant{
			{url: sp.users.url, admin: sp.users.admin, checks: map[string][]string{"users": ownChecks(extra)}},
			{url: sp.payments.url, admin: sp.payments.admin, checks: map[string][]string{"payments": ownChecks(extra)}},
			{url: sp.orders.url, admin: sp.orders.admin, checks: map[string][]string{"orders": ownChecks(extra, "payments", "users"),
				inventory.Name: {db.CheckDatabase, db.CheckMigrations}}},
		},
	}
}

// split is the three processes of the split topology, each with the
// environment it was started with, for tests that kill and restart them.
type split struct {
	users, payments, orders *appProcess
	env                     map[string]map[string]string // by module
}

// startSplit starts the three processes as threeProcesses describes;
// ordersExtra is added to orders' environment only.
func startSplit(t *testing.T, sharedDB, paymentsDB string, extra, ordersExtra map[string]string) *split {
	env := func(services string) map[string]string {
		return with(extra, map[string]string{"SERVICES": services, "DATABASE_URL": sharedDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret})
	}
	paymentsEnv := env("payments")
	if paymentsDB != "" {
		paymentsEnv["PAYMENTS_DATABASE_ISOLATION"] = "isolated"
		paymentsEnv["PAYMENTS_DATABASE_URL"] = paymentsDB
	}
	// payments first: users publishes user.registered, which payments
	// handles. payments verifies access tokens against users' JWKS, so
	// users' address is chosen before either starts.
	usersAddr := freeAddr(t)
	paymentsEnv["USERS_URL"] = "http://" + usersAddr
	p := startApp(t, "payments", paymentsEnv)
	p.waitReady(t)
	usersEnv := env("users")
	usersEnv["HTTP_ADDR"] = usersAddr
	if brokerDeps(extra) == nil { // with a broker, users needs no subscriber's URL
		usersEnv["PAYMENTS_URL"] = p.url
	}
	u := startApp(t, "users", usersEnv)
	u.waitReady(t)
	// inventory rides in orders' process: a fourth process would slow every
	// split test (the chaos suite and e2e/alone_test.go run it alone).
	ordersEnv := with(ordersExtra, env("orders,"+inventory.Name))
	ordersEnv["USERS_URL"], ordersEnv["PAYMENTS_URL"] = u.url, p.url
	o := startApp(t, "orders", ordersEnv)
	o.waitReady(t)
	return &split{users: u, payments: p, orders: o,
		env: map[string]map[string]string{"users": usersEnv, "payments": paymentsEnv, "orders": ordersEnv}}
}

// restart starts module again, with its environment, on the address the
// killed process had, and waits until it is ready.
func (sp *split) restart(t *testing.T, module string) {
	old := map[string]*appProcess{"users": sp.users, "payments": sp.payments, "orders": sp.orders}[module]
	env := maps.Clone(sp.env[module])
	env["HTTP_ADDR"] = strings.TrimPrefix(old.url, "http://")
	again := startApp(t, module+" again", env)
	again.url = old.url
	again.waitReady(t)
}

// behindGateway starts a gateway-only process, without a database, in front
// of the split topology; clients then talk only to the gateway.
func behindGateway(t *testing.T, split topology) topology {
	topo, _ := behindGatewayWith(t, split, nil)
	return topo
}

// behindGatewayWith is behindGateway with extra in the gateway's
// environment; it also returns the gateway's process.
func behindGatewayWith(t *testing.T, split topology, extra map[string]string) (topology, *appProcess) {
	g := startApp(t, "gateway", with(extra, map[string]string{
		"SERVICES": "gateway", "SERVICE_SECRET": serviceSecret,
		"USERS_URL": split.users, "PAYMENTS_URL": split.payments, "ORDERS_URL": split.orders, "INVENTORY_URL": split.inventory,
	}))
	g.waitReady(t)
	return topology{
		users: g.url, payments: g.url, orders: g.url, inventory: g.url, gateway: gateway.WhereRemote,
		processes: append(split.processes, healthWant{url: g.url, admin: g.admin, gateway: true,
			checks: map[string][]string{"gateway": {"orders", "payments", "users"}}}),
	}, g
}

// unknownRoute asks every process for paths nothing serves, with and
// without a token: the answer must not depend on the topology.
func (s *session) unknownRoute(t *testing.T) {
	for _, p := range s.topo.processes {
		for _, rq := range []request{
			{path: "/no/such/route"},
			{path: "/api/v1/no-such-route", token: s.alice.token},
			{path: "/api/v1/no-such-route"},
		} {
			rq.method, rq.base = http.MethodGet, p.url
			requireProblem(t, s.topo.do(t, rq), http.StatusNotFound, "not_found")
		}
	}
}

// internalRoutes: no client, and no user token, can reach a module's
// internal API, on any process; nothing is credited by the attempt. Where
// the gateway runs (alone, or with the modules) internal routes do not even
// exist for such callers: 404, not 401. With SERVICE_AUTH=none
// (development only) they are open instead.
func (s *session) internalRoutes(t *testing.T) {
	if s.topo.serviceAuth == auth.ServiceAuthNone {
		s.openInternalRoutes(t)
		return
	}
	before := decode[map[string]any](t, s.topo.get(t, "/api/v1/wallet", s.alice.token), http.StatusOK)
	for _, p := range s.topo.processes {
		for _, token := range []string{"", s.alice.token} {
			r := s.topo.do(t, request{method: http.MethodPost, base: p.url, path: "/internal/payments/deposit", token: token,
				body: map[string]any{"user_id": s.alice.user.ID, "amount_cents": 5000000}})
			status, code := http.StatusUnauthorized, "unauthorized"
			if p.gateway {
				status, code = http.StatusNotFound, "not_found"
			}
			requireProblem(t, r, status, code)
			r = s.topo.do(t, request{method: http.MethodPost, base: p.url, path: "/internal/payments/events", token: token,
				body: map[string]any{"id": uuid.NewString(), "type": "user.registered"}})
			requireProblem(t, r, status, code)
		}
	}
	after := decode[map[string]any](t, s.topo.get(t, "/api/v1/wallet", s.alice.token), http.StatusOK)
	require.Equal(t, before["balance_cents"], after["balance_cents"])
}

// openInternalRoutes: without service auth, a call with no credentials
// reaches payments' internal API. It is sent around the contract check, as
// the OpenAPI document has no internal routes.
func (s *session) openInternalRoutes(t *testing.T) {
	body := strings.NewReader(`{"user_id":"` + s.alice.user.ID + `"}`)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.topo.payments+"/internal/payments/get-wallet", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var w payments.Wallet
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&w))
	require.Equal(t, s.alice.user.ID, w.UserID)
}

// health checks every process's breakdown: its version, uptime and time,
// its own modules with their checks, and in the split topologies the
// modules each calls, all up (healthy, 200). Statuses only: no URL or
// error in a public answer.
func (s *session) health(t *testing.T) {
	for _, want := range s.topo.processes {
		var r response
		// The monitor checks the remote modules every 200ms here.
		require.Eventually(t, func() bool {
			r = s.topo.do(t, request{method: http.MethodGet, path: "/health", base: want.url})
			return r.status == http.StatusOK
		}, 10*time.Second, 50*time.Millisecond, "%s: %s", want.url, r.body)
		rep := decode[health.Report](t, r, http.StatusOK)
		require.Equal(t, "application/json", mediaType(r))
		require.Equal(t, health.Healthy, rep.Status)
		require.NotEmpty(t, rep.Version)
		require.WithinDuration(t, time.Now(), rep.Timestamp, time.Minute)
		got := map[string][]string{}
		for _, m := range rep.Modules {
			require.Equal(t, health.Healthy, m.Status, m.Name)
			got[m.Name] = nil
			for _, c := range m.Checks {
				got[m.Name] = append(got[m.Name], c.Name)
				require.Equal(t, health.Up, c.Status, "%s %s", m.Name, c.Name)
				require.Empty(t, c.Error)
				require.Empty(t, c.URL)
				if c.Kind == health.KindDependency {
					require.Equal(t, "closed", c.Breaker, "breaker of %s", c.Name)
					require.NotNil(t, c.CheckedAt)
				}
			}
		}
		require.Equal(t, want.checks, got, want.url)
		require.NotContains(t, string(r.body), "127.0.0.1", "no address in a public answer")
	}
}

// tables lists the tables of schema in the database at adminURL.
func tables(t *testing.T, adminURL, schema string) []string {
	t.Helper()
	conn := connect(t, adminURL)
	rows, err := conn.Query(t.Context(), "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", schema)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func relationExists(t *testing.T, adminURL, name string) bool {
	t.Helper()
	var exists bool
	require.NoError(t, connect(t, adminURL).QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists))
	return exists
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

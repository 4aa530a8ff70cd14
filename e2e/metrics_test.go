package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/platform/pgtest"
)

// scrape reads a process's /metrics from its admin listener and parses
// the Prometheus text format.
func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	require.NotEmpty(t, admin, "the process has an admin listener")
	resp, err := httpClient.Get(admin + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sample finds the series of family name whose labels include want; ok is
// false when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	f, ok := fams[name]
	if !ok {
		return nil, false
	}
	for _, m := range f.GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match == len(want) {
			return m, true
		}
	}
	return nil, false
}

func counter(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	m, ok := sample(fams, name, want)
	require.True(t, ok, "no %s%v", name, want)
	return m.GetCounter().GetValue()
}

// uuidLike finds an id where a label value should never hold one.
var uuidLike = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// metricsScenario registers two customers, funds one, and places
// confirmed orders for it and one refused order for the other. It returns
// how many orders were placed.
func metricsScenario(t *testing.T, topo topology) (confirmed, refused int) {
	s := &session{
		topo:  topo,
		alice: account{email: "alice@example.com", name: "Alice", password: "correct horse battery"},
		bob:   account{email: "bob@example.com", name: "Bob", password: "another long password"},
	}
	s.catalogIsPublic(t)
	s.register(t)
	s.issueTokens(t)
	s.deposit(t)
	cheapest := slices.MinFunc(s.catalog, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	items := []orders.Item{{SKU: cheapest.SKU, Quantity: 1}}
	for i := range 3 {
		o := decode[orders.Order](t, s.placeWithKey(t, "metrics-"+string(rune('a'+i)), items), http.StatusCreated)
		require.Equal(t, orders.StatusConfirmed, o.Status)
	}
	r := s.topo.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: s.bob.token, body: map[string]any{"items": items}})
	require.Equal(t, orders.StatusCancelled, decode[orders.Order](t, r, http.StatusCreated).Status)
	return 3, 1
}

// TestE2EMetrics scrapes /metrics of real processes after a scenario, in
// one process and in three: every contract call is counted on its edge
// (orders → payments.Charge once per order, in-process or over HTTP, and
// timed only over HTTP), requests by route template, sagas by outcome, the
// outbox, pools, breakers, the runtime and the build; no label holds an id.
func TestE2EMetrics(t *testing.T) {
	for name, start := range map[string]func(t *testing.T) (topology, map[string]string){
		"one process": func(t *testing.T) (topology, map[string]string) {
			topo := oneProcess(t)
			a := topo.processes[0].admin
			return topo, map[string]string{"users": a, "payments": a, "orders": a}
		},
		"three processes": func(t *testing.T) (topology, map[string]string) {
			topo := threeProcesses(t, pgtest.NewDatabase(t), "", nil)
			return topo, map[string]string{"users": topo.processes[0].admin, "payments": topo.processes[1].admin, "orders": topo.processes[2].admin}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			topo, admins := start(t)
			confirmed, refused := metricsScenario(t, topo)
			placed := confirmed + refused
			transport := "local"
			if admins["orders"] != admins["payments"] {
				transport = "http"
			}

			o := scrape(t, admins["orders"])
			charge := map[string]string{"caller": "orders", "callee": "payments", "method": "Charge", "transport": transport}
			assert.Equal(t, float64(placed), counter(t, o, "mitosis_contract_calls_total", charge), "one charge per order")
			assert.Equal(t, float64(refused), counter(t, o, "mitosis_contract_call_failures_total",
				map[string]string{"caller": "orders", "method": "Charge", "transport": transport, "code": "payments.insufficient_funds"}))
			assert.Equal(t, float64(placed), counter(t, o, "mitosis_contract_calls_total",
				map[string]string{"caller": "orders", "callee": "users", "method": "Get", "transport": transport}), "each placement checks its customer")
			duration, timed := sample(o, "mitosis_contract_call_duration_seconds", charge)
			if transport == "http" {
				require.True(t, timed)
				assert.Equal(t, uint64(placed), duration.GetHistogram().GetSampleCount())
				m, ok := sample(o, "mitosis_transport_breaker_state", map[string]string{"module": "payments", "state": "closed"})
				require.True(t, ok)
				assert.Equal(t, 1.0, m.GetGauge().GetValue())
				_, ok = sample(o, "mitosis_transport_calls_in_flight", map[string]string{"module": "payments"})
				assert.True(t, ok)
			} else {
				assert.False(t, timed, "in-process calls are counted, not timed")
			}

			placements, ok := sample(o, "http_server_request_duration_seconds", map[string]string{
				"http_request_method": "POST", "http_route": "/api/v1/orders", "http_response_status_class": "2xx", "module": "orders"})
			require.True(t, ok)
			assert.Equal(t, uint64(placed), placements.GetHistogram().GetSampleCount())
			assert.Equal(t, float64(confirmed), counter(t, o, "mitosis_orders_sagas_settled_total", map[string]string{"status": "confirmed", "reason": "none"}))
			assert.Equal(t, float64(refused), counter(t, o, "mitosis_orders_sagas_settled_total",
				map[string]string{"status": "cancelled", "reason": "insufficient_funds"}))
			assert.Equal(t, float64(refused), counter(t, o, "mitosis_orders_saga_compensations_total", map[string]string{"step": "void_charge"}))
			unfinished, ok := sample(o, "mitosis_orders_sagas", map[string]string{"step": "charge"})
			require.True(t, ok)
			assert.Zero(t, unfinished.GetGauge().GetValue())

			p := scrape(t, admins["payments"])
			if transport == "http" {
				internal, ok := sample(p, "http_server_request_duration_seconds", map[string]string{
					"http_request_method": "POST", "http_route": "/internal/payments/charge", "module": "payments", "http_response_status_class": "2xx"})
				require.True(t, ok, "the callee's side of the edge")
				assert.Equal(t, uint64(confirmed), internal.GetHistogram().GetSampleCount())
			}
			// users' outbox reaches payments (a wallet per user); every delivery is done.
			require.Eventually(t, func() bool {
				u := scrape(t, admins["users"])
				m, ok := sample(u, "mitosis_events_pending_deliveries", map[string]string{"module": "users", "subscriber": "payments"})
				return ok && m.GetGauge().GetValue() == 0
			}, 10*time.Second, 100*time.Millisecond)
			u := scrape(t, admins["users"])
			delivered, ok := sample(u, "mitosis_events_delivery_duration_seconds",
				map[string]string{"module": "users", "subscriber": "payments", "outcome": "delivered"})
			require.True(t, ok)
			assert.GreaterOrEqual(t, delivered.GetHistogram().GetSampleCount(), uint64(2), "two registrations")
			for _, name := range []string{"mitosis_events_backlog_up", "mitosis_events_outbox_unpublished", "mitosis_events_dead_letters"} {
				_, ok := sample(u, name, map[string]string{"module": "users"})
				assert.True(t, ok, name)
			}

			for module, admin := range admins {
				fams := scrape(t, admin)
				pool, ok := sample(fams, "go_sql_max_open_connections", map[string]string{"db_name": module})
				require.True(t, ok, "pool of %s", module)
				assert.Equal(t, 20.0, pool.GetGauge().GetValue())
				info, ok := sample(fams, "mitosis_build_info", nil)
				require.True(t, ok)
				assert.Equal(t, 1.0, info.GetGauge().GetValue())
				for _, n := range []string{"go_goroutines", "process_resident_memory_bytes"} {
					assert.Contains(t, fams, n)
				}
				for _, f := range fams {
					for _, m := range f.GetMetric() {
						for _, l := range m.GetLabel() {
							assert.False(t, uuidLike.MatchString(l.GetValue()), "%s{%s=%q}: no ids in labels", f.GetName(), l.GetName(), l.GetValue())
						}
					}
				}
			}
			requireAdminRoutes(t, topo, admins["orders"], transport)
		})
	}
}

// requireAdminRoutes: the admin listener lists its routes and answers
// them; the public port has none of them.
func requireAdminRoutes(t *testing.T, topo topology, admin, transport string) {
	t.Helper()
	get := func(path string, out any) {
		t.Helper()
		resp, err := httpClient.Get(admin + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	var index struct {
		Routes []struct{ Method, Path, Summary string }
	}
	get("/admin/v1", &index)
	var paths []string
	for _, r := range index.Routes {
		require.NotEmpty(t, r.Summary, r.Path)
		paths = append(paths, r.Path)
	}
	assert.Subset(t, paths, []string{"/metrics", "/admin/v1", "/admin/v1/health", "/admin/v1/edges", "/admin/v1/placement", "/admin/v1/circuits"})

	var edges struct {
		Edges []struct {
			Caller, Callee, Method, Transport string
			Calls                             uint64
		}
	}
	get("/admin/v1/edges", &edges)
	found := false
	for _, e := range edges.Edges {
		if e.Caller == "orders" && e.Callee == "payments" && e.Method == "Charge" && e.Transport == transport {
			found = e.Calls == 4
		}
	}
	assert.True(t, found, "%+v", edges)

	var placement struct {
		Process struct{ Services []string }
		Modules []struct{ Name, Where, URL string }
	}
	get("/admin/v1/placement", &placement)
	assert.Contains(t, placement.Process.Services, "orders")
	for _, m := range placement.Modules {
		if m.Name == "payments" && transport == "http" {
			assert.Equal(t, "remote", m.Where)
			assert.NotEmpty(t, m.URL, "the admin listener shows addresses")
		}
	}
	var detail struct{ Status string }
	get("/admin/v1/health", &detail)
	assert.Equal(t, "healthy", detail.Status)

	for _, path := range []string{"/metrics", "/admin/v1", "/admin/v1/health"} {
		requireProblem(t, topo.do(t, request{method: http.MethodGet, path: path, base: topo.orders}), http.StatusNotFound, "not_found")
	}
}

package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/platform/pgtest"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
)

// tracingEnv makes a process export its spans to rcv at rate, in batches
// sent every 50ms (the SDK's own OTEL_BSP_SCHEDULE_DELAY) rather than 5s.
func tracingEnv(rcv *telemetrytest.Receiver, rate string) map[string]string {
	return map[string]string{"TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL(),
		"TRACING_SAMPLE_RATE": rate, "OTEL_BSP_SCHEDULE_DELAY": "50"}
}

var traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// customer registers a user, logs in and funds the wallet; it returns the
// access token.
func customer(t *testing.T, topo topology) string {
	t.Helper()
	email := "trace-" + uuid.NewString()[:8] + "@example.com"
	decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{"email": email, "name": "Tracy", "password": "a long password"}), http.StatusCreated)
	tok := decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", map[string]string{"email": email, "password": "a long password"}), http.StatusOK)
	// The wallet opens on user.registered, delivered by the relay.
	require.Eventually(t, func() bool {
		return topo.post(t, "/api/v1/wallet/deposits", tok.AccessToken, map[string]int64{"amount_cents": depositCents}).status == http.StatusCreated
	}, 10*time.Second, 50*time.Millisecond)
	return tok.AccessToken
}

// placeOrder places one order of the cheapest product, with extra headers.
func placeOrder(t *testing.T, topo topology, token string, header map[string]string) (orders.Order, response) {
	t.Helper()
	if header == nil {
		header = map[string]string{}
	}
	header["Idempotency-Key"] = uuid.NewString()
	r := topo.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: token, header: header,
		body: map[string]any{"items": []orders.Item{{SKU: "COFFEE-1KG", Quantity: 1}}}})
	o := decode[orders.Order](t, r, http.StatusCreated)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	return o, r
}

// settled waits until the trace's spans stop arriving: its root is in,
// and nothing new came for a while.
func settled(t *testing.T, rcv *telemetrytest.Receiver, traceID string, must ...string) []telemetrytest.Span {
	t.Helper()
	var last int
	var since time.Time
	var spans []telemetrytest.Span
	require.Eventually(t, func() bool {
		spans = rcv.Trace(traceID)
		if len(spans) != last {
			last, since = len(spans), time.Now()
			return false
		}
		for _, name := range must {
			if !slices.ContainsFunc(spans, func(s telemetrytest.Span) bool { return s.Name == name }) {
				return false
			}
		}
		return len(spans) > 0 && time.Since(since) > 500*time.Millisecond
	}, 20*time.Second, 50*time.Millisecond, "trace %s: %s", traceID, telemetrytest.Names(rcv.Trace(traceID)))
	return spans
}

// spanTree renders a trace as its tree of span names, children sorted,
// after collapsing each CLIENT span with its SERVER child of the same name
// (a remote call is one call) and the gateway's proxy hop (a gateway
// SERVER span, its "proxy <module>" CLIENT span, and the module's SERVER
// span are the module's span). The same placement then renders the same
// in every topology.
func spanTree(t *testing.T, spans []telemetrytest.Span) string {
	t.Helper()
	kids := map[string][]telemetrytest.Span{}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanID] = true
	}
	var roots []telemetrytest.Span
	for _, s := range spans {
		if s.ParentID == "" || !ids[s.ParentID] {
			roots = append(roots, s)
			continue
		}
		kids[s.ParentID] = append(kids[s.ParentID], s)
	}
	require.Len(t, roots, 1, "one root: %s", telemetrytest.Names(roots))
	var render func(s telemetrytest.Span) string
	render = func(s telemetrytest.Span) string {
		children := kids[s.SpanID]
		if len(children) == 1 {
			c := children[0]
			if s.Kind == "client" && c.Kind == "server" && c.Name == s.Name {
				return render(c)
			}
			if s.Kind == "server" && s.Service == "gateway" && c.Kind == "client" && strings.HasPrefix(c.Name, "proxy ") {
				if below := kids[c.SpanID]; len(below) == 1 && below[0].Kind == "server" {
					return render(below[0])
				}
			}
		}
		var parts []string
		for _, c := range children {
			parts = append(parts, render(c))
		}
		sort.Strings(parts)
		if len(parts) == 0 {
			return s.Name
		}
		return s.Name + "(" + strings.Join(parts, " ") + ")"
	}
	return render(roots[0])
}

// TestAnOrderPlacementIsOneTraceOfTheSameShapeInEveryTopology places one
// order in one process, in three, and through a gateway-only process in
// front of three, each exporting to a receiver of its own, and compares
// the span trees.
func TestAnOrderPlacementIsOneTraceOfTheSameShapeInEveryTopology(t *testing.T) {
	type run struct {
		name      string
		processes int
		depth     string
		start     func(t *testing.T, env map[string]string) topology
	}
	runs := []run{
		{"one process", 1, "0", func(t *testing.T, env map[string]string) topology { return oneProcessOn(t, pgtest.NewDatabase(t), env) }},
		{"three processes", 3, "0", func(t *testing.T, env map[string]string) topology {
			return threeProcesses(t, pgtest.NewDatabase(t), "", env)
		}},
		{"gateway before three processes", 4, "1", func(t *testing.T, env map[string]string) topology {
			topo, _ := behindGatewayWith(t, threeProcesses(t, pgtest.NewDatabase(t), "", env), env)
			return topo
		}},
	}
	trees := make([]string, len(runs))
	t.Run("topologies", func(t *testing.T) {
		for i, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				rcv := telemetrytest.Start(t)
				topo := r.start(t, tracingEnv(rcv, "1"))
				token := customer(t, topo)
				o, resp := placeOrder(t, topo, token, nil)
				traceID := resp.header.Get(telemetry.TraceIDHeader)
				require.Regexp(t, traceIDPattern, traceID)
				assert.Equal(t, "orders", resp.header.Get(telemetry.ServiceHeader), "orders answered")
				assert.Equal(t, r.depth, resp.header.Get(telemetry.DepthHeader))

				spans := settled(t, rcv, traceID, "saga confirm", "payments.Charge", "users.Get")
				trees[i] = spanTree(t, spans)
				requireRightServicesAndProcesses(t, spans, r.processes)
				requireConfirmationLinked(t, rcv, spans, o)
			})
		}
	})
	if t.Failed() {
		return
	}
	t.Logf("the placement's span tree: %s", trees[0])
	for i := range runs[1:] {
		assert.Equal(t, trees[0], trees[i+1], "%s against %s", runs[i+1].name, runs[0].name)
	}
	for _, name := range []string{"POST /api/v1/orders(", "users.Get(SELECT)", "saga charge(", "payments.Charge(BEGIN", "saga confirm("} {
		assert.Contains(t, trees[0], name)
	}
}

// requireRightServicesAndProcesses checks that each span comes from a
// process running its module, under that module's service: a contract
// call's INTERNAL and SERVER spans are the callee's, its CLIENT span the
// caller's, a statement the module's whose span it is in.
func requireRightServicesAndProcesses(t *testing.T, spans []telemetrytest.Span, processes int) {
	t.Helper()
	byID := map[string]telemetrytest.Span{}
	instances := map[string]bool{}
	for _, s := range spans {
		byID[s.SpanID] = s
		instances[s.Resource["service.instance.id"]] = true
	}
	assert.Len(t, instances, processes, "spans from every process the placement crossed")
	for _, s := range spans {
		assert.Contains(t, strings.Split(s.Resource["mitosis.services"], ","), s.Service, "%s from a process running %s", s.Name, s.Service)
		switch {
		case s.Attributes["mitosis.callee"] != "":
			want := s.Attributes["mitosis.callee"]
			if s.Kind == "client" {
				want = s.Attributes["mitosis.caller"]
			}
			assert.Equal(t, want, s.Service, "%s %s", s.Kind, s.Name)
			assert.Equal(t, "orders", s.Attributes["mitosis.caller"], s.Name)
		case s.Attributes["db.system.name"] != "":
			assert.Equal(t, byID[s.ParentID].Service, s.Service, "%s under %s", s.Name, byID[s.ParentID].Name)
			assert.NotContains(t, s.Attributes["db.query.text"], "COFFEE-1KG", "no value in a statement")
		case strings.HasPrefix(s.Name, "saga "):
			assert.Equal(t, "orders", s.Service)
		}
	}
}

// requireConfirmationLinked checks that users' handling of the order's
// order.confirmed is a span of its own trace, linked to the saga step that
// wrote the event.
func requireConfirmationLinked(t *testing.T, rcv *telemetrytest.Receiver, spans []telemetrytest.Span, o orders.Order) {
	t.Helper()
	i := slices.IndexFunc(spans, func(s telemetrytest.Span) bool { return s.Name == "saga confirm" })
	require.GreaterOrEqual(t, i, 0)
	confirm := spans[i]
	require.Equal(t, o.ID, confirm.Attributes["mitosis.order_id"])
	want := telemetrytest.Link{TraceID: confirm.TraceID, SpanID: confirm.SpanID}
	rcv.WaitFor(t, 20*time.Second, "users handling the confirmation", func(all []telemetrytest.Span) bool {
		for _, s := range all {
			if s.Name == "handle order.confirmed" && s.Service == "users" && slices.Contains(s.Links, want) && s.TraceID != confirm.TraceID {
				return true
			}
		}
		return false
	})
}

// TestSampling sends the same requests at rates 0, 0.5 and 1: every
// answer carries a trace id, and the share of traces exported follows the
// rate.
func TestSampling(t *testing.T) {
	const n = 400
	for _, tc := range []struct {
		rate     string
		min, max int
	}{
		{"0", 0, 0},
		// Binomial(400, 0.5): standard deviation 10; five of them.
		{"0.5", n/2 - 50, n/2 + 50},
		{"1", n, n},
	} {
		t.Run("rate "+tc.rate, func(t *testing.T) {
			t.Parallel()
			rcv := telemetrytest.Start(t)
			p := startApp(t, "app", with(tracingEnv(rcv, tc.rate), map[string]string{
				"DATABASE_URL": pgtest.NewDatabase(t), "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}))
			p.waitReady(t)
			topo := topology{users: p.url, payments: p.url, orders: p.url}
			ids := map[string]bool{}
			for range n {
				r := topo.get(t, "/api/v1/products", "")
				require.Equal(t, http.StatusOK, r.status)
				id := r.header.Get(telemetry.TraceIDHeader)
				require.Regexp(t, traceIDPattern, id)
				ids[id] = true
			}
			require.Len(t, ids, n, "a trace per request")
			p.stop(t) // flushes what is left
			exported := map[string]bool{}
			for _, s := range rcv.Named("GET /api/v1/products") {
				require.True(t, ids[s.TraceID])
				exported[s.TraceID] = true
			}
			assert.GreaterOrEqual(t, len(exported), tc.min)
			assert.LessOrEqual(t, len(exported), tc.max)
			if tc.rate == "0" {
				assert.Empty(t, rcv.Spans(), "nothing at all at rate 0")
			}
		})
	}
}

// TestIncomingTraceContextAcrossProcesses: an unsampled caller's ids go on
// through every process and into the events, and nothing is exported; an
// x-trace-id without traceparent names the trace when it is one, and is
// only recorded on a fresh trace when it is not.
func TestIncomingTraceContextAcrossProcesses(t *testing.T) {
	rcv := telemetrytest.Start(t)
	db := pgtest.NewDatabase(t)
	topo := threeProcesses(t, db, "", tracingEnv(rcv, "1"))
	token := customer(t, topo)

	const unsampled = "5bf92f3577b34da6a3ce929d0e0e4736"
	o, resp := placeOrder(t, topo, token, map[string]string{"Traceparent": "00-" + unsampled + "-00f067aa0ba902b7-00"})
	assert.Equal(t, unsampled, resp.header.Get(telemetry.TraceIDHeader))
	// payments wrote payment.captured while charging: under the same trace,
	// still unsampled.
	var parent string
	require.NoError(t, connect(t, db).QueryRow(t.Context(),
		`SELECT trace_parent FROM payments.event_outbox WHERE type = 'payment.captured' AND payload->>'order_id' = $1`, o.ID).Scan(&parent))
	assert.Regexp(t, "^00-"+unsampled+"-[0-9a-f]{16}-00$", parent)

	const given = "6bf92f3577b34da6a3ce929d0e0e4736"
	_, resp = placeOrder(t, topo, token, map[string]string{telemetry.TraceIDHeader: strings.ToUpper(given)})
	assert.Equal(t, given, resp.header.Get(telemetry.TraceIDHeader))
	spans := settled(t, rcv, given, "saga confirm", "payments.Charge")
	assert.GreaterOrEqual(t, len(spans), 10)

	bad := "not-a-trace-id " + strings.Repeat("x", 200)
	_, resp = placeOrder(t, topo, token, map[string]string{telemetry.TraceIDHeader: bad})
	fresh := resp.header.Get(telemetry.TraceIDHeader)
	require.Regexp(t, traceIDPattern, fresh)
	spans = settled(t, rcv, fresh, "saga confirm")
	var root telemetrytest.Span
	for _, s := range spans {
		if s.ParentID == "" {
			root = s
		}
	}
	assert.Equal(t, telemetry.Untrusted(bad), root.Attributes["mitosis.incoming_trace_id"])
	assert.Len(t, root.Attributes["mitosis.incoming_trace_id"], 64)

	assert.Empty(t, rcv.Trace(unsampled), "an unsampled trace exports nothing, in any process")
	for _, s := range rcv.Spans() {
		for _, l := range s.Links {
			if l.TraceID == unsampled {
				assert.Contains(t, []string{"deliver order.confirmed", "handle order.confirmed", "fetch JWKS"}, s.Name,
					"only the traces it caused point at it")
			}
		}
	}
}

// TestTracingToStdout: TRACING=stdout prints each span as a JSON line on
// the process's standard output, flushed at the latest when it stops.
func TestTracingToStdout(t *testing.T) {
	p := startApp(t, "app", map[string]string{"TRACING": "stdout", "DATABASE_URL": pgtest.NewDatabase(t),
		"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret})
	p.waitReady(t)
	r := topology{orders: p.url}.get(t, "/api/v1/products", "")
	require.Equal(t, http.StatusOK, r.status)
	p.stop(t)
	var found bool
	for _, line := range strings.Split(p.output.String(), "\n") {
		var span struct {
			Name        string
			SpanContext struct{ TraceID string }
			Resource    []struct{ Key string }
		}
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &span) != nil {
			continue
		}
		if span.Name == "GET /api/v1/products" && span.SpanContext.TraceID == r.header.Get(telemetry.TraceIDHeader) {
			found = true
		}
	}
	assert.True(t, found, "the request's span on stdout:\n%s", p.output)
}

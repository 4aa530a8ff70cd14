package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/platform/pgserver"
)

// chaosRig is the split topology under test: its own PostgreSQL cluster
// (restarting it must not disturb the other tests of the package), the
// three module processes, a toxiproxy in front of users and payments
// through which every call between modules passes, and the gateway in
// front of them all, through which every client request goes. With
// natsURL set, events go through that NATS server (EVENTS_BROKER=nats).
type chaosRig struct {
	t       *testing.T
	pg      *pgserver.Server
	dbURL   string
	natsURL string
	proxies map[string]*toxiproxy.Proxy
	addrs   map[string]string // where each module process listens
	procs   map[string]*appProcess
}

// chaosModules are every module but the gateway, from the module list,
// each in a process of its own. Order does not matter: a module whose
// callee or subscriber is not up yet is still ready, and retries.
func chaosModules() []string {
	var out []string
	for _, s := range modules.All() {
		if !s.Proxies {
			out = append(out, s.Name)
		}
	}
	return out
}

// chaosProcesses are the modules' processes and, last, the edge's: each
// module that proxies (the gateway) in front of them.
func chaosProcesses() []string {
	out := chaosModules()
	for _, s := range modules.All() {
		if s.Proxies {
			out = append(out, s.Name)
		}
	}
	return out
}

func startChaosRig(t *testing.T, natsURL string) *chaosRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	base, err := os.MkdirTemp("", "mitosis-chaos-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	// The server may run as the postgres user, who must reach its directory.
	require.NoError(t, os.Chmod(base, 0o755))
	pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(base, "pg")})
	require.NoError(t, err)
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pg.Stop(stopCtx); err != nil {
			t.Errorf("stop chaos PostgreSQL: %v", err)
		}
		if pg.Dir() != filepath.Join(base, "pg") {
			_ = os.RemoveAll(pg.Dir())
		}
	})
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE mitosis")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))

	r := &chaosRig{t: t, pg: pg, dbURL: pg.URL("mitosis"), natsURL: natsURL,
		proxies: map[string]*toxiproxy.Proxy{}, addrs: map[string]string{}, procs: map[string]*appProcess{}}
	toxi := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	for _, m := range chaosProcesses() {
		r.addrs[m] = freeAddr(t)
	}
	for _, m := range chaosModules() {
		p := toxiproxy.NewProxy(toxi, m, "127.0.0.1:0", r.addrs[m])
		require.NoError(t, p.Start())
		t.Cleanup(p.Stop)
		r.proxies[m] = p
	}
	for _, m := range chaosProcesses() {
		r.start(m)
	}
	return r
}

// env is a module process's environment: calls to other modules (and
// reads of users' signing keys) go through the proxies, one per module;
// breakers probe again after a second; event deliveries retry quickly but
// long enough (about a minute and a half) to outlast any fault without
// becoming dead letters. On SIGTERM a process serves on for a second (as
// behind a load balancer), then drains.
func (r *chaosRig) env(module string) map[string]string {
	if !slices.Contains(chaosModules(), module) { // the edge: no database, no events, the modules' public routes
		env := map[string]string{"SERVICES": module, "HTTP_ADDR": r.addrs[module], "SERVICE_SECRET": serviceSecret,
			"SHUTDOWN_DELAY": "1s", "SHUTDOWN_TIMEOUT": "15s"}
		for _, m := range chaosModules() {
			env[strings.ToUpper(m)+"_URL"] = r.url(m)
		}
		return env
	}
	env := map[string]string{
		"SERVICES": module, "DATABASE_URL": r.dbURL, "HTTP_ADDR": r.addrs[module],
		"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret,
		"BREAKER_COOLDOWN": "1s", "PASSWORD_HASH_COST": "4", "TOKEN_TTL": "2h", "DATABASE_MAX_CONNS": "10",
		"EVENTS_POLL_INTERVAL": "100ms", "EVENTS_BACKOFF_BASE": "250ms", "EVENTS_BACKOFF_MAX": "3s", "EVENTS_MAX_ATTEMPTS": "40",
		"SHUTDOWN_DELAY": "1s", "SHUTDOWN_TIMEOUT": "15s",
	}
	if r.natsURL != "" {
		env["EVENTS_BROKER"], env["NATS_URL"] = "nats", r.natsURL
	}
	for _, other := range chaosModules() {
		if other != module {
			env[strings.ToUpper(other)+"_URL"] = "http://" + r.proxies[other].Listen
		}
	}
	return env
}

// start runs the module's process on its address and waits until ready.
func (r *chaosRig) start(module string) {
	name := module
	if r.procs[module] != nil {
		name += " again"
	}
	p := startApp(r.t, name, r.env(module))
	p.url = "http://" + r.addrs[module]
	p.waitReady(r.t)
	r.procs[module] = p
}

// url is where a module's process listens; clients use the gateway's.
func (r *chaosRig) url(module string) string { return "http://" + r.addrs[module] }

// chaosFault is one fault: inject returns once the fault is lifted. A
// definite fault must leave every client request with a definite answer
// (exchange.definite) from its start to the recovery.
type chaosFault struct {
	name     string
	inject   func(r *chaosRig)
	definite bool
}

// chaosFaults are injected in this order, round after round.
var chaosFaults = []chaosFault{
	// A rolling restart: SIGTERM each process in turn, started again as
	// soon as it has exited.
	{"SIGTERM payments, restart once it exited", func(r *chaosRig) { r.terminate("payments") }, true},
	{"SIGTERM orders, restart once it exited", func(r *chaosRig) { r.terminate("orders") }, true},
	{"SIGTERM users, restart once it exited", func(r *chaosRig) { r.terminate("users") }, true},
	{"SIGTERM inventory, restart once it exited", func(r *chaosRig) { r.terminate("inventory") }, true},
	{"SIGTERM gateway, restart once it exited", func(r *chaosRig) { r.terminate("gateway") }, true},
	{"SIGKILL payments, restart after 1s", func(r *chaosRig) { r.crash("payments") }, false},
	{"SIGKILL orders, restart after 1s", func(r *chaosRig) { r.crash("orders") }, false},
	{"SIGKILL inventory, restart after 1s", func(r *chaosRig) { r.crash("inventory") }, false},
	// Meanwhile orders may accept orders as pending (its saga checks the
	// customer again later) and a verifier without cached keys answers 503.
	{"SIGKILL users, restart after 1s", func(r *chaosRig) { r.crash("users") }, false},
	{"PostgreSQL stopped (fast) for 2s, restarted", func(r *chaosRig) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(r.t, r.pg.Stop(ctx))
		time.Sleep(2 * time.Second)
		require.NoError(r.t, r.pg.Restart(ctx))
	}, false},
	{"latency 200±100ms each way between modules for 6s", func(r *chaosRig) {
		for _, p := range r.proxies {
			for _, stream := range []string{"upstream", "downstream"} {
				r.toxic(p, fmt.Sprintf(`{"name":"lag_%s","type":"latency","stream":%q,"attributes":{"latency":200,"jitter":100}}`, stream, stream))
			}
		}
		time.Sleep(6 * time.Second)
		for _, p := range r.proxies {
			r.untoxic(p, "lag_upstream", "lag_downstream")
		}
	}, false},
	{"connections cut for 4s: to payments refused, to users reset", func(r *chaosRig) {
		r.proxies["payments"].Stop() // closes the open connections too
		r.toxic(r.proxies["users"], `{"name":"reset","type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`)
		time.Sleep(4 * time.Second)
		require.NoError(r.t, r.proxies["payments"].Start())
		r.untoxic(r.proxies["users"], "reset")
	}, false},
}

// crash kills the module's process with SIGKILL and restarts it a second
// later on the same address.
func (r *chaosRig) crash(module string) {
	r.procs[module].kill(r.t)
	time.Sleep(time.Second)
	r.start(module)
}

// terminate stops the module's process with SIGTERM, as a rollout does,
// requires a clean exit, and starts it again on the same address.
func (r *chaosRig) terminate(module string) {
	p := r.procs[module]
	require.NoError(r.t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.exitsCleanly(r.t)
	r.start(module)
}

func (r *chaosRig) toxic(p *toxiproxy.Proxy, spec string) {
	_, err := p.Toxics.AddToxicJson(strings.NewReader(spec))
	require.NoError(r.t, err, spec)
}

func (r *chaosRig) untoxic(p *toxiproxy.Proxy, names ...string) {
	for _, n := range names {
		require.NoError(r.t, p.Toxics.RemoveToxic(context.Background(), n))
	}
}

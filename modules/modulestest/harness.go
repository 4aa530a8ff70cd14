// Package modulestest starts real processes inside tests: the modules on a
// fresh PostgreSQL database behind a real HTTP server on loopback, and
// processes that only hold HTTP clients to them.
package modulestest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"mitosis/migrations"
	"mitosis/modules"
	"mitosis/platform/admin"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/health"
	"mitosis/platform/httpserver"
	"mitosis/platform/pgtest"
	"mitosis/platform/process"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
	"mitosis/web"
)

// Secrets of test processes: TestSecret signs service tokens, and
// TestKeySecret seals users' signing keys.
const (
	TestSecret    = "test-secret-test-secret-test-secret-0123456789"
	TestKeySecret = "test-key-secret-test-key-secret-0123456789"
)

// generousRate is a gateway rate limit no test reaches.
const generousRate = "1000000/s burst 1000000"

// Process is a started app; URL is its HTTP base address.
type Process struct {
	URL string
	DB  string // admin URL of its shared database
	// Admin is the base address of its admin listener ("" when
	// ADMIN_ADDR=off).
	Admin string
}

// Start runs the modules named by env["SERVICES"] (default all) on a fresh
// database, and fills targets (pointers, as with fx.Populate).
func Start(t testing.TB, env map[string]string, targets ...any) *Process {
	t.Helper()
	vars := map[string]string{
		"HTTP_ADDR":          "127.0.0.1:0",
		"SERVICE_SECRET":     TestSecret,
		"SIGNING_KEY_SECRET": TestKeySecret,
		"DATA_DIR":           t.TempDir(),
		// bcrypt's cheapest cost: password hashing is not under test here.
		"PASSWORD_HASH_COST": "4",
		// Every test client shares one IP: limits are tested on their own.
		"RATE_LIMIT_DEFAULT":  generousRate,
		"RATE_LIMIT_AUTH":     generousRate,
		"RATE_LIMIT_REGISTER": generousRate,
		// Many processes run at once: each admin listener on a port of its own.
		"ADMIN_ADDR": "127.0.0.1:0",
		// Tests wait for the monitor's view of remote modules.
		"HEALTH_MONITOR_INTERVAL": "100ms",
	}
	if env["DATABASE_URL"] == "" {
		vars["DATABASE_URL"] = pgtest.NewDatabase(t)
	}
	// A module with a database of its own by default gets a fresh one.
	for _, s := range modules.All() {
		if key := strings.ToUpper(s.Name) + "_DATABASE_URL"; s.Settings.Isolation == config.Isolated && env[key] == "" {
			vars[key] = pgtest.NewDatabase(t)
		}
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] }, modules.Names(), topology.Sections(modules.All())...)
	require.NoError(t, err)
	opts, _, err := process.Options(cfg, modules.All(), migrations.Tree(), web.Site(), quietLogger())
	require.NoError(t, err)
	bound, adminBound := &httpserver.Bound{}, &admin.Bound{}
	run(t, fx.Options(opts, fx.Populate(append(targets, &bound, &adminBound)...)))
	p := &Process{URL: "http://" + bound.Addr, DB: vars["DATABASE_URL"]}
	if adminBound.Addr != "" {
		p.Admin = "http://" + adminBound.Addr
	}
	return p
}

// Clients builds a process without local modules whose contracts are HTTP
// clients of the modules at urls, and fills targets with them.
func Clients(t testing.TB, urls map[string]string, targets ...any) {
	t.Helper()
	ClientsWith(t, nil, urls, targets...)
}

// ClientsWith is Clients configured by env (TRACING, ...): its calls are
// traced as the process's, as a process's would be.
func ClientsWith(t testing.TB, env map[string]string, urls map[string]string, targets ...any) {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] }, modules.Names(), topology.Sections(modules.All())...)
	require.NoError(t, err)
	place := topology.Manual(nil, urls)
	run(t, fx.Options(
		fx.Supply(cfg, transport.NewFactory(cfg, auth.NewJWTServiceAuth([]byte(TestSecret), "test"), quietLogger())),
		fx.Provide(func() *health.Registry { return health.NewRegistry() }),
		fx.Provide(func(lc fx.Lifecycle) (*telemetry.Tracing, error) { return telemetry.Start(lc, cfg, nil, quietLogger()) }),
		fx.Provide(func(t *telemetry.Tracing) *contract.Registry { return contract.NewRegistry(contract.Traced(t)) }),
		place.Options(modules.All()),
		fx.Populate(targets...),
	))
}

func run(t testing.TB, opts fx.Option) {
	t.Helper()
	app := fx.New(opts, fx.NopLogger)
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, app.Stop(context.Background())) })
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

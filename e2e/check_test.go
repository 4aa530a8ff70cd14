package e2e

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/modules"
)

// TestCheckPassesWithoutPortOrDatabase runs `app check` on configurations
// that would run: each prints one "ok:" line saying where every module runs
// and exits 0, while this test holds HTTP_ADDR (serve could not bind it) and
// nothing listens at DATABASE_URL.
func TestCheckPassesWithoutPortOrDatabase(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Close() })
	const usersURL, paymentsURL, ordersURL = "http://users:8080", "http://payments:8080", "https://orders.internal"
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"development, every module", map[string]string{},
			[]string{"ok: development;", "users: local", "gateway: local"}},
		{"production orders", map[string]string{"APP_ENV": "production", "SERVICES": "orders", "USERS_URL": usersURL,
			"PAYMENTS_URL": paymentsURL, "INVENTORY_URL": "http://inventory:8080", "DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret},
			[]string{"ok: production;", "users: remote at " + usersURL, "payments: remote at " + paymentsURL, "orders: local"}},
		{"production gateway alone, no database", map[string]string{"APP_ENV": "production", "SERVICES": "gateway",
			"USERS_URL": usersURL, "PAYMENTS_URL": paymentsURL, "ORDERS_URL": ordersURL, "SERVICE_SECRET": serviceSecret},
			[]string{"orders: remote at " + ordersURL, "gateway: local"}},
		{"production payments isolated, api-key, NATS", map[string]string{"APP_ENV": "production", "SERVICES": "payments",
			"JWKS_URL": usersURL + "/.well-known/jwks.json", "PAYMENTS_DATABASE_ISOLATION": "isolated",
			"PAYMENTS_DATABASE_URL": unreachableDB, "SERVICE_AUTH": "api-key", "SERVICE_API_KEY": serviceSecret,
			"EVENTS_BROKER": "nats", "NATS_URL": "nats://nats-1:4222, nats-2:4222"},
			[]string{"payments: local", "users: not used here"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["HTTP_ADDR"] = held.Addr().String()
			start := time.Now()
			stdout, stderr, err := runApp(t, tc.env, "check")
			require.NoError(t, err, stderr)
			require.Less(t, time.Since(start), startupBudget)
			require.Empty(t, stderr)
			require.Equal(t, 1, strings.Count(stdout, "\n"), stdout)
			for _, w := range tc.want {
				require.Contains(t, stdout, w)
			}
			require.NotContains(t, stdout, "secret@", "the database password must not be printed")
		})
	}
}

// TestEnvFiles runs `app check` in a directory with .env and .env.local: in
// development both are read, .env.local over .env and the environment over
// both; in production neither is, only the file ENV_FILE names.
func TestEnvFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write(".env", "SERVICES=orders\nUSERS_URL=http://from-dotenv:8080\nPAYMENTS_URL=http://from-dotenv:8080\nORDERS_URL=http://from-dotenv:8080\nINVENTORY_URL=http://from-dotenv:8080\n")
	write(".env.local", "# local overrides\nPAYMENTS_URL=http://from-local:8080\nORDERS_URL=http://from-local:8080\n")
	write("prod.env", "SERVICES=payments\nJWKS_URL=http://from-env-file:8080/.well-known/jwks.json\n")

	stdout, stderr, err := runAppIn(t, dir, map[string]string{"ORDERS_URL": "http://from-process:8080"}, "check")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, "users: remote at http://from-dotenv:8080")
	require.Contains(t, stdout, "payments: remote at http://from-local:8080")
	require.Contains(t, stdout, "orders: local", "SERVICES from .env")

	prod := map[string]string{"APP_ENV": "production", "DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	stdout, stderr, err = runAppIn(t, dir, prod, "check")
	require.NoError(t, err, stderr)
	var every []string
	for _, s := range modules.All() {
		every = append(every, s.Name+": local")
	}
	require.Contains(t, stdout, strings.Join(every, "; "), "production reads no .env: every module runs")

	prod["ENV_FILE"] = "prod.env"
	stdout, stderr, err = runAppIn(t, dir, prod, "check")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, "payments: local")
	require.Contains(t, stdout, "orders: not used here")

	prod["ENV_FILE"] = "missing.env"
	_, stderr, err = runAppIn(t, dir, prod, "check")
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit))
	require.Contains(t, errorLine(t, stderr), "missing.env")
}

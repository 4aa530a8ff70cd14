package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startupBudget is how soon a misconfigured process must give up.
const startupBudget = 10 * time.Second

// unreachableDB is a well-formed URL nothing listens on: these failures must
// be found from the configuration alone, before any connection.
const unreachableDB = "postgres://nobody:secret@127.0.0.1:1/none"

// TestStartupFailures runs misconfigured processes and expects each to exit
// non-zero, quickly, with only error lines, one per problem, naming each
// (the want strings, found across those lines; lines, when set, is how many
// there must be), and `app check` to print exactly the same lines.
func TestStartupFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		env   map[string]string
		want  []string
		lines int
	}{
		{
			name: "unknown module in SERVICES",
			env: map[string]string{"SERVICES": "orders,bogus", "USERS_URL": "http://127.0.0.1:1", "PAYMENTS_URL": "http://127.0.0.1:2", "INVENTORY_URL": "http://127.0.0.1:3",
				"DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"SERVICES", "bogus"},
		},
		{
			name:  "dependencies neither local nor configured",
			env:   map[string]string{"SERVICES": "orders", "DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want:  []string{"users", "USERS_URL", "payments", "PAYMENTS_URL", "inventory", "INVENTORY_URL"},
			lines: 3,
		},
		{
			name: "production without SERVICE_SECRET",
			env:  map[string]string{"APP_ENV": "production", "DATABASE_URL": unreachableDB, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"SERVICE_SECRET"},
		},
		{
			name: "SERVICE_AUTH=none in production",
			env: map[string]string{"APP_ENV": "production", "DATABASE_URL": unreachableDB, "SERVICE_AUTH": "none",
				"SIGNING_KEY_SECRET": keySecret},
			want: []string{"SERVICE_AUTH=none", "APP_ENV=development"},
		},
		{
			name: "api-key service auth without SERVICE_API_KEY",
			env: map[string]string{"DATABASE_URL": unreachableDB, "SERVICE_AUTH": "api-key",
				"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"SERVICE_API_KEY"},
		},
		{
			name: "production api-key service auth without SERVICE_API_KEY",
			env: map[string]string{"APP_ENV": "production", "DATABASE_URL": unreachableDB, "SERVICE_AUTH": "api-key",
				"SIGNING_KEY_SECRET": keySecret},
			want: []string{"SERVICE_API_KEY"},
		},
		{
			name: "production without SIGNING_KEY_SECRET",
			env:  map[string]string{"APP_ENV": "production", "DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret},
			want: []string{"SIGNING_KEY_SECRET"},
		},
		{
			name: "production payments without a way to users' keys",
			env: map[string]string{"APP_ENV": "production", "SERVICES": "payments", "DATABASE_URL": unreachableDB,
				"SERVICE_SECRET": serviceSecret},
			want: []string{"JWKS_URL", "USERS_URL"},
		},
		{
			name: "a remote subscriber of a local publisher without its URL",
			env: map[string]string{"SERVICES": "users", "DATABASE_URL": unreachableDB,
				"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"payments", "user.registered", "PAYMENTS_URL"},
		},
		{
			name: "isolated payments without its database",
			env: map[string]string{"SERVICES": "payments", "PAYMENTS_DATABASE_ISOLATION": "isolated",
				"DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"payments", "PAYMENTS_DATABASE_URL"},
		},
		{
			name:  "production without any secret: all named at once",
			env:   map[string]string{"APP_ENV": "production", "DATABASE_URL": unreachableDB},
			want:  []string{"SERVICE_SECRET", "SIGNING_KEY_SECRET"},
			lines: 2,
		},
		{
			name: "production orders without secrets, keys or a database",
			env: map[string]string{"APP_ENV": "production", "SERVICES": "orders",
				"USERS_URL": "http://127.0.0.1:1", "PAYMENTS_URL": "http://127.0.0.1:2", "INVENTORY_URL": "http://127.0.0.1:3", "JWKS_URL": "ftp://keys"},
			want:  []string{"SERVICE_SECRET", "DATABASE_URL is required", `JWKS_URL must be an http(s) URL, got "ftp://keys"`},
			lines: 3,
		},
		{
			name: "module URLs that are not http(s)://host[:port]",
			env: map[string]string{"SERVICES": "orders", "USERS_URL": "users:8080", "PAYMENTS_URL": "ftp://x", "INVENTORY_URL": "http://127.0.0.1:3",
				"DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret},
			want:  []string{`USERS_URL must be http(s)://host[:port], got "users:8080"`, `PAYMENTS_URL must be http(s)://host[:port], got "ftp://x"`},
			lines: 2,
		},
		{
			name: "a module URL with a path, a bad DSN and a bad duration",
			env: map[string]string{"SERVICES": "orders", "USERS_URL": "http://users:8080/api", "PAYMENTS_URL": "http://payments:8080/", "INVENTORY_URL": "http://inventory:8080",
				"DATABASE_URL": "mysql://root:secret@db/x", "SHUTDOWN_TIMEOUT": "soon", "SERVICE_SECRET": serviceSecret},
			want:  []string{"USERS_URL", "DATABASE_URL must be a postgres:// URL", "SHUTDOWN_TIMEOUT"},
			lines: 3,
		},
		{
			name:  "a service secret too short, in development too",
			env:   map[string]string{"SERVICE_SECRET": "short", "SIGNING_KEY_SECRET": "short"},
			want:  []string{"SERVICE_SECRET must be at least 32 characters", "SIGNING_KEY_SECRET must be at least 32 characters"},
			lines: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["HTTP_ADDR"] = freeAddr(t)
			start := time.Now()
			stdout, stderr, err := runApp(t, tc.env, "serve")
			took := time.Since(start)

			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "serve must fail; stderr:\n%s", stderr)
			require.Equal(t, 1, exit.ExitCode(), stderr)
			require.Less(t, took, startupBudget, stderr)
			require.Empty(t, stdout)
			lines := errorLines(t, stderr)
			if tc.lines > 0 {
				require.Len(t, lines, tc.lines, stderr)
			}
			all := strings.Join(lines, "\n")
			for _, w := range tc.want {
				require.Contains(t, all, w)
			}
			require.NotContains(t, stderr, "secret@", "the database password must not be printed")
			for _, trace := range []string{"could not build", "received non-nil error", "fx.", "dig."} {
				require.NotContains(t, stderr, trace, "no dependency-injection trace")
			}

			checkOut, checkErr, err := runApp(t, tc.env, "check")
			require.True(t, errors.As(err, &exit), "check must fail; stdout:\n%s", checkOut)
			require.Equal(t, 1, exit.ExitCode())
			require.Empty(t, checkOut)
			require.Equal(t, lines, errorLines(t, checkErr), "check and serve name the same problems")
		})
	}
}

// errorLines returns the lines main prints for a failed run, without their
// "error: " prefix, and requires that nothing else was printed.
func errorLines(t *testing.T, stderr string) []string {
	t.Helper()
	var found []string
	for line := range strings.Lines(stderr) {
		problem, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "error: ")
		require.True(t, ok, "only error lines expected in:\n%s", stderr)
		found = append(found, problem)
	}
	require.NotEmpty(t, found, "error lines expected")
	return found
}

// errorLine returns the one line main prints for a failed run.
func errorLine(t *testing.T, stderr string) string {
	t.Helper()
	var found []string
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "error: ") {
			found = append(found, strings.TrimSpace(line))
		}
	}
	require.Len(t, found, 1, "one error line expected in:\n%s", stderr)
	return found[0]
}

// TestStartupFailureBeyondTheChecks: a problem only startup itself can find
// (a development secret file gone bad under DATA_DIR) still fails with the
// plain error its constructor returned, not wrapped in fx's trace.
func TestStartupFailureBeyondTheChecks(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "service_secret"), []byte("short\n"), 0o600))
	env := map[string]string{"DATA_DIR": dataDir, "DATABASE_URL": unreachableDB, "HTTP_ADDR": freeAddr(t)}

	stdout, stderr, err := runApp(t, env, "check")
	require.NoError(t, err, "the checks read no file: %s", stderr)
	require.Contains(t, stdout, "ok: ")

	_, stderr, err = runApp(t, env, "serve")
	require.Error(t, err)
	require.Equal(t, "error: "+filepath.Join(dataDir, "service_secret")+" holds no valid development SERVICE_SECRET; delete it to generate a new one",
		errorLine(t, stderr))
	for _, trace := range []string{"could not build", "received non-nil error", "fx."} {
		require.NotContains(t, stderr, trace, "no dependency-injection trace")
	}
}

package e2e

import (
	"errors"
	"os/exec"
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
// non-zero, quickly, with one error line naming the problem.
func TestStartupFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "unknown module in SERVICES",
			env: map[string]string{"SERVICES": "orders,bogus", "USERS_URL": "http://127.0.0.1:1", "PAYMENTS_URL": "http://127.0.0.1:2",
				"DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"SERVICES", "bogus"},
		},
		{
			name: "dependencies neither local nor configured",
			env:  map[string]string{"SERVICES": "orders", "DATABASE_URL": unreachableDB, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret},
			want: []string{"users", "USERS_URL", "payments", "PAYMENTS_URL"},
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["HTTP_ADDR"] = freeAddr(t)
			start := time.Now()
			_, stderr, err := runApp(t, tc.env, "serve")
			took := time.Since(start)

			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "serve must fail; stderr:\n%s", stderr)
			require.Equal(t, 1, exit.ExitCode(), stderr)
			require.Less(t, took, startupBudget, stderr)
			line := errorLine(t, stderr)
			for _, w := range tc.want {
				require.Contains(t, line, w)
			}
			require.NotContains(t, stderr, "secret@", "the database password must not be printed")
		})
	}
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

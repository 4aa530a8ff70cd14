package e2e

import (
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/migrations"
	"mitosis/platform/events"
	"mitosis/platform/pgtest"
)

// TestCLIServices checks that `app services` says where each module runs,
// with which schema, and never prints the database password.
func TestCLIServices(t *testing.T) {
	t.Parallel()
	const usersURL, paymentsURL = "http://127.0.0.1:7001", "http://127.0.0.1:7002"
	stdout, stderr, err := runApp(t, map[string]string{
		"SERVICES": "orders", "USERS_URL": usersURL, "PAYMENTS_URL": paymentsURL + "/",
		"DATABASE_URL": "postgres://admin:hunter2-password@db.internal:5432/mitosis",
	}, "services")
	require.NoError(t, err, stderr)
	require.NotContains(t, stdout, "hunter2-password")

	rows := map[string][]string{}
	for line := range strings.Lines(stdout) {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	require.Contains(t, rows, "MODULE", stdout)
	for module, runs := range map[string]string{"users": usersURL, "payments": paymentsURL, "orders": "here"} {
		row := rows[module]
		require.GreaterOrEqual(t, len(row), 4, "row of %s in:\n%s", module, stdout)
		require.Equal(t, runs, row[1], "where %s runs, in:\n%s", module, stdout)
		require.Contains(t, row[2:], module, "schema of %s, in:\n%s", module, stdout)
	}
}

// TestCLIMigrate walks a fresh database through status, up, down of one
// module and up again.
func TestCLIMigrate(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	want := knownMigrations(t)
	migrate := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := runApp(t, env, append([]string{"migrate"}, args...)...)
		require.NoError(t, err, "migrate %v\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
		return stdout
	}
	allIn := func(state string) map[string]map[string]string {
		out := map[string]map[string]string{}
		for module, names := range want {
			out[module] = map[string]string{}
			for _, n := range names {
				out[module][n] = state
			}
		}
		return out
	}

	require.Equal(t, allIn("pending"), parseStatus(t, migrate("status")))

	out := migrate("up")
	for module, names := range want {
		require.Contains(t, out, module+": applied "+strconv.Itoa(len(names))+" ")
	}
	require.Equal(t, allIn("applied"), parseStatus(t, migrate("status")))

	out = migrate("down", "--module", "orders")
	require.Contains(t, out, "orders: rolled back")
	require.NotContains(t, out, "users:")
	status := parseStatus(t, migrate("status"))
	last := want["orders"][len(want["orders"])-1]
	require.Equal(t, "pending", status["orders"][last], "the last orders migration is pending again")
	require.Equal(t, allIn("applied")["users"], status["users"])
	require.Equal(t, allIn("applied")["payments"], status["payments"])

	out = migrate("up")
	require.Contains(t, out, "users: applied 0")
	require.NotContains(t, out, "orders: applied 0")
	require.Equal(t, allIn("applied"), parseStatus(t, migrate("status")))
}

// knownMigrations lists each module's migrations, in order, from the
// embedded tree, named as `migrate status` prints them.
func knownMigrations(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, module := range withData() {
		files, err := fs.Glob(migrations.FS, module+"/*.up.sql")
		require.NoError(t, err)
		require.NotEmpty(t, files, module)
		shared, err := fs.Glob(events.Migrations, "*.up.sql")
		require.NoError(t, err)
		for _, f := range append(files, shared...) {
			name, _, _ := strings.Cut(path.Base(f), ".")
			out[module] = append(out[module], name)
		}
		slices.Sort(out[module])
	}
	return out
}

// parseStatus reads `migrate status` lines: module, state, migration.
func parseStatus(t *testing.T, stdout string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for line := range strings.Lines(stdout) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		require.Len(t, f, 3, "status line %q", line)
		if out[f[0]] == nil {
			out[f[0]] = map[string]string{}
		}
		out[f[0]][f[2]] = f[1]
	}
	return out
}

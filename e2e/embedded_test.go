package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/modules/users"
)

// TestE2EEmbeddedDatabase is `make run`: no DATABASE_URL, so the app starts
// its own PostgreSQL under DATA_DIR, keeps the data (and the development
// JWT secret) across restarts, and stops the server when it exits.
func TestE2EEmbeddedDatabase(t *testing.T) {
	dataDir := t.TempDir()
	// t.TempDir's folders are 0700; open them so the postgres user can
	// use the data directory in place.
	for dir := dataDir; dir != os.TempDir(); dir = filepath.Dir(dir) {
		require.NoError(t, os.Chmod(dir, 0o755))
	}
	env := map[string]string{"DATA_DIR": dataDir}
	pidFile := filepath.Join(dataDir, "postgres", "data", "postmaster.pid")

	first := startApp(t, "embedded", env)
	first.waitReady(t)
	require.Contains(t, first.output.String(), "DATABASE_URL not set: starting the embedded PostgreSQL")
	require.Contains(t, first.output.String(), "SERVICE_SECRET not set")
	require.Contains(t, first.output.String(), "SIGNING_KEY_SECRET not set")
	topo := topology{users: first.url, payments: first.url, orders: first.url}
	decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{
		"email": "kept@example.com", "name": "Kept", "password": "kept across restarts",
	}), http.StatusCreated)
	token := decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", map[string]string{
		"email": "kept@example.com", "password": "kept across restarts",
	}), http.StatusOK)
	require.FileExists(t, pidFile, "the embedded server runs in DATA_DIR")

	// The first admin is made beside the running `make run`: the command
	// attaches to its embedded server and leaves it running.
	stdout, stderr, err := runApp(t, env, "users", "promote", "kept@example.com")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout+stderr, "admin")
	require.Contains(t, stderr, "attached to it")
	require.FileExists(t, pidFile, "the command did not stop the app's server")
	first.waitReady(t)

	first.stop(t)
	require.NoFileExists(t, pidFile, "the embedded server stops with the app")

	second := startApp(t, "embedded again", env)
	second.waitReady(t)
	topo = topology{users: second.url, payments: second.url, orders: second.url}
	me := decode[users.User](t, topo.get(t, "/api/v1/users/me", token.AccessToken), http.StatusOK)
	require.Equal(t, "kept@example.com", me.Email, "data and development secret survive a restart")
	require.Equal(t, users.RoleAdmin, me.Role, "promoted while the app ran")
}

// TestE2EEmbeddedServerDiesWithItsOwner: `kill -9` of `app serve` leaves no
// PostgreSQL behind: the kernel tells the server its owner died and it
// shuts down; the next `app serve` starts on the same data (taking over a
// server still on its way down) and stops it at its own exit.
func TestE2EEmbeddedServerDiesWithItsOwner(t *testing.T) {
	dataDir := t.TempDir()
	for dir := dataDir; dir != os.TempDir(); dir = filepath.Dir(dir) {
		require.NoError(t, os.Chmod(dir, 0o755))
	}
	env := map[string]string{"DATA_DIR": dataDir}
	pidFile := filepath.Join(dataDir, "postgres", "data", "postmaster.pid")

	first := startApp(t, "embedded", env)
	first.waitReady(t)
	topo := topology{users: first.url, payments: first.url, orders: first.url}
	decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{
		"email": "survivor@example.com", "name": "S", "password": "outlives the crash",
	}), http.StatusCreated)
	orphan := postmasterPid(t, pidFile)
	require.True(t, processAlive(orphan))

	first.kill(t)
	require.Eventually(t, func() bool { return !processAlive(orphan) }, 30*time.Second, 50*time.Millisecond,
		"postgres (pid %d) outlived the app that started it", orphan)

	second := startApp(t, "embedded after the crash", env)
	second.waitReady(t)
	topo = topology{users: second.url, payments: second.url, orders: second.url}
	decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", map[string]string{
		"email": "survivor@example.com", "password": "outlives the crash",
	}), http.StatusOK)
	next := postmasterPid(t, pidFile)
	second.stop(t)
	require.NoFileExists(t, pidFile)
	require.False(t, processAlive(next), "the second app's server stops with it")
}

// postmasterPid reads the server's pid, the first line of postmaster.pid.
func postmasterPid(t *testing.T, pidFile string) int {
	t.Helper()
	raw, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	line, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return pid
}

// processAlive reports whether pid runs; a zombie (exited, not yet reaped
// by whoever inherited it) does not.
func processAlive(pid int) bool {
	if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the command name in parentheses: "pid (comm) S ...".
		_, rest, _ := strings.Cut(string(raw), ") ")
		return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
	}
	return syscall.Kill(pid, 0) == nil
}

package pgserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// baseDir returns a fresh directory the server user can traverse, so Start
// uses it in place rather than moving to the fallback location.
func baseDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgserver-test-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

func queryInt(t *testing.T, url, sql string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, sql).Scan(&n))
	return n
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(t, err)
}

func TestStartRestartKeepsDataAndPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(baseDir(t), "pg")

	s, err := Start(ctx, Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	require.Equal(t, dir, s.Dir())
	require.Equal(t, 1, queryInt(t, s.URL("postgres"), "SELECT 1"))
	execSQL(t, s.URL("postgres"), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")

	fi, err := os.Stat(filepath.Join(dir, passwordFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	password, err := loadPassword(dir)
	require.NoError(t, err)
	require.Len(t, password, 48)
	require.Contains(t, s.URL("postgres"), ":"+password+"@127.0.0.1:")
	leftovers, err := filepath.Glob(filepath.Join(dir, ".initdb-pwfile-*"))
	require.NoError(t, err)
	require.Empty(t, leftovers, "temporary pwfile must be removed")

	_, err = Start(ctx, Options{Dir: dir})
	require.ErrorContains(t, err, "already using "+dir)
	attached, err := Start(ctx, Options{Dir: dir, Attach: true})
	require.NoError(t, err)
	require.Equal(t, s.URL("postgres"), attached.URL("postgres"), "attached to the running server")
	require.Equal(t, 42, queryInt(t, attached.URL("postgres"), "SELECT v FROM kept"))
	require.NoError(t, attached.Stop(ctx))
	require.Equal(t, 1, queryInt(t, s.URL("postgres"), "SELECT 1"), "an attached Stop leaves the owner's server running")

	require.NoError(t, s.Stop(ctx))
	require.NoError(t, s.Stop(ctx), "Stop is idempotent")

	s2, err := Start(ctx, Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Stop(context.Background()) })
	require.Equal(t, 42, queryInt(t, s2.URL("postgres"), "SELECT v FROM kept"))
	again, err := loadPassword(dir)
	require.NoError(t, err)
	require.Equal(t, password, again)
	require.Contains(t, s2.URL("postgres"), ":"+password+"@127.0.0.1:")
	require.NoError(t, s2.Stop(ctx))
}

func TestRestartKeepsPortAndDataAndCutsSessions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Dir: filepath.Join(baseDir(t), "pg")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	url := s.URL("postgres")
	execSQL(t, url, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(context.Background())

	require.NoError(t, s.Restart(ctx))
	require.Equal(t, url, s.URL("postgres"), "same port")
	require.Error(t, conn.Ping(ctx), "a session from before the restart is gone")
	require.Equal(t, 7, queryInt(t, url, "SELECT v FROM kept"))

	require.NoError(t, s.Stop(ctx))
	require.NoError(t, s.Restart(ctx), "a stopped server starts again")
	require.Equal(t, 7, queryInt(t, url, "SELECT v FROM kept"))
	require.NoError(t, s.Stop(ctx))
}

func TestURL(t *testing.T) {
	t.Parallel()
	s := &Server{c: &cluster{}, port: 5555, password: "abc123"}
	require.Equal(t, "postgres://postgres:abc123@127.0.0.1:5555/app?sslmode=disable", s.URL("app"))
}

// A server whose owner is gone (killed before it could stop it) is taken
// over by the next Start on its directory, attach or not: stopped, started
// again as this process's, and stopped with it.
func TestAnOrphanIsTakenOver(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := filepath.Join(baseDir(t), "pg")
	for name, orphan := range map[string]func(){
		"its owner is dead": func() {
			dead := exec.Command("true")
			require.NoError(t, dead.Run())
			require.NoError(t, os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(dead.Process.Pid)), 0o644))
		},
		"no owner is recorded": func() { require.NoError(t, os.Remove(filepath.Join(dir, ownerFile))) },
	} {
		t.Run(name, func(t *testing.T) {
			first, err := Start(ctx, Options{Dir: dir})
			require.NoError(t, err)
			execSQL(t, first.URL("postgres"), "CREATE TABLE IF NOT EXISTS kept (v int); INSERT INTO kept VALUES (1)")
			orphan()
			oldPid := first.pm.pid

			next, err := Start(ctx, Options{Dir: dir, Attach: true})
			require.NoError(t, err)
			require.False(t, next.attached, "taken over, not attached")
			<-first.pm.exited // the orphan was stopped
			require.NotEqual(t, oldPid, next.pm.pid)
			pid, ok := next.c.owner()
			require.True(t, ok)
			require.Equal(t, os.Getpid(), pid, "the new owner is recorded")
			require.Positive(t, queryInt(t, next.URL("postgres"), "SELECT count(*) FROM kept"), "same data")

			require.NoError(t, next.Stop(ctx))
			require.NoFileExists(t, filepath.Join(dir, "data", "postmaster.pid"))
			require.NoFileExists(t, filepath.Join(dir, ownerFile))
			require.ErrorIs(t, syscall.Kill(next.pm.pid, 0), syscall.ESRCH, "the server is gone")
		})
	}
}

package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"mitosis/platform/db"
	"mitosis/platform/pgserver"
)

// TestUnavailableTellsAnOutageFromARefusal runs a private server, so it can
// stop it: a query refused by the database is not an outage, a server that
// went away (a pooled connection cut, or no server to dial) is.
func TestUnavailableTellsAnOutageFromARefusal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "unavailable-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "pg")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	bdb, err := db.Open(db.Target{Module: "test", Schema: "public", URL: srv.URL("postgres")}, 2)
	require.NoError(t, err)
	t.Cleanup(func() { bdb.Close() })
	var n int
	require.NoError(t, bdb.NewRaw("SELECT 1").Scan(ctx, &n))

	_, refused := bdb.ExecContext(ctx, "SELECT * FROM no_such_table")
	require.Error(t, refused)
	require.False(t, db.Unavailable(refused), "a refused query is not an outage: %v", refused)
	require.False(t, db.Unavailable(errors.New("boom")))
	require.False(t, db.Unavailable(nil))

	_, killed := bdb.ExecContext(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
	require.Error(t, killed)
	require.True(t, db.Unavailable(killed), "a terminated session: %v", killed)

	require.NoError(t, srv.Stop(ctx))
	for range 2 { // a pooled connection cut, then a dial that finds nobody
		err := bdb.NewRaw("SELECT 1").Scan(ctx, &n)
		require.Error(t, err)
		require.True(t, db.Unavailable(err), "server down: %T %v", err, err)
	}
	require.True(t, db.Unavailable(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "57P03"})), "starting up")
}

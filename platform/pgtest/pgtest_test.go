package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	err := connect(t, pgtest.AdminURL(t)).QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	require.NoError(t, err)
	return exists
}

func TestNewDatabaseIsolatedAndDropped(t *testing.T) {
	parent := t
	var names [2]string
	t.Run("create", func(t *testing.T) {
		ctx := context.Background()
		urlA, urlB := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
		require.NotEqual(t, urlA, urlB)

		// a outlives this subtest, so the drop must force it off.
		a, b := connect(parent, urlA), connect(t, urlB)
		require.NoError(t, a.QueryRow(ctx, "SELECT current_database()").Scan(&names[0]))
		require.NoError(t, b.QueryRow(ctx, "SELECT current_database()").Scan(&names[1]))
		require.NotEqual(t, names[0], names[1])
		require.Regexp(t, `^t_[0-9a-f]{16}$`, names[0])

		// Usable and isolated: a table in one is absent from the other.
		_, err := a.Exec(ctx, "CREATE TABLE only_in_a (v int); INSERT INTO only_in_a VALUES (7)")
		require.NoError(t, err)
		var v int
		require.NoError(t, a.QueryRow(ctx, "SELECT v FROM only_in_a").Scan(&v))
		require.Equal(t, 7, v)
		_, err = b.Exec(ctx, "SELECT v FROM only_in_a")
		require.ErrorContains(t, err, "does not exist")

		require.True(t, databaseExists(t, names[0]))
		require.True(t, databaseExists(t, names[1]))
	})
	require.False(t, databaseExists(t, names[0]), "database %s dropped after cleanup", names[0])
	require.False(t, databaseExists(t, names[1]), "database %s dropped after cleanup", names[1])
}

func TestAdminURL(t *testing.T) {
	require.Regexp(t, `^postgres(ql)?://`, pgtest.AdminURL(t))
}

package db_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var tree = db.Migrations{FS: fstest.MapFS{
	"orders/20260101000001_init.tx.up.sql":     {Data: []byte("CREATE TABLE items (id int PRIMARY KEY);")},
	"orders/20260101000001_init.tx.down.sql":   {Data: []byte("DROP TABLE items;")},
	"orders/20260101000002_more.tx.up.sql":     {Data: []byte("ALTER TABLE items ADD COLUMN name text;")},
	"orders/20260101000002_more.tx.down.sql":   {Data: []byte("ALTER TABLE items DROP COLUMN name;")},
	"payments/20260101000001_init.tx.up.sql":   {Data: []byte("CREATE TABLE ledger (id int PRIMARY KEY); INSERT INTO ledger VALUES (1);")},
	"payments/20260101000001_init.tx.down.sql": {Data: []byte("DROP TABLE ledger;")},
}}

func sharedConfig(url string) config.Config {
	return config.Config{Database: config.Database{URL: url, Isolation: config.Shared, Roles: config.RolesPerModule}}
}

func prepared(t *testing.T, cfg config.Config, module string) db.Target {
	t.Helper()
	target, err := prepare(cfg, module)
	require.NoError(t, err)
	return target
}

func prepare(cfg config.Config, module string) (db.Target, error) {
	target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: cfg.Database.URL}, module)
	if err != nil {
		return db.Target{}, err
	}
	bdb, err := db.Open(target, 2)
	if err != nil {
		return db.Target{}, err
	}
	defer bdb.Close()
	return target, db.Prepare(context.Background(), target, bdb, tree, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// The database itself refuses a query across module boundaries.
func TestModuleRoleCannotReadAnotherSchema(t *testing.T) {
	ctx := context.Background()
	cfg := sharedConfig(pgtest.NewDatabase(t))
	orders := prepared(t, cfg, "orders")
	prepared(t, cfg, "payments")
	assert.Equal(t, "mitosis_orders", orders.Role)

	ordersDB, err := db.Open(orders, 1)
	require.NoError(t, err)
	defer ordersDB.Close()

	var n int
	require.NoError(t, ordersDB.QueryRowContext(ctx, "SELECT count(*) FROM items").Scan(&n), "own schema is readable")
	err = ordersDB.QueryRowContext(ctx, "SELECT count(*) FROM payments.ledger").Scan(&n)
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "expected a PostgreSQL error, got %v", err)
	assert.Equal(t, "42501", pgErr.Code, "insufficient_privilege")
	_, err = ordersDB.ExecContext(ctx, "CREATE TABLE payments.sneaky (id int)")
	require.Error(t, err)
}

func TestMigrateUpDownStatus(t *testing.T) {
	ctx := context.Background()
	cfg := sharedConfig(pgtest.NewDatabase(t))
	target := prepared(t, cfg, "orders")
	bdb, err := db.Open(target, 2)
	require.NoError(t, err)
	defer bdb.Close()
	m, err := db.NewMigrator(bdb, tree, "orders")
	require.NoError(t, err)

	status, err := m.Status(ctx)
	require.NoError(t, err)
	require.Len(t, status, 2)
	assert.True(t, status[0].Applied && status[1].Applied)

	applied, err := m.Up(ctx)
	require.NoError(t, err)
	assert.Empty(t, applied, "nothing pending: up is idempotent")

	undone, err := m.Down(ctx)
	require.NoError(t, err)
	assert.Len(t, undone, 2, "the last group held both migrations")
	status, err = m.Status(ctx)
	require.NoError(t, err)
	assert.False(t, status[0].Applied || status[1].Applied)

	var exists bool
	require.NoError(t, bdb.QueryRowContext(ctx, "SELECT to_regclass('orders.items') IS NOT NULL").Scan(&exists))
	assert.False(t, exists)

	applied, err = m.Up(ctx)
	require.NoError(t, err)
	assert.Len(t, applied, 2)
	// The history lives in the module's own schema.
	require.NoError(t, bdb.QueryRowContext(ctx, "SELECT to_regclass('orders.schema_migrations') IS NOT NULL").Scan(&exists))
	assert.True(t, exists)
}

func TestConcurrentPrepareIsSafe(t *testing.T) {
	cfg := sharedConfig(pgtest.NewDatabase(t))
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := prepare(cfg, "payments")
			errs <- err
		}()
	}
	for range 3 {
		require.NoError(t, <-errs)
	}
}

func TestIsolatedModuleNeedsItsURL(t *testing.T) {
	cfg := sharedConfig("postgres://x@localhost/db")
	cfg.Modules = map[string]config.Module{"payments": {Database: config.ModuleDatabase{Isolation: config.Isolated}}}
	_, err := db.TargetFor(cfg, &db.Cluster{AdminURL: cfg.Database.URL}, "payments")
	require.ErrorContains(t, err, "PAYMENTS_DATABASE_URL")
}

func TestProductionNeedsADatabaseOnlyForData(t *testing.T) {
	cfg := sharedConfig("")
	cfg.Env = config.Production
	require.ErrorContains(t, db.Validate(cfg, []string{"orders"}), "DATABASE_URL is required in production")
	require.NoError(t, db.Validate(cfg, nil), "a process without data modules needs no database")
	cfg.Modules = map[string]config.Module{"orders": {Database: config.ModuleDatabase{URL: "postgres://o@db/orders"}}}
	require.NoError(t, db.Validate(cfg, []string{"orders"}), "a module with its own URL")
}

func TestSingleRoleUsesTheSharedURL(t *testing.T) {
	cfg := sharedConfig("postgres://app:pw@localhost/db")
	cfg.Database.Roles = config.RolesSingle
	target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: cfg.Database.URL}, "orders")
	require.NoError(t, err)
	assert.Equal(t, cfg.Database.URL, target.URL)
	assert.Empty(t, target.Role)
}

func TestCreateWritesAPair(t *testing.T) {
	dir := t.TempDir()
	paths, err := db.Create(dir, "orders", "add_notes", testTime)
	require.NoError(t, err)
	require.Len(t, paths, 2)
	assert.Contains(t, paths[0], "20260102030405_add_notes.tx.up.sql")
	_, err = db.Create(dir, "orders", "Bad Name!", testTime)
	require.Error(t, err)
}

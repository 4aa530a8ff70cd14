package db_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/health"
	"mitosis/platform/pgtest"
	"mitosis/platform/telemetry"
)

// A module is ready only once every migration of the embedded tree is
// applied to its schema; a migration added to the tree and not applied
// makes it unready again.
func TestReadinessNeedsEveryMigrationApplied(t *testing.T) {
	cfg := sharedConfig(pgtest.NewDatabase(t))
	cfg.Database.MigrateOnStart = false
	cfg.Database.Roles = config.RolesSingle // nothing to provision before it connects
	checks := health.NewRegistry(health.Freshness(0))
	reg := prometheus.NewRegistry()
	var bdb *bun.DB
	app := fx.New(fx.NopLogger,
		fx.Supply(cfg, tree, checks, &db.Cluster{AdminURL: cfg.Database.URL}, slog.New(slog.NewTextHandler(io.Discard, nil))),
		fx.Provide(func() prometheus.Registerer { return reg }),
		fx.Supply((*telemetry.Tracing)(nil)), // not traced
		fx.Provide(db.ForModule("orders")),
		fx.Populate(&bdb))
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(context.Background()))
	t.Cleanup(func() { _ = app.Stop(context.Background()) })

	ok, _ := checks.Ready(context.Background())
	assert.False(t, ok, "nothing applied yet (MIGRATE_ON_START=false)")
	requireCheck(t, checks, db.CheckMigrations, health.Down)
	requireCheck(t, checks, db.CheckDatabase, health.Up)

	target := prepared(t, cfg, "orders")
	ok, _ = checks.Ready(context.Background())
	assert.True(t, ok)

	grown := db.Migrations{FS: fstest.MapFS{}}
	for name, f := range tree.FS.(fstest.MapFS) {
		grown.FS.(fstest.MapFS)[name] = f
	}
	grown.FS.(fstest.MapFS)["orders/20260101000003_later.tx.up.sql"] = &fstest.MapFile{Data: []byte("SELECT 1;")}
	grown.FS.(fstest.MapFS)["orders/20260101000003_later.tx.down.sql"] = &fstest.MapFile{Data: []byte("SELECT 1;")}
	own, err := db.Open(target, 1)
	require.NoError(t, err)
	defer own.Close()
	m, err := db.NewMigrator(own, grown, "orders")
	require.NoError(t, err)
	pending, err := m.Pending(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"20260101000003_later"}, pending)

	// The pool's statistics are exposed per module.
	fams, err := reg.Gather()
	require.NoError(t, err)
	var found bool
	for _, f := range fams {
		if f.GetName() == "go_sql_max_open_connections" {
			require.Len(t, f.GetMetric(), 1)
			assert.Equal(t, "orders", f.GetMetric()[0].GetLabel()[0].GetValue())
			found = true
		}
	}
	assert.True(t, found)
}

func requireCheck(t *testing.T, checks *health.Registry, name, status string) {
	t.Helper()
	rep := checks.Detail(context.Background())
	require.Len(t, rep.Modules, 1)
	for _, it := range rep.Modules[0].Checks {
		if it.Name == name {
			require.Equal(t, status, it.Status, "%s: %s", name, it.Error)
			return
		}
	}
	t.Fatalf("no check %s in %+v", name, rep.Modules[0].Checks)
}

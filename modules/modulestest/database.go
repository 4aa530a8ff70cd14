package modulestest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/migrations"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

// Database is a fresh database with module's schema migrated, opened as
// the module opens it (a pool of poolSize), closed when the test ends: for
// tests of a module's app and store without a process.
func Database(t testing.TB, module string, poolSize int) *bun.DB {
	t.Helper()
	dbCfg := config.Config{Database: config.Database{URL: pgtest.NewDatabase(t), Isolation: config.Shared, Roles: config.RolesSingle}}
	target, err := db.TargetFor(dbCfg, &db.Cluster{AdminURL: dbCfg.Database.URL}, module)
	require.NoError(t, err)
	bdb, err := db.Open(target, poolSize)
	require.NoError(t, err)
	t.Cleanup(func() { bdb.Close() })
	require.NoError(t, db.Prepare(context.Background(), target, bdb, migrations.Tree(), quietLogger()))
	return bdb
}

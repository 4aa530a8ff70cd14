package e2e

import (
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
	platformtopology "mitosis/platform/topology"
)

// withData names every module that keeps data, from the module list: each
// has its schema, migrations, outbox and inbox.
func withData() []string {
	var out []string
	for _, s := range modules.All() {
		if !s.Stateless {
			out = append(out, s.Name)
		}
	}
	return out
}

// schemasIn names the modules with data whose schema exists in the
// database conn is on: those a topology runs there.
func schemasIn(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	var out []string
	for _, m := range withData() {
		var exists bool
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", m).Scan(&exists))
		if exists {
			out = append(out, m)
		}
	}
	return out
}

// ownDatabases are the databases of the modules isolated by default, one
// per module and shared database: every process of a topology finds the
// same one.
var ownDatabases = struct {
	sync.Mutex
	urls map[string]string
}{urls: map[string]string{}}

// withOwnDatabases gives each module that keeps its data in a database of
// its own by default (topology.Spec.Settings) that database, unless vars
// names one; the scenarios name none, as they predate such modules.
func withOwnDatabases(t *testing.T, vars map[string]string) {
	shared := vars["DATABASE_URL"]
	if shared == "" {
		return
	}
	ownDatabases.Lock()
	defer ownDatabases.Unlock()
	for _, s := range modules.All() {
		key := strings.ToUpper(s.Name) + "_DATABASE_URL"
		if s.Settings.Isolation != config.Isolated || vars[key] != "" {
			continue
		}
		if ownDatabases.urls[shared+" "+s.Name] == "" {
			ownDatabases.urls[shared+" "+s.Name] = pgtest.NewDatabase(t)
		}
		vars[key] = ownDatabases.urls[shared+" "+s.Name]
	}
}

// moduleChecks are the checks a module's /health lists where all run in
// one process, started with env: its database and migrations if it keeps
// data, and the broker if it publishes or subscribes through one.
func moduleChecks(s platformtopology.Spec, env map[string]string) []string {
	if s.Stateless {
		return nil
	}
	if len(s.Publishes) == 0 && len(s.Subscribes) == 0 {
		return []string{db.CheckDatabase, db.CheckMigrations}
	}
	return ownChecks(env)
}

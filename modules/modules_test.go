package modules_test

import (
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"mitosis/migrations"
	"mitosis/modules"
	"mitosis/platform/config"
	"mitosis/platform/process"
	"mitosis/web"
)

// Every topology wires completely: a missing provider fails here, not at start.
func TestEveryTopologyWires(t *testing.T) {
	urls := map[string]string{
		"USERS_URL": "http://users:8080", "PAYMENTS_URL": "http://payments:8080", "ORDERS_URL": "http://orders:8080",
		"DATABASE_URL": "postgres://u:p@db/app", "SERVICE_SECRET": "0123456789abcdef0123456789abcdef",
	}
	for _, broker := range []string{config.BrokerPostgres, config.BrokerNATS} {
		for _, services := range []string{"", "users", "payments", "orders", "users,payments", "orders,users", "gateway", "gateway,orders"} {
			t.Run("EVENTS_BROKER="+broker+",SERVICES="+services, func(t *testing.T) {
				vars := map[string]string{"SERVICES": services, "EVENTS_BROKER": broker}
				for k, v := range urls {
					vars[k] = v
				}
				cfg, err := config.Load(func(k string) string { return vars[k] }, modules.Names())
				require.NoError(t, err)
				opts, _, err := process.Options(cfg, modules.All(), migrations.Tree(), web.Site(), slog.New(slog.NewTextHandler(io.Discard, nil)))
				require.NoError(t, err)
				require.NoError(t, fx.ValidateApp(opts, fx.NopLogger))
			})
		}
	}
}

// Every module others call declares each method of its contract once, and
// its Spec names the contract it binds to its callers.
func TestContractsAreDeclared(t *testing.T) {
	for _, s := range modules.All() {
		called := false
		for _, other := range modules.All() {
			called = called || slices.Contains(other.DependsOn, s.Name)
		}
		if s.Contract == nil {
			assert.False(t, called, "%s is called by other modules but binds no contract", s.Name)
			continue
		}
		assert.NoError(t, s.Contract.Verify(), s.Name)
	}
}

// Every module that keeps data has its migrations folder, and every folder
// such a module.
func TestMigrationsMatchModules(t *testing.T) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	require.NoError(t, err)
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, e.Name())
	}
	var withData []string
	for _, s := range modules.All() {
		if !s.Stateless {
			withData = append(withData, s.Name)
		}
	}
	assert.ElementsMatch(t, withData, dirs)
}

// The import rules: platform never imports a module, and a module reaches
// another only through its contract package (tests and contract suites may
// also use the other module's contract suite).
func TestImportRules(t *testing.T) {
	root := filepath.Join("..")
	names := modules.Names()
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, "mitosis/modules") {
				continue
			}
			if strings.HasPrefix(rel, "platform/") {
				t.Errorf("%s: platform imports a module (%s)", rel, p)
			}
			owner := moduleOf(rel, names)
			target := moduleOf(strings.TrimPrefix(p, "mitosis/"), names)
			if owner == "" || target == "" || owner == target {
				continue
			}
			testSupport := strings.HasSuffix(rel, "_test.go") || strings.HasPrefix(rel, "modules/"+owner+"/"+owner+"test/")
			allowed := p == "mitosis/modules/"+target ||
				(testSupport && p == "mitosis/modules/"+target+"/"+target+"test")
			if !allowed {
				t.Errorf("%s: module %s reaches into %s (%s); use its contract", rel, owner, target, p)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

func moduleOf(path string, names []string) string {
	for _, n := range names {
		if strings.HasPrefix(path, "modules/"+n+"/") || path == "modules/"+n {
			return n
		}
	}
	return ""
}

package modules_test

import (
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"os"
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
	"mitosis/modules/gateway"
	"mitosis/platform/config"
	"mitosis/platform/process"
	"mitosis/platform/topology"
	"mitosis/web"
)

// Every topology wires completely: a missing provider fails here, not at
// start. The topologies come from the module list: all in one process,
// each module alone, each with its dependencies, and the gateway with each.
func TestEveryTopologyWires(t *testing.T) {
	urls := map[string]string{"DATABASE_URL": "postgres://u:p@db/app", "SERVICE_SECRET": "0123456789abcdef0123456789abcdef"}
	topologies := []string{""}
	for _, s := range modules.All() {
		urls[strings.ToUpper(s.Name)+"_URL"] = "http://" + s.Name + ":8080"
		if s.Settings.Isolation == config.Isolated { // its own database by default
			urls[strings.ToUpper(s.Name)+"_DATABASE_URL"] = "postgres://u:p@db/" + s.Name
		}
		topologies = append(topologies, s.Name)
		if len(s.DependsOn) > 0 {
			topologies = append(topologies, strings.Join(append([]string{s.Name}, s.DependsOn...), ","))
		}
		if s.Name != gateway.Name {
			topologies = append(topologies, gateway.Name+","+s.Name)
		}
	}
	for _, broker := range []string{config.BrokerPostgres, config.BrokerNATS} {
		for _, services := range topologies {
			t.Run("EVENTS_BROKER="+broker+",SERVICES="+services, func(t *testing.T) {
				vars := map[string]string{"SERVICES": services, "EVENTS_BROKER": broker}
				for k, v := range urls {
					vars[k] = v
				}
				cfg, err := config.Load(func(k string) string { return vars[k] }, modules.Names(), topology.Sections(modules.All())...)
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
// is such a module's: in the embedded tree and on disk (where a folder
// without SQL would not be embedded at all).
func TestMigrationsMatchModules(t *testing.T) {
	var withData []string
	for _, s := range modules.All() {
		if !s.Stateless {
			withData = append(withData, s.Name)
		}
	}
	entries, err := fs.ReadDir(migrations.FS, ".")
	require.NoError(t, err)
	var embedded []string
	for _, e := range entries {
		embedded = append(embedded, e.Name())
	}
	assert.ElementsMatch(t, withData, embedded, "embedded folders")
	entries, err = os.ReadDir(filepath.Join("..", "migrations"))
	require.NoError(t, err)
	var onDisk []string
	for _, e := range entries {
		if e.IsDir() {
			onDisk = append(onDisk, e.Name())
		}
	}
	assert.ElementsMatch(t, withData, onDisk, "folders in migrations/")
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

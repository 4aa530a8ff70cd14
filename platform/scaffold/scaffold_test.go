package scaffold_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/scaffold"
)

// root is the repository the test runs in.
const root = "../.."

// Each refusal is one line, and the repository is untouched.
func TestRefusals(t *testing.T) {
	fresh := freshName(t, root)
	for _, tc := range []struct {
		opts scaffold.Options
		want string
	}{
		{scaffold.Options{Name: "Shelf"}, `module name "Shelf": use lowercase letters and digits, starting with a letter`},
		{scaffold.Options{Name: "9lives"}, "starting with a letter"},
		{scaffold.Options{Name: "shelf-2"}, "use lowercase letters and digits"},
		{scaffold.Options{Name: ""}, "use lowercase letters and digits"},
		{scaffold.Options{Name: "func"}, `module name "func" is a Go keyword`},
		{scaffold.Options{Name: "users"}, "module users exists"},
		{scaffold.Options{Name: "gateway"}, `module name "gateway" is reserved`},
		{scaffold.Options{Name: "platform"}, `module name "platform" is reserved`},
		{scaffold.Options{Name: "internal"}, `module name "internal" is reserved`},
		{scaffold.Options{Name: "modules"}, `module name "modules" is reserved`},
		{scaffold.Options{Name: "modulestest"}, "reserved"},
		{scaffold.Options{Name: fresh, Depends: []string{"stock"}}, `dependency "stock" is not a module`},
		{scaffold.Options{Name: fresh, Depends: []string{"gateway"}}, "dependency gateway has no contract to call"},
		{scaffold.Options{Name: fresh, Depends: []string{"users", "users"}}, "dependency users is named twice"},
		{scaffold.Options{Name: fresh, Publishes: []string{"order.placed"}}, "event order.placed is published by orders already"},
		{scaffold.Options{Name: fresh, Publishes: []string{"Shelf.Filled"}}, `event "Shelf.Filled": use dotted lowercase words`},
		{scaffold.Options{Name: fresh, Publishes: []string{"filled"}}, "use dotted lowercase words"},
		{scaffold.Options{Name: fresh, Publishes: []string{"item"}}, "use dotted lowercase words"},
	} {
		t.Run(tc.opts.Name+" "+tc.want, func(t *testing.T) {
			before := snapshot(t, root)
			_, err := scaffold.New(root, tc.opts)
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.Equal(t, before, snapshot(t, root), "nothing written")
		})
	}
}

// Write never replaces a file it did not mean to edit: with one of its
// files already there it writes nothing.
func TestWriteRefusesExistingFiles(t *testing.T) {
	dir := copyRepo(t)
	name := freshName(t, dir)
	plan, err := scaffold.New(dir, scaffold.Options{Name: name, Now: time.Now()})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "modules", name, "internal/store"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "modules", name, "internal/store/store.go"), []byte("package store\n"), 0o644))
	list, err := os.ReadFile(filepath.Join(dir, "modules/modules.go"))
	require.NoError(t, err)
	require.ErrorContains(t, plan.Write(), "modules/"+name+"/internal/store/store.go exists; nothing written")
	_, err = os.Stat(filepath.Join(dir, "modules", name, name+".go"))
	require.True(t, os.IsNotExist(err), "no other file written")
	after, err := os.ReadFile(filepath.Join(dir, "modules/modules.go"))
	require.NoError(t, err)
	require.Equal(t, string(list), string(after))
}

// A module written on a copy of the repository needs no edit anywhere:
// the scaffolder changes its folder, its migrations folder and the module
// list, nothing else (git says so); it is gofmt'd and vet-clean, its
// contract suite passes in-process and over HTTP, and the placement checks
// (every topology wires, migrations match modules, import rules, the
// OpenAPI document) and the deployment checks (the compose profiles and the
// chart's value sets, which run it in their process of the rest) pass with
// it.
func TestScaffoldedModulePassesItsTests(t *testing.T) {
	dir := copyRepo(t)
	gitCmd(t, dir, "init", "-q")
	gitCmd(t, dir, "add", "-A")
	gitCmd(t, dir, "commit", "-q", "-m", "the repository as copied")
	plan, err := scaffold.New(dir, scaffold.Options{Name: "probe", Depends: []string{"users"},
		Publishes: []string{"probe.item_created"}, Now: time.Now()})
	require.NoError(t, err)
	require.NoError(t, plan.Write())
	assert.Contains(t, plan.Paths(), "modules/probe/probefx/module.go")

	var planned, changed []string
	for _, f := range plan.Files {
		planned = append(planned, f.Path)
	}
	for _, line := range strings.Split(strings.TrimRight(gitCmd(t, dir, "status", "--porcelain", "--untracked-files=all"), "\n"), "\n") {
		status, path := line[:2], line[3:]
		changed = append(changed, path)
		switch {
		case path == "modules/modules.go":
			assert.Equal(t, " M", status, "the module list is edited")
		case strings.HasPrefix(path, "modules/probe/"), strings.HasPrefix(path, "migrations/probe/"):
			assert.Equal(t, "??", status, "%s is new", path)
		default:
			t.Errorf("the scaffolder changed %s (%s), outside the module's folder, its migrations and the module list", path, status)
		}
	}
	assert.ElementsMatch(t, planned, changed, "git sees exactly what the plan says it writes")

	list, err := os.ReadFile(filepath.Join(dir, "modules/modules.go"))
	require.NoError(t, err)
	assert.Contains(t, string(list), "probefx.Spec, gatewayfx.Spec", "before the gateway")
	assert.Contains(t, string(list), `"mitosis/modules/probe/probefx"`)

	goCmd(t, dir, "gofmt", "-l", "modules/probe", "modules/modules.go")
	goCmd(t, dir, "go", "vet", "./modules/probe/...", "./modules/")

	// The binary builds and knows the module: its graph, which the chart
	// is packaged with, has it.
	bin := filepath.Join(t.TempDir(), "app")
	goCmd(t, dir, "go", "build", "-o", bin, ".")
	assert.Contains(t, goCmd(t, dir, bin, "graph", "--format", "yaml"), "  - name: probe\n    depends_on:\n      - users\n")

	// web/'s tests build the pages with the pinned tools (web/dist_test.go):
	// the copy uses the checkout's node_modules, which copyRepo leaves out
	// (linked only now, so git's view above is the scaffolder's alone).
	modules, err := filepath.Abs(filepath.Join(root, "web", "node_modules"))
	require.NoError(t, err)
	require.NoError(t, os.Symlink(modules, filepath.Join(dir, "web", "node_modules")))
	out := goCmd(t, dir, "go", "test", "-count=1", "./modules/probe/...", "./modules/", "./platform/topology/", "./web/")
	assert.Contains(t, out, "ok  \tmitosis/modules/probe\t")

	// The deployment checks, as make test-deploy runs them on the copy:
	// every compose profile and chart value set runs every module of the
	// copy's binary, probe among them, exactly once.
	deploy := exec.Command("go", "test", "-count=1", "./...")
	deploy.Dir = filepath.Join(dir, "deploy")
	deploy.Env = append(os.Environ(), "HELM="+helmBinary(t))
	deployOut, err := deploy.CombinedOutput()
	require.NoError(t, err, "the copy's deployment checks:\n%s", deployOut)
	assert.Contains(t, string(deployOut), "ok  \tmitosis/deploy\t")
}

// helmBinary is the helm the deployment checks render the chart with: $HELM
// (make test passes the one it builds), else the one the Makefile built
// into the checkout's .tools/, else one on PATH.
func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	built, err := filepath.Glob(filepath.Join(root, ".tools", "bin", "helm-v*"))
	require.NoError(t, err)
	if len(built) > 0 {
		h, err := filepath.Abs(built[len(built)-1])
		require.NoError(t, err)
		return h
	}
	h, err := exec.LookPath("helm")
	require.NoError(t, err, "helm not found: make test builds it into .tools/bin")
	return h
}

// gitCmd runs git in dir, as a committer of its own (the copy is a
// throwaway repository), and returns its output.
func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return goCmd(t, dir, "git", append([]string{"-c", "user.name=scaffold test", "-c", "user.email=scaffold@test.invalid", "-c", "commit.gpgsign=false"}, args...)...)
}

// goCmd runs a tool in dir and fails with its output; gofmt -l must also
// print nothing.
func goCmd(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	if name == "gofmt" {
		require.Empty(t, string(out), "gofmt -l lists files")
	}
	return string(out)
}

// copyRepo copies the repository's files (tracked, and new ones not
// ignored) into a temporary directory.
func copyRepo(t *testing.T) string {
	t.Helper()
	ls := exec.Command("git", "ls-files", "-co", "--exclude-standard")
	ls.Dir = root
	out, err := ls.Output()
	require.NoError(t, err, "git ls-files")
	dir := t.TempDir()
	for _, rel := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(rel, "node_modules/") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, rel))
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet in git
		}
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), raw, 0o644))
	}
	return dir
}

// snapshot is the module list and the folders under modules/ and
// migrations/: what a scaffold would change.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	list, err := os.ReadFile(filepath.Join(dir, "modules/modules.go"))
	require.NoError(t, err)
	b.Write(list)
	for _, sub := range []string{"modules", "migrations"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		for _, e := range entries {
			b.WriteString(sub + "/" + e.Name() + "\n")
		}
	}
	return b.String()
}

// freshName is a module name the repository at dir does not have yet (a
// module written by the scaffolder may well be called shelf).
func freshName(t *testing.T, dir string) string {
	t.Helper()
	for i := 0; ; i++ {
		name := fmt.Sprintf("probe%d", i)
		if _, err := os.Stat(filepath.Join(dir, "modules", name)); os.IsNotExist(err) {
			return name
		}
	}
}

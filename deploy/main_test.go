package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// appBinary is the app, built once from the repository root for the whole
// run: the tests run its `app check` on what each deployment file would give
// a process, and read the module graph from `app graph`.
var appBinary string

// chart is the chart as `make chart` packages it: a copy of chartDir with
// the module graph the binary prints (files/modules.yaml, generated and
// never committed), so the tests render what a release would, never a
// stale graph left in the source tree.
var chart string

// chartGraph is where the chart reads the module graph.
const chartGraph = "files/modules.yaml"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mitosis-deploy-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy: temp dir:", err)
		os.Exit(1)
	}
	code := 1
	if err := prepare(dir); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// prepare builds the app into dir and copies the chart there with the
// graph the app prints, as `make chart` packages it.
func prepare(dir string) error {
	appBinary = filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", appBinary, ".")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	graph, err := exec.Command(appBinary, "graph", "--format", "yaml").Output()
	if err != nil {
		return fmt.Errorf("app graph: %w", err)
	}
	chart = filepath.Join(dir, "mitosis")
	if err := copyChart(chart, graph); err != nil {
		return fmt.Errorf("copy the chart: %w", err)
	}
	return nil
}

// copyChart copies the chart's source to dst with graph as its module
// graph (none when nil); a graph in the source tree is left behind.
func copyChart(dst string, graph []byte) error {
	err := filepath.WalkDir(chartDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(chartDir, path)
		if err != nil || d.IsDir() || rel == filepath.FromSlash(chartGraph) {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), raw, 0o644)
	})
	if err != nil || graph == nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(chartGraph)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, chartGraph), graph, 0o644)
}

// checkTimeout bounds one `app check`: it reads configuration only.
const checkTimeout = 10 * time.Second

// appCheck runs `app check` with exactly env (plus PATH) in an empty working
// directory, as the container would run it, and returns its output and exit
// error (nil for 0).
func appCheck(t *testing.T, env map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, appBinary, "check")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("app check: %v", err)
	}
	return out.String(), errOut.String(), err
}

// requireCheckPasses runs `app check` on the environment a deployment file
// gives one process (over the image's own ENV) and requires it to pass: a
// file that would crash-loop fails here. It returns where the process
// places each module, as the check describes it.
func requireCheckPasses(t *testing.T, what string, env map[string]string) placed {
	t.Helper()
	all := imageEnv(t)
	for k, v := range env {
		all[k] = v
	}
	stdout, stderr, err := appCheck(t, all)
	require.NoError(t, err, "app check of %s fails:\n%s", what, stderr)
	require.True(t, strings.HasPrefix(stdout, "ok: "), "app check of %s: %s", what, stdout)
	return parsePlaced(t, stdout)
}

// placed is where one process places each module, from its `app check`
// line ("ok: production; users: local; orders: remote at http://orders:8080;
// ..."): "local", the URL it calls it at, or "" when it does not use it.
type placed map[string]string

func parsePlaced(t *testing.T, line string) placed {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(line), "; ")
	out := placed{}
	for _, part := range parts[1:] {
		name, where, ok := strings.Cut(part, ": ")
		require.True(t, ok, "app check: %q in %q", part, line)
		switch {
		case where == "local":
			out[name] = "local"
		case strings.HasPrefix(where, "remote at "):
			url, _, _ := strings.Cut(strings.TrimPrefix(where, "remote at "), " ")
			out[name] = url
		default:
			out[name] = ""
		}
	}
	return out
}

// local lists the modules the process runs, sorted.
func (p placed) local() []string {
	var out []string
	for name, where := range p {
		if where == "local" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// run runs a command from the deploy folder and returns its stdout.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "%s %s:\n%s", name, strings.Join(args, " "), &errOut)
	return out.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

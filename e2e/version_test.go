package e2e

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersion checks `app version` and `app --version`: without link-time
// values they show what the toolchain stamped (read back here with `go
// version -m`), or "dev" and "unknown"; with -ldflags -X they show those.
func TestVersion(t *testing.T) {
	t.Parallel()
	stamp := buildSettings(t, appBinary)
	want := "dev"
	if v := stamp["mod"]; v != "" && v != "(devel)" {
		want = v
	}
	commit, built := "unknown", "unknown"
	if rev := stamp["vcs.revision"]; rev != "" {
		commit, built = rev, stamp["vcs.time"]
		if stamp["vcs.modified"] == "true" {
			commit += "-dirty"
		}
	}
	line := "mitosis " + want + " (commit " + commit + ", built " + built + ", " + runtime.Version() + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, err := runApp(t, nil, args...)
		require.NoError(t, err, stderr)
		require.Equal(t, line, stdout, args)
	}

	bin := filepath.Join(t.TempDir(), "app")
	const pkg = "mitosis/platform/buildinfo"
	build := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X "+pkg+".version=v1.2.3-e2e -X "+pkg+".commit=0123456789abcdef -X "+pkg+".buildTime=2026-01-02T03:04:05Z", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		require.NoError(t, err)
		require.Equal(t, "mitosis v1.2.3-e2e (commit 0123456789abcdef, built 2026-01-02T03:04:05Z, "+runtime.Version()+")\n", string(out))
	}
}

// buildSettings reads what the toolchain stamped into a binary: "mod" (the
// main module's version) and the vcs.* settings.
func buildSettings(t *testing.T, bin string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	require.NoError(t, err)
	settings := map[string]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			settings["mod"] = f[2]
		case len(f) >= 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				settings[k] = v
			}
		}
	}
	return settings
}

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/platform/pgtest"
)

// TestREADMEWalk runs the README's curl walk, exactly as the README has it,
// with bash against the built binary in development, as `make run` starts
// it (a test database instead of the embedded one; the development rate
// limits, not the test's generous ones): every command must succeed.
func TestREADMEWalk(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "the README walk needs %s (.ci/run installs jq)", tool)
	}
	walk := readmeBlock(t, "## The API, with curl")
	require.NotRegexp(t, regexp.MustCompile(`<[a-z_]+>`), walk, "placeholders do not paste")

	app := startApp(t, "make run", map[string]string{
		"DATABASE_URL":       pgtest.NewDatabase(t),
		"RATE_LIMIT_DEFAULT": "", "RATE_LIMIT_AUTH": "", "RATE_LIMIT_REGISTER": "",
	})
	app.waitReady(t)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+walk)
	cmd.Env = environ(map[string]string{"API": app.url, "ADMIN": app.admin, "HOME": t.TempDir()})
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	require.NoError(t, err, "the walk failed\nstdout:\n%s\nstderr:\n%s", &out, &errOut)
	for _, want := range []string{`"sku":"COFFEE-1KG"`, `"email":"ada@example.com"`, `"status":"confirmed"`, `"status":"cancelled"`, `"status":"refunded"`, "204\n"} {
		require.Contains(t, out.String(), want, "stdout:\n%s", &out)
	}
}

// readmeBlock returns the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(raw), "\n"+heading+"\n")
	require.True(t, ok, "README.md has no %q", heading)
	_, block, ok := strings.Cut(section, "```sh\n")
	require.True(t, ok, "no sh block under %q", heading)
	block, _, ok = strings.Cut(block, "```\n")
	require.True(t, ok, "unterminated sh block under %q", heading)
	return block
}

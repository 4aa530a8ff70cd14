package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// browserTimeout bounds one browser script; they take seconds.
const browserTimeout = 90 * time.Second

// runBrowser runs web/browser/<script>.mjs with node: playwright-core
// (web/node_modules) driving Debian's headless chromium. The script fails
// on any request leaving the allowed origins and on any console error;
// its screenshots go to .artifacts/browser (git-ignored).
func runBrowser(t *testing.T, script string, env map[string]string) {
	t.Helper()
	web, err := filepath.Abs(filepath.Join("..", "web"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(web, "node_modules", "playwright-core"))
	require.NoError(t, err, "web/node_modules is missing: run `npm ci` in web/ (make test does)")
	artifacts, err := filepath.Abs(filepath.Join("..", ".artifacts", "browser"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("browser", script+".mjs"))
	cmd.Dir = web
	vars := map[string]string{"ARTIFACTS": artifacts, "PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME")}
	if c := os.Getenv("CHROMIUM"); c != "" {
		vars["CHROMIUM"] = c
	}
	for k, v := range env {
		vars[k] = v
	}
	cmd.Env = environ(vars)
	out, err := cmd.CombinedOutput()
	t.Logf("%s:\n%s", script, out)
	require.NoError(t, err, "browser script %s failed", script)
}

// /docs renders offline: every request stays on the server's origin.
func TestBrowserDocs(t *testing.T) {
	t.Parallel()
	p := oneProcess(t)
	runBrowser(t, "docs", map[string]string{"BASE_URL": p.users})
}

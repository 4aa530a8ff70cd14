package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/platform/pgtest"
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

// storefrontEnv: access tokens of a few seconds, so the walk sees the page
// renew one before it expires.
var storefrontEnv = map[string]string{"TOKEN_TTL": "4s"}

// The storefront walk, in one process and through the gateway in front of
// three.
func TestBrowserStorefront(t *testing.T) {
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		p := oneProcessOn(t, pgtest.NewDatabase(t), storefrontEnv)
		runBrowser(t, "storefront", map[string]string{"BASE_URL": p.users, "NAME": "one-process"})
	})
	t.Run("gateway before three processes", func(t *testing.T) {
		t.Parallel()
		g := behindGateway(t, threeProcesses(t, pgtest.NewDatabase(t), "", storefrontEnv))
		runBrowser(t, "storefront", map[string]string{"BASE_URL": g.users, "NAME": "gateway"})
	})
}

// The console of the gateway, in front of three processes, shows all four
// and their modules, asking each process's admin listener (ADMIN_PEERS).
func TestBrowserConsole(t *testing.T) {
	t.Parallel()
	traced := map[string]string{"TRACING": "memory"}
	split := threeProcesses(t, pgtest.NewDatabase(t), "", traced)
	var peers []string
	for _, p := range split.processes {
		peers = append(peers, p.admin)
	}
	_, g := behindGatewayWith(t, split, map[string]string{"ADMIN_PEERS": strings.Join(peers, ","), "TRACING": "memory"})
	want, err := json.Marshal(map[string]string{"users": "users", "payments": "payments", "orders": "orders", "gateway": "gateway"})
	require.NoError(t, err)
	secrets, err := json.Marshal([]string{serviceSecret, keySecret})
	require.NoError(t, err)
	runBrowser(t, "console", map[string]string{"ADMIN_URL": g.admin, "BASE_URL": g.url, "WANT": string(want), "SECRETS": string(secrets)})
}

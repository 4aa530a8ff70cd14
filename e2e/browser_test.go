package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/platform/advise"
	"mitosis/platform/pgtest"
	"mitosis/platform/problem"
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
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s (%s):\n%s", script, time.Since(start).Round(time.Millisecond), out)
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
	t.Run("orders answered pending settle live", func(t *testing.T) {
		t.Parallel()
		// Orders answers before its saga is done (202, pending): the page
		// follows each order until the worker settles it.
		p := oneProcessOn(t, pgtest.NewDatabase(t), map[string]string{"SAGA_INLINE_TIMEOUT": "1ms"})
		runBrowser(t, "settle", map[string]string{"BASE_URL": p.users})
	})
}

// The console of the gateway, in front of three processes, shows all four
// and their modules, asking each process's admin listener (ADMIN_PEERS);
// an order placed in the storefront has its trace there, with spans from
// the processes it crossed; a dead letter is replayed from it. The dead
// letter is real: payments is killed while a user registers, and users'
// relay gives up on user.registered after EVENTS_MAX_ATTEMPTS.
func TestBrowserConsole(t *testing.T) {
	t.Parallel()
	// Deliveries give up fast, and a breaker opened while payments is down
	// lets a call through again soon after.
	env := map[string]string{"TRACING": "memory", "EVENTS_MAX_ATTEMPTS": "2", "EVENTS_BACKOFF_BASE": "20ms", "EVENTS_BACKOFF_MAX": "50ms",
		"BREAKER_COOLDOWN": "200ms", "RECORD_EVERY": "1"}
	t.Logf("start at %s", time.Now().Format("15:04:05.000"))
	sp := startSplit(t, pgtest.NewDatabase(t), "", env, nil)
	split := splitTopology(sp, env)
	var peers []string
	for _, p := range split.processes {
		peers = append(peers, p.admin)
	}
	_, g := behindGatewayWith(t, split, map[string]string{"ADMIN_PEERS": strings.Join(peers, ","), "TRACING": "memory"})
	want, err := json.Marshal(map[string]string{"users": "users", "payments": "payments", "orders": "orders+inventory",
		inventory.Name: "orders+inventory", "gateway": "gateway"})
	require.NoError(t, err)
	secrets, err := json.Marshal([]string{serviceSecret, keySecret})
	require.NoError(t, err)
	requireSagasGathered(t, g.admin, sp.orders.admin)
	runBrowser(t, "console", map[string]string{"ADMIN_URL": g.admin, "BASE_URL": g.url, "WANT": string(want), "SECRETS": string(secrets)})
	requireSystemAdvised(t, g.admin, peers)

	t.Logf("split started and console walked at %s", time.Now().Format("15:04:05.000"))
	sp.payments.kill(t)
	resp, err := httpClient.Post(sp.users.url+"/api/v1/users", "application/json",
		strings.NewReader(`{"email":"dead-letter@example.com","name":"Dee","password":"correct horse battery"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Eventually(t, func() bool {
		s := usersOutbox(t, sp.users.admin)
		return len(s.DeadLetters) == 1 && s.DeadLetters[0].Type == "user.registered"
	}, 20*time.Second, 50*time.Millisecond, "user.registered dead-lettered while payments is down")
	t.Logf("dead letter at %s", time.Now().Format("15:04:05.000"))
	again := maps.Clone(sp.env["payments"])
	again["HTTP_ADDR"], again["ADMIN_ADDR"] = strings.TrimPrefix(sp.payments.url, "http://"), strings.TrimPrefix(sp.payments.admin, "http://")
	back := startApp(t, "payments again", again)
	back.url = sp.payments.url
	back.waitReady(t)

	t.Logf("payments back at %s", time.Now().Format("15:04:05.000"))
	runBrowser(t, "replay", map[string]string{"ADMIN_URL": g.admin, "EVENT_TYPE": "user.registered"})
	s := usersOutbox(t, sp.users.admin)
	require.Empty(t, s.DeadLetters)
	for _, sub := range s.Subscribers {
		require.Zero(t, sub.Pending+sub.Dead, "%+v", sub)
	}
}

// requireSagasGathered: the console of a process that does not run orders
// (the gateway's) gathers the part orders declares from its peer that
// does, and refuses a part nobody registered, with a problem.
func requireSagasGathered(t *testing.T, console, orders string) {
	t.Helper()
	resp, err := httpClient.Get(console + "/admin/v1/system/sagas")
	require.NoError(t, err)
	var got struct {
		Processes []struct {
			Admin  string
			Self   bool
			Status int
			Body   struct{ Module string }
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	found := false
	for _, p := range got.Processes {
		switch {
		case p.Self:
			assert.Equal(t, http.StatusNotFound, p.Status, "the gateway runs no orders")
		case p.Admin == orders:
			found = true
			assert.Equal(t, http.StatusOK, p.Status)
			assert.Equal(t, "orders", p.Body.Module)
		}
	}
	require.True(t, found, "the orders process answered: %+v", got)

	resp, err = httpClient.Get(console + "/admin/v1/system/nothing")
	require.NoError(t, err)
	var d problem.Details
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, problem.ContentType, resp.Header.Get("Content-Type"))
	require.Equal(t, problem.ErrNotFound.Code, d.Code)
}

// outboxState is users' outbox as its admin listener reports it.
type outboxState struct {
	Module      string `json:"module"`
	Subscribers []struct {
		Subscriber string `json:"subscriber"`
		Pending    int    `json:"pending"`
		Dead       int    `json:"dead"`
		Delivered  int    `json:"delivered"`
	} `json:"subscribers"`
	DeadLetters []struct {
		Type string `json:"type"`
	} `json:"dead_letters"`
}

func usersOutbox(t *testing.T, admin string) outboxState {
	t.Helper()
	resp, err := httpClient.Get(admin + "/admin/v1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Outboxes []outboxState `json:"outboxes"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	for _, o := range out.Outboxes {
		if o.Module == "users" {
			return o
		}
	}
	t.Fatalf("no users outbox in %+v", out)
	return outboxState{}
}

// The console's advisor panel, after some orders in one process that
// records them, weighs splitting payments out.
func TestBrowserAdvisor(t *testing.T) {
	t.Parallel()
	p := startApp(t, "advised", map[string]string{"RECORD_EVERY": "1", "DATABASE_URL": pgtest.NewDatabase(t),
		"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret})
	p.waitReady(t)
	shop := newShopper(t, &http.Client{Timeout: 10 * time.Second}, p.url, p.url)
	for range 20 {
		shop.order(t)
	}
	runBrowser(t, "advisor", map[string]string{"ADMIN_URL": p.admin})
}

// requireSystemAdvised: `app advise --system` reads the whole system
// through the console's admin API at admin (that process and its
// ADMIN_PEERS) and weighs the placement in use, from what the processes
// recorded of the orders placed in the storefront.
func requireSystemAdvised(t *testing.T, admin string, peers []string) {
	t.Helper()
	out, errOut, err := runApp(t, nil, "advise", "--system", "--from", admin, "--format", "json")
	require.NoError(t, err, "stderr:\n%s", errOut)
	var r advise.SystemReport
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Empty(t, r.Unreachable)
	assert.ElementsMatch(t, append([]string{admin}, peers...), r.Processes, "every process of the system was read")
	var inUse *advise.Prediction
	for i, c := range r.Candidates {
		if c.Name == "in use" {
			inUse = &r.Candidates[i]
		}
	}
	require.NotNil(t, inUse, "the placement in use is weighed: %s", out)
	assert.Len(t, inUse.Groups, len(peers)+1, "one group per process: %v", inUse.Groups)
	assert.NotEmpty(t, inUse.Expensive, "the edges over the network in use are named")

	_, errOut, err = runApp(t, nil, "advise", "--system", "--from", admin, "--from", peers[0])
	require.Error(t, err)
	assert.Contains(t, errOut, "pass --from once")
}

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/httpserver"
	"mitosis/platform/pgtest"
	"mitosis/platform/problem"
)

// drainEnv: the process serves on for drainDelay after SIGTERM, logging
// JSON (the test reads the access line of a late request).
var drainEnv = map[string]string{"PASSWORD_HASH_COST": "4", "SHUTDOWN_DELAY": drainDelay.String(), "SHUTDOWN_TIMEOUT": "60s",
	"LOG_FORMAT": "json"}

const (
	drainDelay = 3 * time.Second
	// dbLatency is added to each round trip to PostgreSQL once the test
	// slows it: a registration's few round trips then outlast drainDelay.
	dbLatency = 1200 * time.Millisecond
)

// slowDatabase is a new test database behind a toxiproxy; slow adds
// dbLatency to every answer of PostgreSQL from then on, on the open
// connections too, and returns the function that takes it away.
func slowDatabase(t *testing.T) (dbURL string, slow func() (fast func())) {
	t.Helper()
	u, err := url.Parse(pgtest.NewDatabase(t))
	require.NoError(t, err)
	toxi := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(toxi, "postgres", "127.0.0.1:0", u.Host)
	require.NoError(t, proxy.Start())
	t.Cleanup(proxy.Stop)
	u.Host = proxy.Listen
	return u.String(), func() func() {
		_, err := proxy.Toxics.AddToxicJson(strings.NewReader(fmt.Sprintf(
			`{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":%d}}`, dbLatency.Milliseconds())))
		require.NoError(t, err)
		return func() { require.NoError(t, proxy.Toxics.RemoveToxic(context.Background(), "slow")) }
	}
}

// TestGracefulShutdown sends SIGTERM to a process serving slow requests
// (registrations, slow as its database is made slow), in one process and to
// the users process of the split topology, reached directly and through the
// gateway: /health/
// ready turns 503 at once while the process serves on for SHUTDOWN_DELAY;
// then the listener closes (new connections refused, a request on a
// connection kept alive from before answered 503 with Retry-After), the
// requests in flight finish 201, and the process exits 0, logging each
// phase.
func TestGracefulShutdown(t *testing.T) {
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		dbURL, slow := slowDatabase(t)
		p := startApp(t, "app", with(drainEnv, map[string]string{"DATABASE_URL": dbURL,
			"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}))
		p.waitReady(t)
		drainUnderRequests(t, p, p.url, slow())
	})
	t.Run("users of the split topology", func(t *testing.T) {
		t.Parallel()
		dbURL, slow := slowDatabase(t)
		sp := startSplit(t, dbURL, "", drainEnv, nil)
		drainUnderRequests(t, sp.users, sp.users.url, slow())
	})
	// Through the gateway: the registrations in flight finish through it,
	// and once users' listener is closed the gateway answers 503 with
	// Retry-After, never a 502.
	t.Run("users behind the gateway", func(t *testing.T) {
		t.Parallel()
		dbURL, slow := slowDatabase(t)
		sp := startSplit(t, dbURL, "", drainEnv, nil)
		topo := behindGateway(t, splitTopology(sp, drainEnv))
		drainUnderRequests(t, sp.users, topo.users, slow())
	})
}

// drainUnderRequests sends two slow registrations to base (p's own URL, or
// the gateway in front of it), then SIGTERM to p; once they are answered,
// fast makes the database fast again, for the rest of the shutdown (the
// relays' last batches).
func drainUnderRequests(t *testing.T, p *appProcess, base string, fast func()) {
	addr := strings.TrimPrefix(p.url, "http://")
	kept, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer kept.Close()
	keptReader := bufio.NewReader(kept)
	require.Equal(t, http.StatusOK, rawGet(t, kept, keptReader, "/health/live").StatusCode)

	type result struct {
		status int
		err    error
	}
	results := make(chan result, 2)
	for i := range 2 {
		go func() {
			body := fmt.Sprintf(`{"email":"slow-%d@example.com","name":"Slow","password":"a slow password %d"}`, i, i)
			resp, err := (&http.Client{Timeout: time.Minute}).Post(base+"/api/v1/users", "application/json", strings.NewReader(body))
			if err != nil {
				results <- result{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results <- result{status: resp.StatusCode}
		}()
	}
	// Once the listener is open the requests are served whenever they
	// arrive: during the delay as before it.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()

	// A readiness check before the drain waits for the slow database; one
	// after answers at once.
	quick := &http.Client{Timeout: 200 * time.Millisecond}
	require.Eventually(t, func() bool {
		resp, err := quick.Get(p.url + "/health/ready")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body map[string]string
		return resp.StatusCode == http.StatusServiceUnavailable && json.NewDecoder(resp.Body).Decode(&body) == nil && body["status"] == "draining"
	}, drainDelay/2, 20*time.Millisecond, "/health/ready answers 503 draining at once")
	live, err := httpClient.Get(p.url + "/health/live")
	require.NoError(t, err, "new connections are served during the delay")
	live.Body.Close()
	require.Equal(t, http.StatusOK, live.StatusCode)

	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	}, drainDelay+5*time.Second, 20*time.Millisecond, "the listener closes after the delay")
	assert.GreaterOrEqual(t, time.Since(signalled), drainDelay, "not before the delay")

	// A browser's request, with the id a client chose: its answer has the
	// id and the CORS headers of every answer, and its access-log line.
	const lateID, origin = "late-request-1", "http://localhost:3000"
	late := rawGet(t, kept, keptReader, "/health/live", "X-Request-Id", lateID, "Origin", origin)
	assert.Equal(t, http.StatusServiceUnavailable, late.StatusCode, "a request on a kept-alive connection after the listener closed")
	assert.Equal(t, "1", late.Header.Get("Retry-After"))
	assert.Equal(t, problem.ContentType, late.Header.Get("Content-Type"))
	assert.Equal(t, lateID, late.Header.Get("X-Request-Id"))
	assert.Equal(t, origin, late.Header.Get("Access-Control-Allow-Origin"))
	var d problem.Details
	require.NoError(t, json.NewDecoder(late.Body).Decode(&d))
	assert.Equal(t, httpserver.ErrClosing.Code, d.Code)
	if base != p.url {
		resp, err := httpClient.Post(base+"/api/v1/users", "application/json",
			strings.NewReader(`{"email":"late@example.com","name":"Late","password":"a late password"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the gateway, for a module that stopped accepting")
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		assert.Equal(t, problem.ContentType, resp.Header.Get("Content-Type"))
	}

	for range 2 {
		r := <-results
		require.NoError(t, r.err, "a request in flight is not cut")
		assert.Equal(t, http.StatusCreated, r.status, "a request in flight completes")
	}
	fast()
	p.exitsCleanly(t)
	out := p.output.String()
	for _, phase := range []string{"shutdown: draining", "shutdown: delay over", "shutdown: listener closed",
		"shutdown: requests in flight finished", "shutdown: event relay stopped", "shutdown: database pool closed", "shutdown: done"} {
		assert.Contains(t, out, phase)
	}
	assert.Regexp(t, `"shutdown: listener closed[^"]*".*"in_flight":2`, out, "both registrations were in flight when the listener closed")
	assertLogged(t, out, lateID, http.StatusServiceUnavailable, httpserver.ErrClosing.Code)
}

// assertLogged: out (JSON lines) has one access-log line of the request
// with id, with its status and problem code.
func assertLogged(t *testing.T, out, id string, status int, code string) {
	t.Helper()
	var found []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "request" && line["request_id"] == id {
			found = append(found, line)
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, found, 1, "one access-log line of request %s", id)
	assert.EqualValues(t, status, found[0]["status"], "%v", found[0])
	assert.Equal(t, code, found[0]["code"], "%v", found[0])
}

// A second signal ends a process that is draining at once, not cleanly.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	p := startApp(t, "app", map[string]string{"DATABASE_URL": pgtest.NewDatabase(t),
		"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret, "SHUTDOWN_DELAY": "1m"})
	p.waitReady(t)
	p.killed = true // no clean exit expected
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool {
		resp, err := httpClient.Get(p.url + "/health/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 10*time.Second, 20*time.Millisecond, "draining")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after a second signal (its delay is a minute)")
	}
	var exit *exec.ExitError
	require.True(t, errors.As(p.err, &exit), "exit: %v", p.err)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Contains(t, p.output.String(), "second signal (interrupt): exiting at once")
}

// rawGet sends GET path on conn, kept alive, with headers (name, value,
// ...), and reads the whole answer.
func rawGet(t *testing.T, conn net.Conn, r *bufio.Reader, path string, headers ...string) *http.Response {
	t.Helper()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	req := "GET " + path + " HTTP/1.1\r\nHost: x\r\n"
	for i := 0; i+1 < len(headers); i += 2 {
		req += headers[i] + ": " + headers[i+1] + "\r\n"
	}
	_, err := io.WriteString(conn, req+"\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

package e2e

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

// Secrets of every process of one topology: serviceSecret signs service
// tokens, keySecret seals users' signing keys.
const (
	serviceSecret = "e2e-secret-e2e-secret-e2e-secret-0123456789"
	keySecret     = "e2e-key-secret-e2e-key-secret-0123456789"
)

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 20 * time.Second
	// exitTimeout bounds a command expected to finish on its own.
	exitTimeout = 20 * time.Second
)

// httpClient talks to the apps under test.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// appProcess is one running `app serve`.
type appProcess struct {
	name   string
	url    string
	admin  string // base URL of its admin listener ("" when off)
	cmd    *exec.Cmd
	output *syncBuffer // stdout and stderr
	exited chan struct{}
	err    error // the exit status; read after exited is closed
	killed bool  // by kill: no clean exit expected
}

// startApp runs `app serve` on a free loopback port (or env's HTTP_ADDR)
// with env (plus DATA_DIR) and stops it with SIGTERM when the test ends. It
// does not wait for readiness.
func startApp(t *testing.T, name string, env map[string]string) *appProcess {
	t.Helper()
	addr := env["HTTP_ADDR"]
	if addr == "" {
		addr = freeAddr(t)
	}
	// Every client here shares one IP: limits are tested on their own.
	// Many processes run at once: each admin listener on a port of its
	// own; the health monitor checks often, for tests that wait on it.
	vars := map[string]string{
		"HTTP_ADDR": addr, "DATA_DIR": t.TempDir(), "ADMIN_ADDR": freeAddr(t), "HEALTH_MONITOR_INTERVAL": "200ms",
		"RATE_LIMIT_DEFAULT": "1000000/s burst 1000000", "RATE_LIMIT_AUTH": "1000000/s burst 1000000",
		"RATE_LIMIT_REGISTER": "1000000/s burst 1000000",
	}
	for k, v := range env {
		vars[k] = v
	}
	withOwnDatabases(t, vars)
	p := &appProcess{
		name:   name,
		url:    "http://" + addr,
		admin:  adminURL(vars["ADMIN_ADDR"]),
		cmd:    exec.Command(appBinary, "serve"),
		output: &syncBuffer{},
		exited: make(chan struct{}),
	}
	p.cmd.Env = environ(vars)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	p.cmd.SysProcAttr = dieWithParent()
	waited, err := startOnOwnThread(p.cmd)
	require.NoError(t, err, "start %s", name)
	go func() {
		p.err = <-waited
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// waitReady polls /health/ready until it answers 200.
func (p *appProcess) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.err, p.output)
		default:
		}
		resp, err := httpClient.Get(p.url + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s (last: %v)\n%s", p.name, readyTimeout, err, p.output)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *appProcess) kill(t *testing.T) {
	t.Helper()
	p.killed = true
	require.NoError(t, p.cmd.Process.Kill())
	<-p.exited
}

// stop sends SIGTERM and expects a clean exit; the output is logged when the
// test failed, so every failure comes with the server's side of the story.
func (p *appProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil && !p.killed {
			t.Errorf("%s did not exit cleanly on SIGTERM: %v", p.name, p.err)
		}
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("%s still running %s after SIGTERM; killed", p.name, stopTimeout)
	}
	if t.Failed() {
		p.logOutput(t)
	}
}

// outputTail is how many of a process's last lines a failed test logs: the
// whole output goes to a file, so that the failure's own message stays
// near the end of what go test prints.
const outputTail = 8

// logOutput writes p's whole output to .artifacts/e2e/<test>/<name>.log
// (git-ignored) and logs its path and last lines.
func (p *appProcess) logOutput(t *testing.T) {
	t.Helper()
	out := p.output.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	tail := strings.Join(lines[max(len(lines)-outputTail, 0):], "\n")
	file, err := filepath.Abs(filepath.Join("..", ".artifacts", "e2e", fileName(t.Name()), fileName(p.name)+".log"))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(file), 0o755)
	}
	if err == nil {
		err = os.WriteFile(file, []byte(out), 0o644)
	}
	if err != nil {
		t.Logf("output of %s (%d lines; not written: %v):\n%s", p.name, len(lines), err, out)
		return
	}
	t.Logf("output of %s: %s (%d lines), ending:\n%s", p.name, file, len(lines), tail)
}

// fileName is s with every character but letters, digits, '-' and '.'
// replaced by '_'.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '_'
	}, s)
}

// exitsCleanly waits for p, signalled, to exit within stopTimeout, and
// requires its exit status 0.
func (p *appProcess) exitsCleanly(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		t.Fatalf("%s still running %s after the signal", p.name, stopTimeout)
	}
	require.NoError(t, p.err, "%s exits 0\n%s", p.name, p.output)
}

// runApp runs the app with args until it exits, and returns its stdout,
// stderr and exit error (nil for status 0).
func runApp(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runAppIn(t, "", env, args...)
}

// runAppIn is runApp in the working directory dir ("" for the test's own).
func runAppIn(t *testing.T, dir string, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	vars := map[string]string{"DATA_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	withOwnDatabases(t, vars)
	cmd := exec.CommandContext(ctx, appBinary, args...)
	cmd.Dir = dir
	cmd.Env = environ(vars)
	cmd.SysProcAttr = dieWithParent()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	waited, err := startOnOwnThread(cmd)
	if err == nil {
		err = <-waited
	}
	if ctx.Err() != nil {
		t.Fatalf("app %v did not exit within %s\nstdout:\n%s\nstderr:\n%s", args, exitTimeout, &out, &errOut)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("app %v: %v", args, err)
	}
	return out.String(), errOut.String(), err
}

// startOnOwnThread starts cmd from a goroutine locked to its OS thread
// until cmd has exited, and sends cmd.Wait's result. dieWithParent's
// signal comes when the thread that started the child ends, not the
// process (go.dev/issue/27505): a thread the runtime ends while the child
// runs would kill it, so that thread serves this child alone.
func startOnOwnThread(cmd *exec.Cmd) (<-chan error, error) {
	started, waited := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine, after the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		waited <- cmd.Wait()
	}()
	return waited, <-started
}

// environ is vars as a process environment. Only PATH is inherited, so the
// developer's own SERVICES, DATABASE_URL or secrets never leak in.
func environ(vars map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// adminURL is the base URL of an admin listener on addr, "" when off.
func adminURL(addr string) string {
	if addr == "" || addr == "off" {
		return ""
	}
	return "http://" + addr
}

// freeAddr returns a loopback address with a port that was free just now.
//
// The port comes from below the kernel's ephemeral range (32768 and up on
// Linux), so no outgoing connection (to PostgreSQL, between processes) can
// take it before the process binds it, and never twice in one test binary,
// so two processes started side by side (or a process's public and admin
// listeners) never get the same one.
func freeAddr(t *testing.T) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if handedOut.ports[port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // another test binary's, or a server's
		}
		require.NoError(t, ln.Close())
		handedOut.ports[port] = true
		return ln.Addr().String()
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}

// handedOut holds the ports freeAddr gave in this test binary.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// syncBuffer is a bytes.Buffer safe for a process writing while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cluster runs the PostgreSQL programs against one data directory.
type cluster struct {
	binDir  string
	id      *identity
	dir     string // base directory; working directory of every command
	dataDir string
	logFile string
	fsync   bool
}

// run executes a PostgreSQL program as the server user and returns its
// combined output for error messages.
func (c *cluster) run(ctx context.Context, prog string, args ...string) (string, error) {
	cmd := c.id.command(ctx, c.dir, filepath.Join(c.binDir, prog), args...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// initdb creates the cluster with the superuser password read from pwfile.
// Locale C keeps the cluster independent of the host's installed locales.
func (c *cluster) initdb(ctx context.Context, pwfile string) error {
	args := []string{
		"-D", c.dataDir, "-U", "postgres", "-E", "UTF8", "--locale=C",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile,
	}
	if !c.fsync {
		args = append(args, "--no-sync")
	}
	if out, err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	return nil
}

// running asks pg_ctl whether a live server owns the data directory; pg_ctl
// ignores a postmaster.pid whose process is gone.
func (c *cluster) running(ctx context.Context) (bool, error) {
	out, err := c.run(ctx, "pg_ctl", "status", "-D", c.dataDir)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 3:
		return false, nil
	default:
		return false, fmt.Errorf("pg_ctl status: %w: %s", err, out)
	}
}

// start launches the server as a child of this process and returns its
// port once it is ready: fixed if port is not 0, otherwise a fresh free
// one. A port picked by the kernel can be taken by someone else before
// postgres binds it, so that specific failure is retried with another port
// (a fixed port is tried once).
func (c *cluster) start(ctx context.Context, port int) (int, *postmaster, error) {
	attempts, fixed := 3, port != 0
	if fixed {
		attempts = 1
	}
	var lastErr error
	for range attempts {
		if !fixed {
			var err error
			if port, err = freePort(); err != nil {
				return 0, nil, err
			}
		}
		logStart := fileSize(c.logFile)
		pm, err := c.launch(port)
		if err != nil {
			return 0, nil, err
		}
		if err = c.started(ctx, pm); err == nil {
			return port, pm, nil
		}
		logTail := readFrom(c.logFile, logStart)
		lastErr = fmt.Errorf("start postgres: %w\n%s", err, logTail)
		if ctx.Err() != nil || !strings.Contains(logTail, "could not bind") {
			break
		}
	}
	return 0, nil, lastErr
}

// launch runs postgres on port, its output appended to the log, owned by
// this process (see spawn).
func (c *cluster) launch(port int) (*postmaster, error) {
	log, err := os.OpenFile(c.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer log.Close() // the child has its own descriptor
	if err := c.id.chown(c.logFile); err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), c.serverArgs(port)...)
	cmd.Dir, cmd.Env = c.dir, environ()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = ownedAttr(c.id.cred)
	pm, err := spawn(cmd)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	pm.pid = cmd.Process.Pid
	return pm, nil
}

// startTimeout bounds the server's startup (crash recovery included), as
// pg_ctl's -t 60 did.
const startTimeout = 60 * time.Second

// started waits until the server says it is ready in its postmaster.pid
// (as pg_ctl -w does), or fails if it exits first.
func (c *cluster) started(ctx context.Context, pm *postmaster) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		if c.readyPid() == pm.pid {
			return nil
		}
		select {
		case <-pm.exited:
			return fmt.Errorf("postgres exited during startup: %v", pm.err)
		case <-ctx.Done():
			c.kill(pm)
			return fmt.Errorf("postgres not ready: %w", ctx.Err())
		case <-time.After(readyPoll):
		}
	}
}

// kill stops a server that did not come up, and waits for it.
func (c *cluster) kill(pm *postmaster) {
	_ = syscall.Kill(pm.pid, syscall.SIGQUIT)
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	_ = pm.wait(ctx)
}

// readyPid returns the pid in postmaster.pid if its status line (the
// eighth, PostgreSQL's documented layout) says ready, else 0.
func (c *cluster) readyPid() int {
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 8 || strings.TrimSpace(lines[7]) != "ready" {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	return pid
}

// serverArgs turns the Unix socket off, so nothing is written outside the
// base directory. Each module has its own pool, so several processes on one
// server need more than the default 100 connections.
func (c *cluster) serverArgs(port int) []string {
	args := []string{"-D", c.dataDir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"}
	if !c.fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return args
}

// runningPort reads the port of the running server from its postmaster.pid,
// whose fourth line is the port (PostgreSQL's documented layout).
func (c *cluster) runningPort() (int, error) {
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("find the running server's port: %w", err)
	}
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 4 {
		return 0, fmt.Errorf("find the running server's port: short postmaster.pid in %s", c.dataDir)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil || port <= 0 || port > 65535 {
		return 0, fmt.Errorf("find the running server's port: bad port %q in postmaster.pid", lines[3])
	}
	return port, nil
}

// stop shuts the server down, aborting open sessions (fast mode).
func (c *cluster) stop(ctx context.Context) error {
	out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", "fast", "-w")
	if err == nil {
		return nil
	}
	// Already gone (e.g. it got the terminal's Ctrl-C too): nothing to do.
	if up, serr := c.running(ctx); serr == nil && !up {
		return nil
	}
	return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	return port, nil
}

// fileSize returns the size of path, or 0 if it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns up to 4 KiB of path starting at offset, for error
// messages; the server log explains most start failures.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.NewSectionReader(f, offset, 4096))
	return strings.TrimSpace(string(b))
}

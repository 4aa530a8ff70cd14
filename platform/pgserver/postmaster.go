package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// ownerFile, in the base directory, holds the pid of the process that
// started the server and stops it: its owner.
const ownerFile = "owner.pid"

// postmaster is a server this process started as its child.
type postmaster struct {
	pid    int
	exited chan struct{}
	err    error // of the exit; read after exited is closed
}

// spawn starts cmd as a child that the kernel stops if this process dies
// (on Linux: SIGINT, PostgreSQL's fast shutdown, see ownedAttr), so a
// killed owner never leaves its server running. The signal is sent when
// the thread that forked the child ends, not the process, so the fork
// happens on a thread locked to a goroutine that lives as long as the
// child (go.dev/issue/27505).
func spawn(cmd *exec.Cmd) (*postmaster, error) {
	pm := &postmaster{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		pm.err = cmd.Wait()
		close(pm.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return pm, nil
}

// wait returns once the server process has exited and been reaped.
func (pm *postmaster) wait(ctx context.Context) error {
	select {
	case <-pm.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for postgres to exit: %w", ctx.Err())
	}
}

// claim records this process as the server's owner.
func (c *cluster) claim() error {
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("record the server's owner: %w", err)
	}
	return nil
}

// release forgets the owner, if it is still this process.
func (c *cluster) release() {
	if pid, ok := c.owner(); ok && pid == os.Getpid() {
		_ = os.Remove(filepath.Join(c.dir, ownerFile))
	}
}

// owner returns the recorded owner's pid; ok is false if none is recorded.
func (c *cluster) owner() (pid int, ok bool) {
	raw, err := os.ReadFile(filepath.Join(c.dir, ownerFile))
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(raw)))
	return pid, err == nil && pid > 0
}

// ownerAlive reports whether the running server's recorded owner still
// runs. A server with no recorded owner was left by a process that died
// before this was recorded (or by an older release): nobody will stop it.
func (c *cluster) ownerAlive() (pid int, alive bool) {
	pid, ok := c.owner()
	if !ok {
		return 0, false
	}
	if pid == os.Getpid() {
		return pid, true
	}
	err := syscall.Kill(pid, 0)
	return pid, err == nil || errors.Is(err, syscall.EPERM)
}

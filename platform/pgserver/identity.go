package pgserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// identity is the OS user that runs initdb, pg_ctl and postgres. PostgreSQL
// refuses to run as root, so as root we switch to the "postgres" user; any
// other user runs the server as itself.
type identity struct {
	name string
	uid  int
	gid  int
	cred *syscall.Credential // nil: run as the current user
}

// serverIdentity decides who runs the server for the current process.
func serverIdentity() (*identity, error) {
	if os.Geteuid() != 0 {
		return &identity{name: "current user", uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the unprivileged \"postgres\" user (apt-get install postgresql creates it): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	// Supplementary groups matter for access checks (e.g. ssl-cert), so the
	// child gets exactly what a login as postgres would have.
	var groups []uint32
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				groups = append(groups, uint32(g))
			}
		}
	}
	return &identity{
		name: "postgres",
		uid:  int(uid),
		gid:  int(gid),
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups},
	}, nil
}

// command builds a command run as id, in dir, with PG* variables removed so
// that a developer's PGDATA or PGPORT cannot redirect pg_ctl.
func (id *identity) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	// Should a program ever leave a child holding our output pipes open,
	// don't wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: id.cred}
	cmd.Env = environ()
	return cmd
}

// environ is this process's environment without PG* variables.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// chown gives path to id when we act on its behalf as root; as a normal user
// the files are already ours.
func (id *identity) chown(path string) error {
	if id.cred == nil {
		return nil
	}
	if err := os.Lchown(path, id.uid, id.gid); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, id.name, err)
	}
	return nil
}

// can reports whether id passes `test <flag> path` (e.g. "-x", "-w"). The
// kernel does the check as that user, so parent directories, groups and ACLs
// are all taken into account, unlike a mode-bit calculation.
func (id *identity) can(flag, path string) bool {
	testBin, err := exec.LookPath("test")
	if err != nil {
		testBin = "/usr/bin/test"
	}
	cmd := id.command(context.Background(), "/", testBin, flag, path)
	return cmd.Run() == nil
}

// ownerUID returns the owner of a file from its stat data.
func ownerUID(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}

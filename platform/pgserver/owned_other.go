//go:build !linux

package pgserver

import "syscall"

// ownedAttr runs the server as cred, in a process group of its own. Without
// a parent-death signal, a server whose owner died is stopped by the next
// Start on its directory instead.
func ownedAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}

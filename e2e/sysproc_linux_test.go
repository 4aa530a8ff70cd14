package e2e

import "syscall"

// dieWithParent makes a child process get SIGKILL if the test process dies
// without running its cleanups (a panic, a timeout), so no app is left
// serving.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

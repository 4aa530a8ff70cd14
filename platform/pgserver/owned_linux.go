package pgserver

import "syscall"

// ownedAttr runs the server as cred, in a process group of its own (a
// terminal's Ctrl-C goes to the app, which stops the server in order), and
// has the kernel send it SIGINT, a fast shutdown, when this process dies.
func ownedAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGINT}
}

//go:build !linux

package e2e

import "syscall"

// dieWithParent has no portable equivalent outside Linux; cleanups still
// stop every child when the tests end normally.
func dieWithParent() *syscall.SysProcAttr { return nil }

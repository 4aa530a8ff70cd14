//go:build !linux

package main

import "syscall"

// dieWithParent has no portable equivalent outside Linux; cleanups still
// stop every child when the tests end normally.
func dieWithParent() *syscall.SysProcAttr { return nil }

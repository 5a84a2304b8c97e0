//go:build !linux

package backend

import "syscall"

// dieWithParent is a unchanged: only Linux has a parent-death signal.
func dieWithParent(a *syscall.SysProcAttr) *syscall.SysProcAttr { return a }

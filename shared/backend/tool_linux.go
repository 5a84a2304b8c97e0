//go:build linux

package backend

import "syscall"

// dieWithParent is how a tool is started: as a asks (a copy; nil is the
// default), and killed by the kernel when the plugin that runs it dies. A
// host killed by SIGKILL takes its plugin with it (the plugin's own
// parent-death signal); without this, the s6-svc or s6-svwait it was
// running outlived both.
func dieWithParent(a *syscall.SysProcAttr) *syscall.SysProcAttr {
	var attr syscall.SysProcAttr
	if a != nil {
		attr = *a
	}
	if attr.Pdeathsig == 0 {
		attr.Pdeathsig = syscall.SIGKILL
	}
	return &attr
}

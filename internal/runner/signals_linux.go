//go:build linux

package runner

import "syscall"

// setParentDeathSignal makes the kernel send the gateway SIGTERM if its
// runner dies without stopping it (SIGKILL, OOM): no gateway outlives its
// runner to fight the next one for the profile.
func setParentDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGTERM }

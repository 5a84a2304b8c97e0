//go:build !linux && !windows

package runner

import "syscall"

// setParentDeathSignal has no kernel support here; the runner's own exit
// paths stop the gateway.
func setParentDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

//go:build !windows

package gateway

import "syscall"

// RequestStop asks the gateway (or runner) with pid to stop: SIGTERM. Write
// the planned-stop marker first when the stop is the operator's.
func RequestStop(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// Kill ends pid at once: SIGKILL.
func Kill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

//go:build unix

package systemd

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalName is a signal's name, "SIGKILL", or its number when unknown.
func signalName(n int) string {
	if name := unix.SignalName(syscall.Signal(n)); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(n)
}

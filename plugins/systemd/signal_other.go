//go:build !unix

package systemd

import "strconv"

// signalName: Windows has no signal names to give.
func signalName(n int) string { return "signal " + strconv.Itoa(n) }

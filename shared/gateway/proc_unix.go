//go:build !linux && !windows

package gateway

import "syscall"

// startTime is unknown without /proc; pid equality then decides, bounded by
// the marker's 60 s validity, as on the Python side.
func startTime(int) *int64 { return nil }

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// bootID is unknown here.
func bootID() string { return "" }

// groupMembers cannot list a group without /proc.
func groupMembers(int) ([]member, bool) { return nil, false }

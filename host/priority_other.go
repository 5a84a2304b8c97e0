//go:build !linux

package host

// raisePriority: only a Linux container reconciles at boot.
func raisePriority() {}

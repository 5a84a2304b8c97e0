//go:build !windows && !linux

package s6

// umask is unknown here without setting it: every bit, so that callers
// fchmod.
func umask() uint32 { return 0o777 }

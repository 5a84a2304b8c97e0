//go:build windows

package gateway

// syncDir is a no-op: Windows cannot open a folder to fsync it.
func syncDir(string) {}

//go:build !linux

package host_test

import "github.com/rogpeppe/go-internal/testscript"

// noorphans needs /proc; elsewhere the Linux run carries the check.
func noOrphans(*testscript.TestScript, bool, []string) {}

func waitPlugin(*testscript.TestScript, bool, []string) {}

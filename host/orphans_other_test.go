//go:build !linux

package host_test

import "github.com/rogpeppe/go-internal/testscript"

// noorphans and the commands below need /proc (or run only in scripts
// that need it); elsewhere the Linux run carries the check.
func noOrphans(*testscript.TestScript, bool, []string) {}

func waitPlugin(*testscript.TestScript, bool, []string) {}

func waitFile(*testscript.TestScript, bool, []string) {}

func procs(*testscript.TestScript, bool, []string) {}

func socketDir(*testscript.TestScript, bool, []string) {}

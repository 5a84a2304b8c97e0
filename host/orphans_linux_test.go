package host_test

import (
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nousresearch/hermes-service/internal/proctest"
)

// noorphans fails when a live process still runs an executable from the
// script's work folder (where its plugins live) a moment after the last
// command ended.
func noOrphans(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: noorphans")
	}
	work := ts.Getenv("WORK")
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := processesUnder(work)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("processes left behind: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func processesUnder(dir string) []string { return proctest.Live(proctest.Under(dir)) }

// waitplugin waits (up to 10 s) until a process runs an executable from the
// script's work folder, i.e. a plugin has been launched.
func waitPlugin(ts *testscript.TestScript, neg bool, args []string) {
	work := ts.Getenv("WORK")
	deadline := time.Now().Add(10 * time.Second)
	for len(processesUnder(work)) == 0 {
		if time.Now().After(deadline) {
			ts.Fatalf("no plugin process appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package host_test

import (
	"context"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/wait"
)

// noorphans fails when a live process still runs an executable from the
// script's work folder (where its plugins live) a moment after the last
// command ended.
func noOrphans(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: noorphans")
	}
	work := ts.Getenv("WORK")
	var left []string
	if err := wait.For(context.Background(), "the script's processes to exit", 3*time.Second, func() bool {
		left = processesUnder(work)
		return len(left) == 0
	}); err != nil {
		ts.Fatalf("processes left behind: %v", left)
	}
}

func processesUnder(dir string) []string { return proctest.Live(proctest.Under(dir)) }

// waitplugin waits (up to 10 s) until a process runs an executable from the
// script's work folder, i.e. a plugin has been launched.
func waitPlugin(ts *testscript.TestScript, neg bool, args []string) {
	work := ts.Getenv("WORK")
	if err := wait.For(context.Background(), "a plugin process", 10*time.Second, func() bool {
		return len(processesUnder(work)) > 0
	}); err != nil {
		ts.Fatalf("no plugin process appeared: %v", err)
	}
}

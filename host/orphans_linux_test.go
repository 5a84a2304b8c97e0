package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
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

func processesUnder(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(exe, dir+"/") {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		out = append(out, e.Name()+" "+exe)
	}
	return out
}

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

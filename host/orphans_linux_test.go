package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
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

// waitfile FILE waits (up to 10 s) until FILE exists.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	if err := wait.For(context.Background(), path, 10*time.Second, func() bool {
		_, err := os.Stat(path)
		return err == nil
	}); err != nil {
		ts.Fatalf("%v", err)
	}
}

// procs alive|gone PIDFILE... checks the processes whose pids the files
// hold: alive, now; gone (dead or a zombie), within 10 s. One not gone by
// then is killed as the script fails (the script started it), so a
// failure leaves nothing behind.
func procs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || (args[0] != "alive" && args[0] != "gone") {
		ts.Fatalf("usage: procs alive|gone PIDFILE...")
	}
	for _, f := range args[1:] {
		pid := pidIn(ts, f)
		if args[0] == "alive" {
			if !gateway.Alive(pid) {
				ts.Fatalf("process %d (%s) is not running", pid, f)
			}
			continue
		}
		if err := wait.For(context.Background(), fmt.Sprintf("process %d (%s) to be gone", pid, f), 10*time.Second,
			func() bool { return !gateway.Alive(pid) }); err != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			ts.Fatalf("%v", err)
		}
	}
}

// socketdir PIDFILE succeeds when a plugin socket folder of the host whose
// pid PIDFILE holds (hermes-plugin-<pid>-*) is in the script's temporary
// folder or in /tmp, where a host puts it when the former is too deep; with
// !, when there is none in either.
func socketDir(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] socketdir PIDFILE")
	}
	pattern := fmt.Sprintf("hermes-plugin-%d-*", pidIn(ts, args[0]))
	var found []string
	for _, base := range []string{ts.Getenv("TMPDIR"), "/tmp"} {
		m, _ := filepath.Glob(filepath.Join(base, pattern))
		found = append(found, m...)
	}
	switch {
	case neg && len(found) > 0:
		ts.Fatalf("socket folders left: %v", found)
	case !neg && len(found) == 0:
		ts.Fatalf("no %s in %s or /tmp", pattern, ts.Getenv("TMPDIR"))
	}
}

func pidIn(ts *testscript.TestScript, file string) int {
	pid, err := strconv.Atoi(strings.TrimSpace(ts.ReadFile(file)))
	if err != nil || pid <= 0 {
		ts.Fatalf("%s holds no pid: %v", file, err)
	}
	return pid
}

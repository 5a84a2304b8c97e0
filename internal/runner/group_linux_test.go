package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// group is a test gateway leading a process group of its own, as the
// runner starts it, with the grandchild it started in that group.
type group struct {
	leader            *proctest.Proc
	leaderStart       int64
	grandchild        int
	grandchildStarted int64
}

// startGroup starts the test gateway in a group of its own, with a
// grandchild that ignores SIGTERM; the test's end kills both if they run.
func startGroup(t *testing.T) group {
	t.Helper()
	bin, err := testbin.Cached(testgateway.Package)
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TESTGATEWAY_GRANDCHILD="+pidFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := proctest.Start(t, cmd)
	var g group
	g.leader = p
	if err := wait.For(context.Background(), "the grandchild", 10*time.Second, func() bool {
		return strings.Contains(p.Out.String(), "started a grandchild")
	}); err != nil {
		t.Fatalf("%v; output:\n%s", err, p.Out)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if g.grandchild, err = strconv.Atoi(string(data)); err != nil {
		t.Fatal(err)
	}
	start := gateway.StartTime(g.grandchild)
	if start == nil {
		t.Fatalf("no start time for the grandchild %d", g.grandchild)
	}
	g.grandchildStarted = *start
	t.Cleanup(func() {
		if gateway.SameProcess(g.grandchild, start) {
			_ = syscall.Kill(g.grandchild, syscall.SIGKILL)
		}
	})
	g.leaderStart = *gateway.StartTime(cmd.Process.Pid)
	return g
}

func (g group) grandchildRuns() bool {
	return gateway.SameProcess(g.grandchild, &g.grandchildStarted)
}

func (g group) leaderRuns() bool {
	return gateway.SameProcess(g.leader.Cmd.Process.Pid, &g.leaderStart)
}

// TestEndLeftover: what a killed runner's gateway left in its process group
// is killed by the next runner before it starts its own, and a record that
// does not prove the group is the one it names (a reused pid, an older
// process in the group, another boot) signals nothing.
func TestEndLeftover(t *testing.T) {
	t.Parallel() // own processes, own folder
	tests := []struct {
		name       string
		killLeader bool // the gateway died with its runner (parent-death signal)
		record     func(g group) gateway.ChildGroup
		ended      bool
	}{
		{name: "the gateway died with its runner: its grandchild is killed", killLeader: true,
			record: func(g group) gateway.ChildGroup { return recordOf(g, g.leaderStart, "") }, ended: true},
		{name: "the gateway still runs: the whole group is killed",
			record: func(g group) gateway.ChildGroup { return recordOf(g, g.leaderStart, "") }, ended: true},
		{name: "the gateway's pid now belongs to another process",
			record: func(g group) gateway.ChildGroup { return recordOf(g, g.leaderStart+1, "") }},
		{name: "a process in the group started before the recorded gateway", killLeader: true,
			record: func(g group) gateway.ChildGroup { return recordOf(g, g.grandchildStarted+1, "") }},
		{name: "recorded before the machine last started", killLeader: true,
			record: func(g group) gateway.ChildGroup { return recordOf(g, g.leaderStart, "another-boot") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := startGroup(t)
			dir := t.TempDir()
			if err := gateway.WriteChildGroup(dir, tt.record(g)); err != nil {
				t.Fatal(err)
			}
			if tt.killLeader {
				_ = g.leader.Cmd.Process.Kill()
				g.leader.Exited(t, 10*time.Second)
			}
			if !g.grandchildRuns() {
				t.Fatal("the grandchild is gone before the runner starts")
			}
			var stderr proctest.Buffer
			r := &runner{Config{Dir: dir, Profile: "work", Log: hclog.NewNullLogger(), Stderr: &stderr}}
			if err := r.endLeftover(); err != nil {
				t.Fatalf("endLeftover: %v", err)
			}
			if got := !g.grandchildRuns() && !g.leaderRuns(); got != tt.ended {
				t.Fatalf("group ended: %v, want %v (grandchild runs %v, gateway runs %v); runner said:\n%s",
					got, tt.ended, g.grandchildRuns(), g.leaderRuns(), &stderr)
			}
			said := stderr.String()
			if tt.ended != strings.Contains(said, "killing them (SIGKILL) before the gateway starts") {
				t.Fatalf("runner said:\n%s", said)
			}
			if tt.ended && !strings.Contains(said, "PIDs [") {
				t.Fatalf("the runner did not name what it killed:\n%s", said)
			}
			if rec, err := gateway.ReadChildGroup(dir); rec != nil || err != nil {
				t.Fatalf("the record stays: %+v %v", rec, err)
			}
		})
	}
}

func recordOf(g group, start int64, boot string) gateway.ChildGroup {
	rec := gateway.NewChildGroup(os.Getpid()) // this boot's id
	rec.PGID, rec.StartTime, rec.RunnerPID = g.leader.Cmd.Process.Pid, &start, 1
	if boot != "" {
		rec.BootID = boot
	}
	return rec
}

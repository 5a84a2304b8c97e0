package host_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestAKilledRunnerLeavesNoSecondGateway (issue 17): a runner killed by
// SIGKILL takes its gateway with it even when the gateway ignores SIGTERM
// (the parent-death signal is SIGKILL), and what the gateway started in its
// process group is killed by the next runner before it starts its own
// gateway, so the profile never runs two.
func TestAKilledRunnerLeavesNoSecondGateway(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	first := startRunner(t, home, []string{"TESTGATEWAY_IGNORE_TERM=1", "TESTGATEWAY_GRANDCHILD=" + pidFile})
	child := running(t, first, home)
	waitFor(t, "the gateway's grandchild", func() bool { return strings.Contains(first.out.String(), "started a grandchild") }, first)
	grandchild, started := grandchildOf(t, pidFile)
	if g, _ := gateway.ReadChildGroup(workDir(home)); g == nil || g.PGID != child || g.RunnerPID != first.cmd.Process.Pid {
		t.Fatalf("group record %+v, want the gateway's group %d", g, child)
	}

	first.signal(t, syscall.SIGKILL)
	first.exitCode(t)
	waitFor(t, "the gateway, which ignores SIGTERM, to die with its runner", func() bool { return !gateway.Alive(child) })
	if !gateway.SameProcess(grandchild, started) {
		t.Fatal("the grandchild died with the gateway: nothing left for the next runner to end")
	}

	next := startRunner(t, home, nil)
	running(t, next, home)
	out := next.out.String()
	killed := strings.Index(out, "killing them (SIGKILL) before the gateway starts")
	if killed < 0 || killed > strings.Index(out, "test gateway started") || !strings.Contains(out, "PIDs ["+itoa(grandchild)) {
		t.Fatalf("the next runner did not end the leftover before it started its gateway:\n%s", out)
	}
	if gateway.SameProcess(grandchild, started) {
		t.Fatalf("the grandchild %d still runs", grandchild)
	}
	next.signal(t, syscall.SIGINT)
	if code := next.exitCode(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, next.out)
	}
	if g, err := gateway.ReadChildGroup(workDir(home)); g != nil || err != nil {
		t.Fatalf("the group record outlived its gateway: %+v %v", g, err)
	}
}

// grandchildOf reads the pid the test gateway's grandchild wrote, and kills
// it when the test ends if it still runs.
func grandchildOf(t *testing.T, pidFile string) (int, *int64) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatal(err)
	}
	started := gateway.StartTime(pid)
	if started == nil {
		t.Fatalf("no start time for %d", pid)
	}
	t.Cleanup(func() {
		if gateway.SameProcess(pid, started) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid, started
}

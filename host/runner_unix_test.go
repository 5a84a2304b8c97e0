//go:build !windows

package host_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

type runnerProc struct {
	cmd  *exec.Cmd
	out  *proctest.Buffer
	done chan struct{}
}

// startRunner starts `hermes -p work gateway run ARGS -- test-gateway` on
// home, with extra environment for the test gateway.
func startRunner(t *testing.T, home string, env []string, args ...string) *runnerProc {
	t.Helper()
	buildAll(t)
	argv := append([]string{"-p", "work", "gateway", "run"}, args...)
	argv = append(argv, "--", testGateway)
	cmd := exec.Command(hermesBin, argv...)
	cmd.Env = append(append(os.Environ(), "HERMES_HOME="+home), env...)
	// proctest.Start bounds the wait for a gateway orphaned on purpose,
	// which keeps the output pipe open.
	pp := proctest.Start(t, cmd)
	p := &runnerProc{cmd: cmd, out: pp.Out, done: pp.Done}
	return p
}

func (p *runnerProc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("runner did not exit; output:\n%s", p.out)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *runnerProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool, outputs ...*runnerProc) {
	t.Helper()
	if err := wait.For(context.Background(), what, 15*time.Second, cond); err != nil {
		msg := err.Error()
		for i, p := range outputs {
			msg += "\n--- runner " + itoa(i+1) + " (PID " + itoa(p.cmd.Process.Pid) + ") said:\n" + p.out.String()
		}
		t.Fatal(msg)
	}
}

func workDir(home string) string { return filepath.Join(home, "profiles", "work") }

// running waits until the runner reports the gateway running and returns
// the gateway's (child's) pid.
func running(t *testing.T, p *runnerProc, home string) int {
	t.Helper()
	var child int
	waitFor(t, "the gateway to run", func() bool {
		st, _ := gateway.ReadState(workDir(home))
		var pid int
		if raw := st.Raw("child_pid"); raw != nil {
			_ = jsonUnmarshal(raw, &pid)
		}
		child = pid
		return st.GatewayState() == gateway.GatewayRunning && st.PID() == p.cmd.Process.Pid && strings.Contains(p.out.String(), "test gateway started")
	}, p)
	t.Cleanup(func() {
		if child > 0 && gateway.Alive(child) {
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
	})
	return child
}

func state(t *testing.T, home string) gateway.State {
	t.Helper()
	st, err := gateway.ReadState(workDir(home))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunnerStops(t *testing.T) {
	t.Parallel() // own home, own processes
	tests := []struct {
		name        string
		mark        bool
		sig         syscall.Signal
		code        int
		desired     string
		state       string
		reasonMatch string
	}{
		// Upstream's #42675 fix: a stop from outside leaves gateway_state
		// "running", so every reader of upstream's brings it back.
		{name: "SIGTERM without a marker is a stop from outside", sig: syscall.SIGTERM, code: 1, desired: "running", state: "running", reasonMatch: "stop from outside"},
		{name: "SIGTERM after the marker is the operator's", mark: true, sig: syscall.SIGTERM, code: 0, desired: "stopped", state: "stopped", reasonMatch: "planned-stop marker"},
		{name: "SIGINT is the operator's", sig: syscall.SIGINT, code: 0, desired: "stopped", state: "stopped", reasonMatch: "SIGINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			p := startRunner(t, home, nil)
			child := running(t, p, home)
			if rec, _ := gateway.Runner.ReadPIDRecord(workDir(home)); rec == nil || rec.PID != p.cmd.Process.Pid || rec.HermesHome != workDir(home) {
				t.Fatalf("pid record %+v", rec)
			}
			if tt.mark && !gateway.MarkPlannedStop(nil, workDir(home), p.cmd.Process.Pid) {
				t.Fatal("marker not written")
			}
			p.signal(t, tt.sig)
			if code := p.exitCode(t); code != tt.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tt.code, p.out)
			}
			st := state(t, home)
			if st.DesiredState() != tt.desired || st.GatewayState() != tt.state || !strings.Contains(string(st.Raw("exit_reason")), tt.reasonMatch) {
				t.Fatalf("state %s %s %s", st.DesiredState(), st.GatewayState(), st.Raw("exit_reason"))
			}
			if !strings.Contains(p.out.String(), "test gateway stopping") {
				t.Fatalf("the gateway was not stopped gracefully:\n%s", p.out)
			}
			if gateway.Alive(child) {
				t.Fatalf("gateway %d still alive", child)
			}
			if rec, _ := gateway.Runner.ReadPIDRecord(workDir(home)); rec != nil {
				t.Fatalf("pid record left: %+v", rec)
			}
			if _, err := os.Stat(filepath.Join(workDir(home), gateway.PlannedStopFile)); !os.IsNotExist(err) {
				t.Fatalf("marker left behind: %v", err)
			}
		})
	}
}

func TestRunnerChildExitCodes(t *testing.T) {
	t.Parallel() // own home, own processes
	tests := []struct {
		exit, code int
		state      string
		fatalExit  string // --fatal-exit-code
	}{
		{0, 0, "stopped", ""},
		{75, 75, "stopped", ""},
		{78, 78, "startup_failed", ""},
		{3, 1, "stopped", ""},
		// launchd's KeepAlive spares only a clean exit: its job asks for 0.
		{78, 0, "startup_failed", "0"},
	}
	for _, tt := range tests {
		t.Run(itoa(tt.exit)+"/"+tt.fatalExit, func(t *testing.T) {
			home := t.TempDir()
			if err := gateway.SetDesiredState(workDir(home), "running"); err != nil {
				t.Fatal(err)
			}
			var flags []string
			if tt.fatalExit != "" {
				flags = []string{"--fatal-exit-code", tt.fatalExit}
			}
			p := startRunner(t, home, []string{"TESTGATEWAY_EXIT=" + itoa(tt.exit)}, flags...)
			if code := p.exitCode(t); code != tt.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tt.code, p.out)
			}
			st := state(t, home)
			if st.GatewayState() != tt.state || st.DesiredState() != "running" {
				t.Fatalf("state %q desired %q (the intent must not change)", st.GatewayState(), st.DesiredState())
			}
			if tt.exit == 75 && string(st.Raw("restart_requested")) != "true" {
				t.Fatal("restart_requested not recorded")
			}
		})
	}
}

func TestSecondRunnerRefused(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	first := startRunner(t, home, nil)
	running(t, first, home)
	second := startRunner(t, home, nil)
	if code := second.exitCode(t); code != 1 {
		t.Fatalf("second runner exit %d:\n%s", code, second.out)
	}
	if want := "the work gateway is already running (PID " + itoa(first.cmd.Process.Pid) + ")"; !strings.Contains(second.out.String(), want) {
		t.Fatalf("second runner said:\n%s", second.out)
	}
	if st := state(t, home); st.PID() != first.cmd.Process.Pid || st.GatewayState() != "running" {
		t.Fatal("the refused runner touched the state")
	}
}

func TestReplaceTakesOver(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	first := startRunner(t, home, nil)
	running(t, first, home)
	second := startRunner(t, home, nil, "--replace")
	if code := first.exitCode(t); code != 0 {
		t.Fatalf("replaced runner exit %d (want 0, a planned stop):\n%s", code, first.out)
	}
	running(t, second, home)
	st := state(t, home)
	if st.DesiredState() != "running" || st.PID() != second.cmd.Process.Pid {
		t.Fatalf("after takeover: desired %q pid %d", st.DesiredState(), st.PID())
	}
	if rec, _ := gateway.Runner.ReadPIDRecord(workDir(home)); rec == nil || rec.PID != second.cmd.Process.Pid {
		t.Fatalf("pid record %+v", rec)
	}
	second.signal(t, syscall.SIGINT)
	second.exitCode(t)
}

// TestAReplacedRunnerLeavesTheIntent: the runner a --replace ends exits 0
// but records no operator's stop: until its successor records its own
// start, the state must still say the gateway is wanted, or a container
// stopped in between would leave it down at the next boot.
func TestAReplacedRunnerLeavesTheIntent(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	first := startRunner(t, home, nil)
	running(t, first, home)
	if err := gateway.WriteRunnerTakeover(workDir(home), first.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	first.signal(t, syscall.SIGTERM) // as the successor does
	if code := first.exitCode(t); code != 0 {
		t.Fatalf("replaced runner exit %d, want 0:\n%s", code, first.out)
	}
	st := state(t, home)
	if st.DesiredState() != "running" || st.GatewayState() != "running" {
		t.Fatalf("after a takeover: gateway_state %q desired_state %q, want running/running", st.GatewayState(), st.DesiredState())
	}
	if _, err := os.Stat(filepath.Join(workDir(home), gateway.RunnerTakeoverFile)); !os.IsNotExist(err) {
		t.Fatalf("takeover marker left behind: %v", err)
	}
}

func TestReplaceKillsAStubbornRunner(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	// The first runner waits 30 s for a gateway that ignores SIGTERM, longer
	// than --replace waits for it.
	first := startRunner(t, home, []string{"TESTGATEWAY_IGNORE_TERM=1"}, "--stop-timeout", "30s")
	running(t, first, home)
	start := time.Now()
	second := startRunner(t, home, nil, "--replace")
	running(t, second, home)
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("takeover took %s", took)
	}
	if code := first.exitCode(t); code != -1 {
		t.Logf("first runner exit %d", code)
	}
	if !strings.Contains(second.out.String(), "did not exit within 10s; killing it") {
		t.Fatalf("second runner said:\n%s", second.out)
	}
	second.signal(t, syscall.SIGINT)
	second.exitCode(t)
}

func TestKilledRunnerLeavesAStaleRecord(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	first := startRunner(t, home, nil)
	child := running(t, first, home)
	first.signal(t, syscall.SIGKILL)
	first.exitCode(t)
	rec, _ := gateway.Runner.ReadPIDRecord(workDir(home))
	if rec == nil || rec.PID != first.cmd.Process.Pid {
		t.Fatalf("no record left by the killed runner: %+v", rec)
	}
	if why := rec.Stale(); !strings.Contains(why, "gone") {
		t.Fatalf("stale = %q", why)
	}
	// The kernel tells the orphaned gateway to stop (parent-death signal).
	waitFor(t, "the orphaned gateway to exit", func() bool { return !gateway.Alive(child) })

	next := startRunner(t, home, []string{"HERMES_DEBUG=1"})
	running(t, next, home)
	if !strings.Contains(next.out.String(), "replacing a stale pid record: pid="+itoa(first.cmd.Process.Pid)) {
		t.Fatalf("next runner said:\n%s", next.out)
	}
	next.signal(t, syscall.SIGTERM)
	if code := next.exitCode(t); code != 1 {
		t.Fatalf("exit %d", code)
	}
}

func TestRunnerForwardsSIGUSR1AndKillsAfterTimeout(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	p := startRunner(t, home, []string{"TESTGATEWAY_IGNORE_TERM=1"}, "--stop-timeout", "300ms")
	running(t, p, home)
	p.signal(t, syscall.SIGUSR1)
	waitFor(t, "the gateway to see SIGUSR1", func() bool { return strings.Contains(p.out.String(), "test gateway got user defined signal 1") })
	p.signal(t, syscall.SIGINT)
	if code := p.exitCode(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(p.out.String(), "did not exit within 300ms; killing it") {
		t.Fatalf("output:\n%s", p.out)
	}
}

// TestStartRecordsRunning: whoever starts a runner wants the gateway
// running (a hand-typed systemctl restart, say, after its planned stop
// recorded "stopped").
func TestStartRecordsRunning(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	if err := gateway.SetDesiredState(workDir(home), "stopped"); err != nil {
		t.Fatal(err)
	}
	p := startRunner(t, home, nil)
	running(t, p, home)
	if st := state(t, home); st.DesiredState() != "running" {
		t.Fatalf("desired %q", st.DesiredState())
	}
	p.signal(t, syscall.SIGINT)
	p.exitCode(t)
}

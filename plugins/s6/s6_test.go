//go:build linux

package s6_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/conformance"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode()
}

func TestRegisterPublishesTheSlotAndTheGatewayRuns(t *testing.T) {
	tr := newTree(t)
	hostile := "spaces and 'single' \"double\" $(touch PWNED) `touch PWNED2` $HOME \\ back\nnew line % ; & |"
	tr.register("work", "--env", "GREETING="+hostile, "--env", "TESTGATEWAY_ENV=GREETING,HOME,HERMES_S6_SUPERVISED_CHILD,HERMES_SUPERVISED_CHILD")
	slot := tr.slot("work")

	files := map[string]os.FileMode{
		"type": 0o644, "run": 0o755, "finish": 0o755, "log/run": 0o755,
		"event":                 os.ModeDir | os.ModeSetgid | os.ModeSticky | 0o730,
		"supervise":             os.ModeDir | 0o755,
		"supervise/event":       os.ModeDir | os.ModeSetgid | os.ModeSticky | 0o730,
		"supervise/control":     os.ModeNamedPipe | 0o660,
		"log/event":             os.ModeDir | os.ModeSetgid | os.ModeSticky | 0o730,
		"log/supervise":         os.ModeDir | 0o755,
		"log/supervise/event":   os.ModeDir | os.ModeSetgid | os.ModeSticky | 0o730,
		"log/supervise/control": os.ModeNamedPipe | 0o660,
	}
	for rel, want := range files {
		if got := mode(t, filepath.Join(slot, rel)); got != want {
			t.Errorf("%s: mode %v, want %v", rel, got, want)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(slot, "type")); string(data) != "longrun\n" {
		t.Errorf("type = %q", data)
	}
	if _, err := os.Stat(filepath.Join(slot, "down")); !os.IsNotExist(err) {
		t.Error("a started registration has a down file")
	}
	run, _ := os.ReadFile(filepath.Join(slot, "run"))
	// Plain protocol: the runner drains its child within the default budget.
	if !strings.Contains(string(run), "exec '"+bins.hermes+"' -p work gateway run --stop-timeout 60s --replace\n") {
		t.Errorf("run script:\n%s", run)
	}

	pid := tr.waitUp("work")
	st, _ := gateway.ReadState(tr.profileDir("work"))
	if st.DesiredState() != "running" || st.PID() != pid {
		t.Fatalf("state desired %q pid %d, s6 pid %d", st.DesiredState(), st.PID(), pid)
	}
	logs := ""
	tr.waitFor("the gateway's environment in its log", func() bool {
		logs, _, _ = tr.hermes("-p", "work", "gateway", "logs", "-n", "20")
		return strings.Contains(logs, "env HERMES_SUPERVISED_CHILD=")
	})
	for _, want := range []string{
		"env GREETING=" + strconvQuote(hostile) + " set=true",
		"env HOME=" + strconvQuote(tr.home) + " set=true",
		`env HERMES_S6_SUPERVISED_CHILD="1" set=true`,
		`env HERMES_SUPERVISED_CHILD="1" set=true`,
		"HERMES_HOME=" + tr.profileDir("work"),
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	for _, pwned := range []string{"PWNED", "PWNED2"} {
		for _, dir := range []string{tr.home, tr.profileDir("work"), tr.scandir, slot} {
			if _, err := os.Stat(filepath.Join(dir, pwned)); err == nil {
				t.Errorf("an --env value was executed: %s exists", filepath.Join(dir, pwned))
			}
		}
	}
	// The log's `1` directive copies every line to s6-svscan's stdout too.
	if !strings.Contains(tr.out.String(), "test gateway started") {
		t.Errorf("log lines do not reach stdout:\n%s", tr.out)
	}
	out := tr.must("-p", "work", "gateway", "status", "--json")
	for _, want := range []string{`"state": "running"`, `"installed": true`, `"unit": "gateway-work"`, `"enabled": true`, `"desired_state": "running"`} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %s:\n%s", want, out)
		}
	}
}

func strconvQuote(s string) string { return strings.TrimSpace(quoteGo(s)) }

func TestRegisterDownStaysDown(t *testing.T) {
	tr := newTree(t)
	tr.register("quiet", "--no-start")
	if _, err := os.Stat(filepath.Join(tr.slot("quiet"), "down")); err != nil {
		t.Fatal("no down file")
	}
	tr.waitFor("s6-supervise to take the slot", func() bool { return tr.svstat("quiet", "up") != nil })
	tr.never("the down slot came up", 500*time.Millisecond, func() bool {
		m := tr.svstat("quiet", "up", "wantedup", "normallyup")
		return m["up"] == "true" || m["wantedup"] == "true" || m["normallyup"] == "true"
	})
	if m := tr.svstat("quiet", "up", "wantedup", "normallyup"); m["up"] != "false" || m["wantedup"] != "false" || m["normallyup"] != "false" {
		t.Fatalf("a down slot: %v", m)
	}
	_, _, code := tr.hermes("-p", "quiet", "gateway", "status")
	if code != 3 {
		t.Fatalf("status of a down slot exit %d, want 3", code)
	}
	tr.must("-p", "quiet", "gateway", "start")
	tr.waitUp("quiet")
}

func TestBadInputTouchesNothing(t *testing.T) {
	tr := newTree(t)
	c := tr.launch()
	ctx := context.Background()
	names := append([]string{"Coder", "foo/bar", "../escape", "-leading-dash", "_leading_underscore", "name with spaces",
		"name.with.dots", strings.Repeat("a", 252), strings.Repeat("a", 65), "ünïcode", "nul\x00byte", ""}, conformance.InvalidProfileNames...)
	before := listing(t, tr.scandir)
	for _, name := range names {
		err := c.Register(ctx, name, service.RegisterOptions{Command: gateway.RunnerArgv(bins.hermes, name)})
		var invalid *service.InvalidProfileError
		if !errors.As(err, &invalid) {
			t.Errorf("register %q: %v", name, err)
		}
		for _, op := range []func(context.Context, string) error{c.Start, c.Stop, c.Restart, c.Unregister} {
			if err := op(ctx, name); !errors.As(err, &invalid) {
				t.Errorf("%q: %v", name, err)
			}
		}
	}
	err := c.Register(ctx, "work", service.RegisterOptions{Env: map[string]string{"BAD KEY": "x"}, Command: gateway.RunnerArgv(bins.hermes, "work")})
	if !errors.Is(err, service.ErrInvalidOption) {
		t.Errorf("bad env key: %v", err)
	}
	if after := listing(t, tr.scandir); after != before {
		t.Fatalf("the scandir changed:\nbefore %s\nafter  %s", before, after)
	}
	// Through the CLI: usage errors (2), and still nothing written.
	for _, name := range []string{"Coder", "../escape", "name.with.dots"} {
		if _, errOut, code := tr.hermes("-p", name, "gateway", "register", "--protocol", "plain"); code != 2 || !strings.Contains(errOut, "invalid profile name") {
			t.Errorf("CLI register %q: exit %d %s", name, code, errOut)
		}
	}
	if _, errOut, code := tr.hermes("-p", "work", "gateway", "register", "--protocol", "plain", "--env", "1X=y"); code != 2 || !strings.Contains(errOut, "keys must match") {
		t.Errorf("CLI bad env: exit %d %s", code, errOut)
	}
	if after := listing(t, tr.scandir); after != before {
		t.Fatalf("the scandir changed:\nbefore %s\nafter  %s", before, after)
	}
}

func listing(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !strings.Contains(p, ".s6-svscan") {
			names = append(names, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return strings.Join(names, " ")
}

func TestDuplicateRegister(t *testing.T) {
	tr := newTree(t)
	tr.register("work", "--no-start")
	_, errOut, code := tr.hermes("-p", "work", "gateway", "register", "--protocol", "plain")
	if code != 1 || !strings.Contains(errOut, `profile "work" already exists (gateway-work)`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestSvscanctlFailureRollsBack(t *testing.T) {
	tr := newTree(t)
	tr.binDir = tr.fakeTools(111, "s6-svscanctl: fatal: unable to control: supervisor not listening", "s6-svscanctl")
	c := tr.launch()
	err := c.Register(context.Background(), "work", service.RegisterOptions{StartNow: true, Command: gateway.RunnerArgv(bins.hermes, "work")})
	var cf *service.CommandFailedError
	if !errors.As(err, &cf) || cf.ExitCode != 111 || !strings.Contains(cf.Stderr, "supervisor not listening") || cf.Action != "s6-svscanctl -a" {
		t.Fatalf("got %T %v", err, err)
	}
	if _, err := os.Stat(tr.slot("work")); !os.IsNotExist(err) {
		t.Fatal("the slot was left behind")
	}
	if tmps, _ := filepath.Glob(filepath.Join(tr.scandir, ".gateway-*.tmp")); len(tmps) != 0 {
		t.Fatalf("staging left: %v", tmps)
	}
}

func TestLifecycleOnAMissingSlotRunsNoTool(t *testing.T) {
	tr := newTree(t)
	tr.binDir = tr.fakeTools(0, "", "s6-svc", "s6-svstat", "s6-svscanctl", "s6-svwait")
	c := tr.launch()
	ctx := context.Background()
	for name, op := range map[string]func(context.Context, string) error{"start": c.Start, "stop": c.Stop, "restart": c.Restart} {
		err := op(ctx, "ghost")
		var nr *service.NotRegisteredError
		if !errors.As(err, &nr) || nr.Profile != "ghost" || nr.Service != "gateway-ghost" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := c.Unregister(ctx, "ghost"); err != nil {
		t.Errorf("unregister of a missing slot: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(tr.binDir, "calls.log")); err == nil {
		t.Fatalf("s6 tools ran for a missing slot:\n%s", data)
	}
}

func TestSvcFailureIsCommandFailed(t *testing.T) {
	tr := newTree(t)
	tr.register("work", "--no-start")
	tr.binDir = tr.fakeTools(1, "s6-svc: fatal: unable to control gateway-work: broken", "s6-svc")
	_, errOut, code := tr.hermes("-p", "work", "gateway", "start")
	if code != 1 || !strings.Contains(errOut, "s6-svc -u failed for gateway-work (exit code 1): s6-svc: fatal: unable to control gateway-work: broken") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := tr.launch()
	err := c.Stop(context.Background(), "work")
	var cf *service.CommandFailedError
	if !errors.As(err, &cf) || cf.Action != "s6-svc -d" || cf.ExitCode != 1 || cf.Service != "gateway-work" {
		t.Fatalf("stop: %#v", err)
	}
}

func TestStopIsPlannedAndABareDownIsNot(t *testing.T) {
	tr := newTree(t)
	tr.register("work")
	pid := tr.waitUp("work")

	// hermes gateway stop: marker for the supervised pid, then down.
	tr.must("-p", "work", "gateway", "stop")
	tr.waitDown("work")
	tr.waitFor("the runner to record its stop", func() bool {
		st, _ := gateway.ReadState(tr.profileDir("work"))
		return st.GatewayState() == "stopped"
	})
	st, _ := gateway.ReadState(tr.profileDir("work"))
	if st.DesiredState() != "stopped" || !strings.Contains(string(st.Raw("exit_reason")), "planned-stop marker") {
		t.Fatalf("after gateway stop: desired %q reason %s (pid was %d)", st.DesiredState(), st.Raw("exit_reason"), pid)
	}
	expectReaders(t, tr.profileDir("work"), "plain protocol, after an operator's stop", false, false, false)

	// s6-svc -d alone, as a container's SIGTERM would: the intent stays.
	tr.must("-p", "work", "gateway", "start")
	tr.waitUp("work")
	if err := exec.Command("s6-svc", "-d", tr.slot("work")).Run(); err != nil {
		t.Fatal(err)
	}
	tr.waitDown("work")
	tr.waitFor("the runner to record its stop", func() bool {
		st, _ := gateway.ReadState(tr.profileDir("work"))
		return strings.Contains(string(st.Raw("exit_reason")), "without a planned-stop marker")
	})
	st, _ = gateway.ReadState(tr.profileDir("work"))
	if st.DesiredState() != "running" || st.GatewayState() != "running" {
		t.Fatalf("after a bare down: gateway_state %q desired %q, want running/running", st.GatewayState(), st.DesiredState())
	}
	expectReaders(t, tr.profileDir("work"), "plain protocol, after a bare down", true, true, true)

	// An operator's stop whose marker cannot be written: the runner takes
	// the SIGTERM for a stop from outside, but the operator's "stopped",
	// recorded before the signal and again once down, survives it.
	tr.must("-p", "work", "gateway", "start")
	tr.waitUp("work")
	blocker := filepath.Join(tr.profileDir("work"), gateway.PlannedStopFile)
	if err := os.Mkdir(blocker, 0o755); err != nil { // a folder where the marker goes: its write fails
		t.Fatal(err)
	}
	defer os.Remove(blocker)
	tr.must("-p", "work", "gateway", "stop")
	tr.waitDown("work")
	tr.waitFor("the runner to record its stop", func() bool {
		st, _ := gateway.ReadState(tr.profileDir("work"))
		return strings.Contains(string(st.Raw("exit_reason")), "without a planned-stop marker")
	})
	if st, _ := gateway.ReadState(tr.profileDir("work")); st.DesiredState() != "stopped" {
		t.Fatalf("the operator's stop without a marker left desired_state %q", st.DesiredState())
	}
	expectReaders(t, tr.profileDir("work"), "plain protocol, after an operator's stop whose marker failed", true, false, false)
	tr.never("the stopped gateway to come back", time.Second, func() bool {
		m := tr.svstat("work", "up")
		return m != nil && m["up"] == "true"
	})
}

var auditLine = regexp.MustCompile(`^reconcile: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} profile=(\S+) prior_state=(\S+) action=(\S+)$`)

// TestContainerRestartStory is the bug this project grew from, end to end:
// a gateway stopped by a container restart must come back after it.
func TestContainerRestartStory(t *testing.T) {
	tr := newTree(t)
	for _, p := range []string{"work", "idle"} {
		if err := os.MkdirAll(tr.profileDir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tr.profileDir(p), "SOUL.md"), []byte("# soul\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(tr.home, "profiles", "nosoul"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A folder literally named default would shadow the root profile.
	if err := os.MkdirAll(filepath.Join(tr.home, "profiles", "default"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(tr.home, "profiles", "default", "SOUL.md"), nil, 0o644)
	tr.register("work")
	tr.waitUp("work")
	tr.register("idle")
	tr.waitUp("idle")
	tr.must("-p", "idle", "gateway", "stop")
	tr.waitDown("idle")

	// The container stops: SIGTERM through the tree, no marker.
	tr.stop()
	st, _ := gateway.ReadState(tr.profileDir("work"))
	if st.DesiredState() != "running" {
		t.Fatalf("after the container stop: work desired %q", st.DesiredState())
	}

	// The container starts again: /run is new, the scandir empty.
	if err := os.RemoveAll(tr.scandir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(tr.scandir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Reconcile writes run scripts without --env: the gateway command
	// reaches the runner through the container's environment.
	tr.boot = []string{gateway.EnvGatewayCommand + "=" + bins.gateway}
	tr.start()
	t.Cleanup(tr.stop)
	// Leftovers of the old container: a pid record from another pid
	// namespace, a half-built staging folder, a full audit log.
	stalePID := `{"pid": 1, "kind": "hermes-gateway", "argv": [], "start_time": 1, "hermes_home": "x"}`
	if err := os.WriteFile(filepath.Join(tr.profileDir("work"), gateway.RunnerPIDFile), []byte(stalePID), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(tr.scandir, ".gateway-gone.tmp"), 0o755)
	_ = os.MkdirAll(filepath.Join(tr.home, "logs"), 0o755)
	_ = os.WriteFile(filepath.Join(tr.home, "logs", "container-boot.log"), []byte(strings.Repeat("old line\n", 30000)), 0o644)
	out, errOut, code := tr.hermes("gateway", "reconcile")
	if !strings.Contains(errOut, `reconcile: warning: skipping `+filepath.Join(tr.home, "profiles", "default")+`: "default" is the profile at the root of the home`) {
		t.Errorf("no warning for profiles/default:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(tr.scandir, ".gateway-gone.tmp")); !os.IsNotExist(err) {
		t.Error("stale staging folder left")
	}
	if rotated, err := os.ReadFile(filepath.Join(tr.home, "logs", "container-boot.log.1")); err != nil || !strings.HasPrefix(string(rotated), "old line") {
		t.Errorf("audit log not rotated: %v", err)
	}
	if code != 0 {
		t.Fatalf("reconcile exit %d:\n%s%s", code, out, errOut)
	}
	got := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := auditLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("audit line %q", line)
		}
		got[m[1]] = [2]string{m[2], m[3]}
	}
	want := map[string][2]string{"default": {"None", "registered"}, "work": {"running", "started"}, "idle": {"stopped", "registered"}}
	if len(got) != len(want) {
		t.Fatalf("audited %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %v, want %v", p, got[p], w)
		}
	}
	logData, _ := os.ReadFile(filepath.Join(tr.home, "logs", "container-boot.log"))
	if strings.Count(string(logData), "\n") != 3 || !strings.Contains(string(logData), "profile=work prior_state=running action=started") {
		t.Fatalf("container-boot.log:\n%s", logData)
	}
	for _, p := range []string{"default", "work", "idle"} {
		if _, err := os.Stat(tr.slot(p)); err != nil {
			t.Errorf("no slot for %s", p)
		}
	}
	// The gateway that a container restart stopped is up again; the one the
	// operator stopped stays down.
	tr.waitUp("work")
	tr.waitFor("s6-supervise on idle", func() bool { return tr.svstat("idle", "up") != nil })
	tr.never("idle came back up", 300*time.Millisecond, func() bool {
		m := tr.svstat("idle", "up", "wantedup")
		return m["up"] == "true" || m["wantedup"] == "true"
	})
	if m := tr.svstat("idle", "up", "wantedup"); m["up"] != "false" || m["wantedup"] != "false" {
		t.Errorf("idle came back up: %v", m)
	}
	st, _ = gateway.ReadState(tr.profileDir("idle"))
	if st.DesiredState() != "stopped" {
		t.Errorf("idle desired %q", st.DesiredState())
	}
	// default had no state: registered down, not started.
	if m := tr.svstat("default", "wantedup"); m != nil && m["wantedup"] != "false" {
		t.Errorf("default started: %v", m)
	}
}

func quoteGo(s string) string { return strings.TrimSpace(strconvQuoteImpl(s)) }

func TestConcurrentRegistersMakeOneSlot(t *testing.T) {
	tr := newTree(t)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	errs := make([]string, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i], codes[i] = tr.hermes("-p", "work", "gateway", "register", "--protocol", "plain", "--no-start")
		}()
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		switch {
		case c == 0:
			ok++
		case c != 1 || !strings.Contains(errs[i], "already exists"):
			t.Errorf("register %d: exit %d %s", i, c, errs[i])
		}
	}
	if ok != 1 {
		t.Fatalf("%d registers succeeded, want 1", ok)
	}
	if tmps, _ := filepath.Glob(filepath.Join(tr.scandir, ".gateway-*.tmp")); len(tmps) != 0 {
		t.Fatalf("staging left: %v", tmps)
	}
	if slots, _ := filepath.Glob(filepath.Join(tr.scandir, "gateway-*")); len(slots) != 1 {
		t.Fatalf("slots: %v", slots)
	}
}

// TestRegisterAfterAKilledOne: a register killed midway leaves its staging
// folder (and its lock, which the kernel releases); the next register must
// not trip over either.
func TestRegisterAfterAKilledOne(t *testing.T) {
	tr := newTree(t)
	// A register that hangs in s6-svscanctl, killed with SIGKILL there.
	slow := tr.fakeTools(0, "", "s6-svscanctl")
	if err := os.WriteFile(filepath.Join(slow, "s6-svscanctl"), []byte("#!/bin/sh\nsleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins.hermes, "-p", "work", "gateway", "register", "--protocol", "plain", "--no-start")
	cmd.Env = append(tr.env(), "HERMES_S6_BIN_DIR="+slow)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr.waitFor("the register to reach s6-svscanctl", func() bool {
		_, err := os.Stat(tr.slot("work"))
		return err == nil
	})
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	// And a staging folder half-written by another one.
	if err := os.MkdirAll(filepath.Join(tr.scandir, ".gateway-other.tmp", "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tr.register("other", "--no-start")
	if time.Since(start) > 10*time.Second {
		t.Fatal("the next register waited on a dead one's lock")
	}
	if _, err := os.Stat(filepath.Join(tr.scandir, ".gateway-other.tmp")); !os.IsNotExist(err) {
		t.Fatal("stale staging folder not removed")
	}
	// The killed register's slot was complete when it died: it is there,
	// whole, and the tree works with it.
	tr.must("-p", "work", "gateway", "unregister")
	tr.register("work", "--no-start")
}

func TestUnregisterRemovesTheSlot(t *testing.T) {
	tr := newTree(t)
	tr.register("work")
	pid := tr.waitUp("work")
	tr.must("-p", "work", "gateway", "unregister")
	if _, err := os.Stat(tr.slot("work")); !os.IsNotExist(err) {
		t.Fatal("slot still there")
	}
	tr.waitFor("the gateway to end", func() bool { return !gateway.Alive(pid) })
	if out := tr.must("gateway", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("list: %s", out)
	}
	tr.must("-p", "work", "gateway", "unregister") // absent: a no-op
}

func TestConformance(t *testing.T) {
	plugintest.Run(t, conformance.Config{
		Binary: bins.plugin,
		Setup: func(context.Context) ([]string, func(), error) {
			dir, err := os.MkdirTemp("", "hermes-s6-conformance-")
			if err != nil {
				return nil, nil, err
			}
			return []string{"HERMES_S6_SCANDIR=" + filepath.Join(dir, "service"), "HERMES_HOME=" + filepath.Join(dir, "home"), "HERMES_S6_USER="},
				func() { os.RemoveAll(dir) }, nil
		},
	})
}

func TestScriptsAndOwnership(t *testing.T) {
	tr := newTree(t)
	tr.register("work", "--no-start")
	logRun, _ := os.ReadFile(filepath.Join(tr.slot("work"), "log", "run"))
	for _, want := range []string{`log_dir="$HERMES_HOME/logs/gateways/work"`, `mkdir -p -- "$log_dir"`, ` 1 n10 s1000000 T "$log_dir"`} {
		if !strings.Contains(string(logRun), want) {
			t.Errorf("log/run lacks %q:\n%s", want, logRun)
		}
	}
	finish := filepath.Join(tr.slot("work"), "finish")
	for arg, want := range map[string]int{"0": 125, "78": 125, "1": 0, "75": 0, "256": 0} {
		err := exec.Command("/bin/sh", finish, arg, "0").Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != want {
			t.Errorf("finish %s exits %d, want %d", arg, code, want)
		}
	}
	run, _ := os.ReadFile(filepath.Join(tr.slot("work"), "run"))
	if strings.Contains(string(run), "s6-setuidgid") {
		t.Errorf("HERMES_S6_USER is empty, yet run drops privileges:\n%s", run)
	}
	// --scandir on the host reaches the plugin.
	other := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.MkdirAll(filepath.Join(other, "gateway-there"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out := tr.must("--scandir", other, "gateway", "list"); strings.TrimSpace(out) != "there" {
		t.Errorf("--scandir: %q", out)
	}
}

func TestServiceUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	tr := newTree(t)
	// A user that exists: the skeleton is handed to it, the scripts drop
	// privileges when they start as root.
	cmd := exec.Command(bins.hermes, "-p", "work", "gateway", "register", "--protocol", "plain", "--no-start")
	cmd.Env = append(tr.env(), "HERMES_S6_USER=nobody")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, rel := range []string{"event", "supervise", "supervise/event", "supervise/control", "log/supervise/control"} {
		info, err := os.Lstat(filepath.Join(tr.slot("work"), rel))
		if err != nil {
			t.Fatal(err)
		}
		if uid := info.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
			t.Errorf("%s owned by %d, want nobody (65534)", rel, uid)
		}
	}
	run, _ := os.ReadFile(filepath.Join(tr.slot("work"), "run"))
	if !strings.Contains(string(run), `[ "$(id -u)" = 0 ] || exec `) || !strings.Contains(string(run), "s6-setuidgid' 'nobody' ") {
		t.Errorf("run:\n%s", run)
	}
	// A user that does not exist: refused, nothing left.
	cmd = exec.Command(bins.hermes, "-p", "other", "gateway", "register", "--protocol", "plain")
	cmd.Env = append(tr.env(), "HERMES_S6_USER=no-such-user-here")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `invalid HERMES_S6_USER "no-such-user-here": no such user`) {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(tr.slot("other")); !os.IsNotExist(err) {
		t.Fatal("slot left behind")
	}
	if tmps, _ := filepath.Glob(filepath.Join(tr.scandir, ".gateway-*.tmp")); len(tmps) != 0 {
		t.Fatalf("staging left: %v", tmps)
	}
}

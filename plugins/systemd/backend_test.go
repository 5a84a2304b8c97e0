package systemd_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/shared/conformance"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

var pluginBin, hermesBin, fakeDir string

func TestMain(m *testing.M) {
	testbin.Main(m, func(dir string) (err error) {
		fakeDir = dir
		if pluginBin, err = testbin.Build(dir, "github.com/nousresearch/hermes-service/plugins/systemd/cmd/hermes-service-systemd"); err != nil {
			return err
		}
		hermesBin, err = testbin.Build(dir, "github.com/nousresearch/hermes-service/cmd/hermes")
		return err
	})
}

// machine is a fake systemd host: fake systemctl, loginctl and journalctl
// first on PATH, private unit and linger folders, a Hermes home.
type machine struct {
	t      *testing.T
	tools  *fakecmd.Tools
	root   string
	home   string
	user   string // user unit folder
	system string // system unit folder
	linger string
	hermes string
}

func newMachine(t *testing.T) *machine {
	t.Helper()
	root := t.TempDir()
	tools, err := fakecmd.Install(root, "systemctl", "loginctl", "journalctl")
	if err != nil {
		t.Fatal(err)
	}
	m := &machine{t: t, tools: tools, root: root, home: filepath.Join(root, "home"),
		user: filepath.Join(root, "config", "systemd", "user"), system: filepath.Join(root, "etc"),
		linger: filepath.Join(root, "linger"), hermes: filepath.Join(root, "hermes")}
	for _, d := range []string{m.home, m.system, m.linger} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(m.hermes, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *machine) env() []string {
	return append(m.tools.Env(), "HERMES_HOME="+m.home, "XDG_CONFIG_HOME="+filepath.Join(m.root, "config"),
		"HERMES_SYSTEMD_SYSTEM_DIR="+m.system, "HERMES_SYSTEMD_LINGER_DIR="+m.linger, "USER=tester", "SUDO_USER=")
}

func (m *machine) launch() *plugin.Client {
	m.t.Helper()
	c, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: pluginBin, Env: m.env(), Logger: hclog.NewNullLogger()})
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(c.Close)
	return c
}

// lingering pretends logind lingers for the user hermes runs as.
func (m *machine) lingering() string {
	name := currentUser()
	if err := os.WriteFile(filepath.Join(m.linger, name), nil, 0o644); err != nil {
		m.t.Fatal(err)
	}
	return name
}

func (m *machine) calls() string { return strings.Join(m.tools.Calls(), "\n") }

func (m *machine) expectCalls(want ...string) {
	m.t.Helper()
	if got := m.calls(); got != strings.Join(want, "\n") {
		m.t.Fatalf("calls:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	m.tools.Reset()
}

func (m *machine) install(c *plugin.Client, profile string, opts service.InstallOptions) error {
	if opts.Command == nil {
		opts.Command = gateway.RunnerArgv(m.hermes, profile)
	}
	return c.Install(context.Background(), profile, opts)
}

// Root installs system units; the tests run as root on CI, and as anyone
// elsewhere.
func systemFlag() string {
	if os.Geteuid() == 0 {
		return ""
	}
	return "--user "
}

func TestInstallSequence(t *testing.T) {
	m := newMachine(t)
	m.lingering()
	c := m.launch()
	flag := systemFlag()
	opts := service.InstallOptions{StartNow: true, StartOnLogin: true, RunAsUser: "daemon",
		Env: map[string]string{"HERMES_GATEWAY_COMMAND": "hermes-gateway --x", "P": "100%"}}
	if err := m.install(c, "work", opts); err != nil {
		t.Fatal(err)
	}
	unit := "hermes-gateway-work.service"
	m.expectCalls("systemctl "+flag+"daemon-reload", "systemctl "+flag+"enable "+unit, "systemctl "+flag+"start "+unit)
	dir := m.user
	if os.Geteuid() == 0 {
		dir = m.system
	}
	path := filepath.Join(dir, unit)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `Environment="P=100%%"`) || !strings.Contains(string(data), "ExecStart="+m.hermes+" -p work gateway run") {
		t.Fatalf("unit:\n%s", data)
	}
	st, _ := gateway.ReadState(filepath.Join(m.home, "profiles", "work"))
	if st.DesiredState() != "running" {
		t.Fatalf("desired %q", st.DesiredState())
	}
	// The same install again leaves the file alone and starts, not restarts.
	// Dated back, so a rewrite shows in the modification time however
	// coarse the file system's clock.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	info1, _ := os.Stat(path)
	if err := m.install(c, "work", opts); err != nil {
		t.Fatal(err)
	}
	if info2, _ := os.Stat(path); !info2.ModTime().Equal(info1.ModTime()) {
		t.Fatal("an identical unit was rewritten")
	}
	m.expectCalls("systemctl "+flag+"daemon-reload", "systemctl "+flag+"show -p MainPID,UnitFileState "+unit,
		"systemctl "+flag+"enable "+unit, "systemctl "+flag+"start "+unit)

	// --no-start --no-start-on-login: reload only.
	if err := m.install(c, "other", service.InstallOptions{RunAsUser: "daemon"}); err != nil {
		t.Fatal(err)
	}
	m.expectCalls("systemctl " + flag + "daemon-reload")

	// A unit hermes did not write is in the way; force replaces it.
	foreign := filepath.Join(dir, "hermes-gateway-mine.service")
	_ = os.WriteFile(foreign, []byte("[Service]\nExecStart=/bin/true\n"), 0o644)
	err = m.install(c, "mine", service.InstallOptions{RunAsUser: "daemon"})
	if !errors.Is(err, service.ErrAlreadyExists) || !strings.Contains(service.HintOf(err), "--force") {
		t.Fatalf("foreign unit: %v", err)
	}
	if err := m.install(c, "mine", service.InstallOptions{RunAsUser: "daemon", Force: true}); err != nil {
		t.Fatal(err)
	}
	// A unit of another home is not taken over silently.
	other := strings.Replace(string(data), "HERMES_HOME="+m.home, "HERMES_HOME=/srv/elsewhere", 1)
	_ = os.WriteFile(path, []byte(other), 0o644)
	err = m.install(c, "work", opts)
	if !errors.Is(err, service.ErrAlreadyExists) || !strings.Contains(service.HintOf(err), "/srv/elsewhere") {
		t.Fatalf("other home: %v", err)
	}
	// Uninstall of another home's unit is refused; of ours, stop, disable,
	// remove, reload.
	err = c.Uninstall(context.Background(), "work")
	if !errors.Is(err, service.ErrPermission) || !strings.Contains(err.Error(), "/srv/elsewhere") {
		t.Fatalf("uninstall of another home's unit: %v", err)
	}
	m.tools.Reset()
	if err := c.Uninstall(context.Background(), "other"); err != nil {
		t.Fatal(err)
	}
	m.expectCalls("systemctl "+flag+"show -p MainPID,UnitFileState hermes-gateway-other.service",
		"systemctl "+flag+"disable --now hermes-gateway-other.service", "systemctl "+flag+"daemon-reload",
		"systemctl "+flag+"reset-failed hermes-gateway-other.service")
	if _, err := os.Stat(filepath.Join(dir, "hermes-gateway-other.service")); !os.IsNotExist(err) {
		t.Fatal("unit file left")
	}
	if err := c.Uninstall(context.Background(), "other"); err != nil {
		t.Fatalf("uninstall of a missing unit: %v", err)
	}
	m.expectCalls()
}

func TestRunAsRootMustBeExplicit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("system units need root")
	}
	m := newMachine(t)
	c := m.launch()
	err := m.install(c, "work", service.InstallOptions{System: true})
	var inv *service.InvalidOptionError
	if !errors.As(err, &inv) || inv.Option != "run-as-user" || !strings.Contains(inv.Reason, "--run-as-user root") {
		t.Fatalf("got %v", err)
	}
	if err := m.install(c, "work", service.InstallOptions{System: true, RunAsUser: "root"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(m.system, "hermes-gateway-work.service"))
	if !strings.Contains(string(data), "User=root") || !strings.Contains(string(data), "WantedBy=multi-user.target") {
		t.Fatalf("unit:\n%s", data)
	}
	err = m.install(c, "x", service.InstallOptions{System: true, RunAsUser: "no-such-user-here"})
	if !errors.As(err, &inv) || inv.Value != "no-such-user-here" {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.system, "hermes-gateway-x.service")); !os.IsNotExist(err) {
		t.Fatal("a unit was written for a user that does not exist")
	}
}

func TestLifecycle(t *testing.T) {
	m := newMachine(t)
	m.lingering()
	c := m.launch()
	ctx := context.Background()
	flag := systemFlag()
	unit := "hermes-gateway-work.service"

	// Not installed: not-installed errors, and no systemctl at all.
	for name, op := range map[string]func(context.Context, string) error{"start": c.Start, "stop": c.Stop, "restart": c.Restart} {
		var ni *service.NotInstalledError
		if err := op(ctx, "work"); !errors.As(err, &ni) || ni.Service != unit {
			t.Errorf("%s: %v", name, err)
		}
	}
	m.expectCalls()

	if err := m.install(c, "work", service.InstallOptions{RunAsUser: "daemon"}); err != nil {
		t.Fatal(err)
	}
	m.tools.Reset()
	if err := c.Start(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	m.expectCalls("systemctl " + flag + "start --no-block " + unit)

	// Stop: the marker names the runner's pid before systemctl stop; an
	// enabled unit is disabled as it stops, so that it stays down.
	_ = m.tools.Set(fakecmd.Reply{Argv: append(append([]string{"systemctl"}, strings.Fields(flag)...), "show", "-p", "MainPID,UnitFileState", unit),
		Stdout: "MainPID=4242\nUnitFileState=enabled\n"})
	if err := c.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	m.expectCalls("systemctl "+flag+"show -p MainPID,UnitFileState "+unit, "systemctl "+flag+"disable --now "+unit)
	data, err := os.ReadFile(filepath.Join(m.home, "profiles", "work", gateway.PlannedStopFile))
	if err != nil || !strings.Contains(string(data), `"target_pid":4242`) {
		t.Fatalf("marker: %s %v", data, err)
	}
	st, _ := gateway.ReadState(filepath.Join(m.home, "profiles", "work"))
	if st.DesiredState() != "stopped" {
		t.Fatalf("desired %q", st.DesiredState())
	}

	// A failing systemctl: command failed, with its exit code and stderr,
	// and the journalctl command to read.
	_ = m.tools.Set(fakecmd.Reply{Argv: []string{"systemctl", "**"}, Exit: 5, Stderr: "Failed to restart " + unit + ": Unit not loaded."})
	err = c.Restart(ctx, "work")
	var cf *service.CommandFailedError
	if !errors.As(err, &cf) || cf.ExitCode != 5 || !strings.Contains(cf.Stderr, "Unit not loaded") || cf.Service != unit ||
		!strings.Contains(cf.HintText, "journalctl "+flag+"-u "+unit) {
		t.Fatalf("got %#v", err)
	}
}

func TestStatusFromSystemctlShow(t *testing.T) {
	m := newMachine(t)
	m.lingering()
	c := m.launch()
	ctx := context.Background()
	for _, p := range []string{"work", "default"} {
		if err := m.install(c, p, service.InstallOptions{RunAsUser: "daemon"}); err != nil {
			t.Fatal(err)
		}
	}
	// Key=Value blocks as systemctl show prints them (systemctl(1), show;
	// property names and values from org.freedesktop.systemd1(5)), in
	// systemd's own property order, not the order asked for.
	show := "Id=hermes-gateway-work.service\nMainPID=4242\nExecMainCode=0\nExecMainStatus=0\nNRestarts=2\nLoadState=loaded\nActiveState=active\n" +
		"SubState=running\nResult=success\nUnitFileState=enabled\nStateChangeTimestamp=Wed 2026-11-25 10:00:00.250000 UTC\n\n" +
		"Id=hermes-gateway.service\nMainPID=0\nExecMainCode=1\nExecMainStatus=78\nNRestarts=0\nLoadState=loaded\nActiveState=failed\n" +
		"SubState=failed\nResult=exit-code\nUnitFileState=disabled\nStateChangeTimestamp=Wed 2026-11-25 10:00:01.000000 UTC\n"
	_ = m.tools.Set(fakecmd.Reply{Argv: []string{"systemctl", "**"}, Stdout: show})
	sts, err := c.Statuses(ctx, []string{"work", "default", "ghost"})
	if err != nil {
		t.Fatal(err)
	}
	w, d, g := sts[0], sts[1], sts[2]
	if w.State != service.StateRunning || *w.PID != 4242 || *w.Restarts != 2 || !*w.Enabled || w.Since == nil || w.Since.Hour() != 10 || !w.Installed {
		t.Errorf("work: %+v", w)
	}
	if d.State != service.StateFailed || *d.LastExit != 78 || *d.Enabled || d.PID != nil {
		t.Errorf("default: %+v", d)
	}
	if g.Installed || g.State != service.StateStopped || *g.Unit != "hermes-gateway-ghost.service" {
		t.Errorf("ghost: %+v", g)
	}
	calls := m.tools.Calls()
	if n := len(calls); n == 0 || !strings.Contains(calls[n-1], "show --timestamp=us+utc -p Id,LoadState,ActiveState,SubState,Result,MainPID,ExecMainCode,ExecMainStatus,NRestarts,UnitFileState,StateChangeTimestamp hermes-gateway-work.service hermes-gateway.service") {
		t.Errorf("one systemctl show for both units: %v", calls)
	}
	// All installed profiles, when none are named.
	all, err := c.Statuses(ctx, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("all: %d %v", len(all), err)
	}
}

func TestLogs(t *testing.T) {
	m := newMachine(t)
	m.lingering()
	c := m.launch()
	ctx := context.Background()
	if err := m.install(c, "work", service.InstallOptions{RunAsUser: "daemon"}); err != nil {
		t.Fatal(err)
	}
	_ = m.tools.Set(fakecmd.Reply{Argv: []string{"journalctl", "**"}, Stdout: "one\ntwo\n", Hold: false})
	var lines []string
	if err := c.Logs(ctx, "work", service.LogOptions{Lines: 2}, func(l service.LogLine) error { lines = append(lines, l.Text); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, ",") != "one,two" {
		t.Fatalf("lines %v", lines)
	}
	if calls := m.tools.Calls(); !strings.HasSuffix(calls[len(calls)-1], "-u hermes-gateway-work.service -n 2 --no-pager") {
		t.Fatalf("calls %v", calls)
	}
	// Follow until cancelled.
	_ = m.tools.Set(fakecmd.Reply{Argv: []string{"journalctl", "**"}, Stdout: "live\n", Hold: true})
	fctx, cancel := context.WithCancel(ctx)
	err := c.Logs(fctx, "work", service.LogOptions{Follow: true}, func(l service.LogLine) error { cancel(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Logs(ctx, "ghost", service.LogOptions{}, func(service.LogLine) error { return nil }); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("ghost: %v", err)
	}
}

func TestConformance(t *testing.T) {
	plugintest.Run(t, conformance.Config{
		Binary: pluginBin,
		Setup: func(context.Context) ([]string, func(), error) {
			dir, err := os.MkdirTemp("", "hermes-systemd-conformance-")
			if err != nil {
				return nil, nil, err
			}
			tools, err := fakecmd.Install(dir, "systemctl", "loginctl", "journalctl")
			if err != nil {
				return nil, nil, err
			}
			env := append(tools.Env(), "HERMES_HOME="+filepath.Join(dir, "home"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
				"HERMES_SYSTEMD_SYSTEM_DIR="+filepath.Join(dir, "etc"), "HERMES_SYSTEMD_LINGER_DIR="+filepath.Join(dir, "linger"))
			return env, func() { os.RemoveAll(dir) }, nil
		},
	})
}

// TestThroughTheCLI drives the backend as an operator does, through the
// hermes binary, against the fake tools.
func TestThroughTheCLI(t *testing.T) {
	m := newMachine(t)
	m.lingering()
	run := func(args ...string) (string, int) {
		cmd := exec.Command(hermesBin, args...)
		// Upstream's CLI, which the unit runs by default: sh stands in.
		cmd.Env = append(m.env(), "HERMES_SERVICE_BACKEND=systemd", "HERMES_PLUGIN_PATH="+fakeDir, "HERMES_UPSTREAM_CLI=sh")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	out, code := run("-p", "work", "gateway", "install", "--run-as-user", "daemon", "--env", "GREETING=hello world")
	if code != 0 || !strings.Contains(out, "installed the work gateway") {
		t.Fatalf("install: %d %s", code, out)
	}
	dir, scope, privileged := m.user, "user", ""
	if os.Geteuid() == 0 {
		dir, scope, privileged = m.system, "system", "+"
	}
	data, _ := os.ReadFile(filepath.Join(dir, "hermes-gateway-work.service"))
	sh, _ := exec.LookPath("sh")
	sh, _ = filepath.Abs(sh)
	if !strings.Contains(string(data), "ExecStart="+hermesBin+" -p work gateway run --protocol hermes -- "+sh+" -p work gateway run\n") ||
		!strings.Contains(string(data), "ExecStop=-"+privileged+hermesBin+" -p work gateway mark-stop --unless-shutdown "+scope+" --pid $MAINPID") ||
		!strings.Contains(string(data), `Environment="GREETING=hello world"`) {
		t.Fatalf("unit:\n%s", data)
	}
	_ = m.tools.Set(fakecmd.Reply{Argv: []string{"systemctl", "**"}, Stdout: "Id=hermes-gateway-work.service\nMainPID=77\nExecMainStatus=0\n" +
		"NRestarts=0\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nStateChangeTimestamp=Wed 2026-11-25 10:00:00 UTC\n"})
	out, code = run("-p", "work", "gateway", "status", "--json")
	if code != 0 || !strings.Contains(out, `"state": "running"`) || !strings.Contains(out, `"pid": 77`) {
		t.Fatalf("status: %d %s", code, out)
	}
	// The hidden command the unit's ExecStop runs writes the marker for a
	// typed `systemctl stop`, and nothing while the manager goes down (a
	// shutdown, reboot or logout is no operator's stop); when the manager
	// cannot say, it marks (the common case) and warns.
	workDir := filepath.Join(m.home, "profiles", "work")
	isRunning := []string{"systemctl", "is-system-running"}
	if scope == "user" {
		isRunning = []string{"systemctl", "--user", "is-system-running"}
	}
	for _, tt := range []struct {
		reply  fakecmd.Reply
		marked bool
		say    string
	}{
		{fakecmd.Reply{Stdout: "running\n"}, true, ""},
		{fakecmd.Reply{Stdout: "degraded\n", Exit: 1}, true, ""},
		{fakecmd.Reply{Stdout: "stopping\n", Exit: 1}, false, "going down: not an operator's stop"},
		{fakecmd.Reply{Stderr: "Failed to connect to bus", Exit: 1}, true, "warning: ask the " + scope + " manager"},
	} {
		_ = os.Remove(filepath.Join(workDir, gateway.PlannedStopFile))
		tt.reply.Argv = isRunning
		_ = m.tools.Set(tt.reply)
		out, code = run("-p", "work", "gateway", "mark-stop", "--unless-shutdown", scope, "--pid", "77")
		if code != 0 || !strings.Contains(out, tt.say) {
			t.Fatalf("mark-stop with the manager saying %q: %d %s", tt.reply.Stdout, code, out)
		}
		if got := gateway.ProbeMarker(workDir, 77); got != tt.marked {
			t.Fatalf("mark-stop with the manager saying %q: marked=%v, want %v", tt.reply.Stdout, got, tt.marked)
		}
	}
	if out, code = run("-p", "work", "gateway", "mark-stop", "--unless-shutdown", "galaxy", "--pid", "77"); code != 2 {
		t.Fatalf("mark-stop with a bad scope: %d %s", code, out)
	}
	_ = m.tools.Set()
	out, code = run("-p", "nothere", "gateway", "start")
	if code != 1 || !strings.Contains(out, `profile "nothere" is not installed (hermes-gateway-nothere.service)`) {
		t.Fatalf("start of a missing unit: %d %s", code, out)
	}
}

// TestInstallStopTimeout: the stop timeout chosen at install crosses the
// wire and becomes the unit's TimeoutStopSec; none chosen keeps the
// default, and a changed one rewrites the unit.
func TestInstallStopTimeout(t *testing.T) {
	m := newMachine(t)
	m.lingering()
	c := m.launch()
	dir := m.user
	if os.Geteuid() == 0 {
		dir = m.system
	}
	for _, tt := range []struct {
		budget time.Duration
		want   string
	}{
		{0, "TimeoutStopSec=90\n"},
		{2 * time.Minute, "TimeoutStopSec=120\n"},
		{15 * time.Second, "TimeoutStopSec=15\n"},
	} {
		if err := m.install(c, "work", service.InstallOptions{RunAsUser: "daemon", StopTimeout: tt.budget}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "hermes-gateway-work.service"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(data), "TimeoutStopSec=") != 1 || !strings.Contains(string(data), tt.want) {
			t.Errorf("stop timeout %s: unit:\n%s", tt.budget, data)
		}
	}
}

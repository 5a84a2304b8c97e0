package launchd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

var hostile = map[string]string{
	"QUOTES":   `"double" and 'single'`,
	"AMP":      "fish & chips &amp;",
	"ANGLE":    "<key>not a key</key> a < b > c",
	"UNICODE":  "café ünïcode 日本語 🙂",
	"NEWLINES": "one\ntwo\r\nthree\ttab",
}

func TestPlistRoundTrips(t *testing.T) {
	j := job{Label: "ai.hermes.gateway.work", ProgramArguments: []string{"/opt/hermes & co/bin/hermes", "-p", "work", "gateway", "run"},
		WorkingDirectory: "/Users/ada/.hermes/profiles/work", EnvironmentVariables: hostile, RunAtLoad: true,
		ThrottleInterval: 30, ExitTimeOut: 60, StandardOutPath: "/tmp/<out>.log", StandardErrorPath: "/tmp/<out>.log",
		ProcessType: "Background"}
	data, err := j.encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := decode(data)
	if err != nil || !reflect.DeepEqual(back, j) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, j)
	}
	// Python's plistlib, as the Python gateway would read it.
	path := filepath.Join(t.TempDir(), "job.plist")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-c",
		`import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))`, path).Output()
	if err != nil {
		t.Fatalf("plistlib rejected the plist: %v\n%s", err, data)
	}
	var py map[string]any
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	env, _ := py["EnvironmentVariables"].(map[string]any)
	for k, v := range hostile {
		if env[k] != v {
			t.Errorf("%s: python read %q, want %q", k, env[k], v)
		}
	}
	if py["KeepAlive"].(map[string]any)["SuccessfulExit"] != false || py["RunAtLoad"] != true || py["ThrottleInterval"] != float64(30) {
		t.Errorf("python read %v", py)
	}
}

// printRunning is `launchctl print gui/501/<label>` for a running agent, in
// the shape macOS prints it: the service block, its nested blocks (which
// repeat keys such as state), and the fields read here. Field names and
// layout as in real output quoted in public code and notes, e.g.
// "state = running / last exit code = (never exited)" (termsurf's launcher
// notes) and "state = running\n\tpid = 17611\n\tlast exit code = 0"
// (crew-mac-sshd tests), with "runs = 7" from knowledge-automation tests.
const printRunning = `gui/501/ai.hermes.gateway.work = {
	active count = 1
	path = /Users/ada/Library/LaunchAgents/ai.hermes.gateway.work.plist
	type = LaunchAgent
	state = running

	program = /usr/local/bin/hermes
	arguments = {
		/usr/local/bin/hermes
		-p
		work
		gateway
		run
	}

	working directory = /Users/ada/.hermes/profiles/work

	stdout path = /Users/ada/.hermes/profiles/work/logs/gateway.log
	stderr path = /Users/ada/.hermes/profiles/work/logs/gateway.log
	default environment = {
		PATH => /usr/bin:/bin:/usr/sbin:/sbin
	}

	environment = {
		HERMES_HOME => /Users/ada/.hermes
		XPC_SERVICE_NAME => ai.hermes.gateway.work
	}

	domain = gui/501 [100008]
	asid = 100008
	minimum runtime = 30
	exit timeout = 60
	runs = 3
	pid = 4242
	immediate reason = speculative
	forks = 0
	execs = 1
	initialized = 1
	trampolined = 1
	started suspended = 0
	proxy started suspended = 0
	last exit code = 1

	spawn type = daemon (3)
	jetsam priority = 40
	properties = keepalive | runatload | inferred program
}
`

const printWaiting = "gui/501/ai.hermes.gateway.work = {\n\tstate = not running\n\truns = 1\n\tlast exit code = (never exited)\n\tdomain = {\n\t\tstate = active\n\t}\n}\n"

func TestParsePrint(t *testing.T) {
	info := parsePrint(printRunning)
	if info.State != "running" || info.PID != 4242 || info.LastExit == nil || *info.LastExit != 1 || *info.Runs != 3 {
		t.Fatalf("%+v", info)
	}
	info = parsePrint(printWaiting)
	if info.State != "not running" || info.PID != 0 || info.LastExit != nil || *info.Runs != 1 {
		t.Fatalf("nested state must not win: %+v", info)
	}
}

// mac is a launchd host as a user with a GUI session sees it, through a
// fake launchctl first on PATH.
func mac(t *testing.T, root bool) (*Backend, *fakecmd.Tools, string) {
	t.Helper()
	dir := t.TempDir()
	tools := fakecmd.InstallForTest(t, dir, "launchctl")
	hermes := filepath.Join(dir, "hermes")
	_ = os.WriteFile(hermes, []byte("#!/bin/sh\n"), 0o755)
	return New(Config{Settings: backend.Settings{Home: filepath.Join(dir, "home")}, AgentsDir: filepath.Join(dir, "LaunchAgents"),
		DaemonsDir: filepath.Join(dir, "LaunchDaemons"), UID: 501, Root: root}), tools, hermes
}

func calls(tools *fakecmd.Tools) string {
	defer tools.Reset()
	return strings.Join(tools.Calls(), "\n")
}

func TestInstallAndLifecycle(t *testing.T) {
	b, tools, hermes := mac(t, false)
	ctx := context.Background()
	svc := "gui/501/ai.hermes.gateway.work"
	notFound := fakecmd.Reply{Argv: []string{"launchctl", "print", svc}, Exit: 113,
		Stderr: `Could not find service "ai.hermes.gateway.work" in domain for user gui: 501`}
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "managername"}, Stdout: "Aqua\n"}, notFound)

	err := b.Install(ctx, "work", service.InstallOptions{StartNow: true, StartOnLogin: false, Command: gateway.RunnerArgv(hermes, "work"), Env: hostile})
	if err != nil {
		t.Fatal(err)
	}
	plist := filepath.Join(b.cfg.AgentsDir, "ai.hermes.gateway.work.plist")
	// enable: an install undoes an operator's earlier stop (disable).
	want := "launchctl managername\nlaunchctl print " + svc + "\nlaunchctl enable " + svc + "\nlaunchctl bootstrap gui/501 " + plist + "\nlaunchctl kickstart " + svc
	if got := calls(tools); got != want {
		t.Fatalf("calls:\n%s\nwant:\n%s", got, want)
	}
	data, _ := os.ReadFile(plist)
	j, err := decode(data)
	if err != nil || j.ProgramArguments[0] != hermes || strings.Join(j.ProgramArguments[1:], " ") != "-p work gateway run --fatal-exit-code 0" ||
		j.EnvironmentVariables["QUOTES"] != hostile["QUOTES"] ||
		j.KeepAlive.SuccessfulExit || j.ThrottleInterval != 30 || j.ProcessType != "Background" || j.RunAtLoad {
		t.Fatalf("plist %+v %v", j, err)
	}

	// Loaded already: boot out the old definition first. EIO on bootstrap:
	// boot out and retry once. RunAtLoad starts it: no kickstart.
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", svc}, Stdout: printRunning},
		fakecmd.Reply{Argv: []string{"launchctl", "bootstrap", "**"}, Exit: 5, Stderr: "Bootstrap failed: 5: Input/output error"})
	err = b.Install(ctx, "work", service.InstallOptions{StartNow: true, StartOnLogin: true, Command: gateway.RunnerArgv(hermes, "work")})
	var cf *service.CommandFailedError
	if !errors.As(err, &cf) || cf.ExitCode != 5 {
		t.Fatalf("EIO twice: %v", err)
	}
	want = "launchctl print " + svc + "\nlaunchctl bootout " + svc + "\nlaunchctl enable " + svc + "\nlaunchctl bootstrap gui/501 " + plist +
		"\nlaunchctl bootout " + svc + "\nlaunchctl bootstrap gui/501 " + plist
	if got := calls(tools); got != want {
		t.Fatalf("calls:\n%s\nwant:\n%s", got, want)
	}

	// Stop: the marker names the running pid, then bootout.
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", svc}, Stdout: printRunning})
	if err := b.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	// Disabled too: bootout alone is undone at the next login.
	if got := calls(tools); got != "launchctl print "+svc+"\nlaunchctl bootout "+svc+"\nlaunchctl disable "+svc {
		t.Fatalf("stop calls:\n%s", got)
	}
	if !gateway.ProbeMarker(profileDir(t, b, "work"), 4242) {
		t.Fatal("no planned-stop marker for pid 4242")
	}
	st, _ := gateway.ReadState(profileDir(t, b, "work"))
	if st.DesiredState() != "stopped" {
		t.Fatalf("desired %q", st.DesiredState())
	}

	// Start when not loaded: bootstrap, then kickstart. Restart: -k.
	_ = tools.Set(notFound)
	if err := b.Start(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if got := calls(tools); got != "launchctl enable "+svc+"\nlaunchctl print "+svc+"\nlaunchctl bootstrap gui/501 "+plist+"\nlaunchctl kickstart "+svc {
		t.Fatalf("start calls:\n%s", got)
	}
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", svc}, Stdout: printRunning})
	if err := b.Restart(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if got := calls(tools); got != "launchctl enable "+svc+"\nlaunchctl print "+svc+"\nlaunchctl kickstart -k "+svc {
		t.Fatalf("restart calls:\n%s", got)
	}

	// Status from print.
	s, err := b.Status(ctx, "work")
	if err != nil || s.State != service.StateRunning || *s.PID != 4242 || *s.LastExit != 1 || *s.Restarts != 2 || !*s.Enabled {
		t.Fatalf("status %+v %v", s, err)
	}
	_ = tools.Set(notFound)
	if s, _ := b.Status(ctx, "work"); s.State != service.StateStopped || !s.Installed || !strings.Contains(s.Detail, "not loaded") {
		t.Fatalf("not loaded: %+v", s)
	}

	// Uninstall: bootout (not loaded is fine: 3), remove the plist.
	_ = tools.Set(notFound, fakecmd.Reply{Argv: []string{"launchctl", "bootout", "**"}, Exit: 3, Stderr: "Boot-out failed: 3: No such process"})
	tools.Reset()
	if err := b.Uninstall(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(plist); !os.IsNotExist(err) {
		t.Fatal("plist left")
	}
	for name, op := range map[string]func(context.Context, string) error{"start": b.Start, "stop": b.Stop, "restart": b.Restart} {
		var ni *service.NotInstalledError
		if err := op(ctx, "work"); !errors.As(err, &ni) || ni.Service != "ai.hermes.gateway.work" {
			t.Errorf("%s after uninstall: %v", name, err)
		}
	}
}

func TestDomainsAndErrors(t *testing.T) {
	ctx := context.Background()
	// No GUI session: the user domain.
	b, tools, hermes := mac(t, false)
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "managername"}, Stdout: "Background\n"},
		fakecmd.Reply{Argv: []string{"launchctl", "print", "gui/501"}, Exit: 113, Stderr: "Could not find domain for user gui: 501"},
		fakecmd.Reply{Argv: []string{"launchctl", "print", "**"}, Exit: 113})
	if err := b.Install(ctx, "default", service.InstallOptions{StartNow: true, StartOnLogin: true, Command: gateway.RunnerArgv(hermes, "default")}); err != nil {
		t.Fatal(err)
	}
	if got := calls(tools); !strings.Contains(got, "launchctl bootstrap user/501 ") {
		t.Fatalf("calls:\n%s", got)
	}
	// Permission denied: a typed permission error.
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", "**"}, Exit: 113},
		fakecmd.Reply{Argv: []string{"launchctl", "kickstart", "**"}, Exit: 1, Stderr: "Could not kickstart service: 1: Operation not permitted"})
	if err := b.Start(ctx, "default"); !errors.Is(err, service.ErrPermission) {
		t.Fatalf("got %v", err)
	}
	// A daemon without root: the sudo command.
	err := b.Install(ctx, "work", service.InstallOptions{System: true, Command: gateway.RunnerArgv(hermes, "work")})
	if !errors.Is(err, service.ErrPermission) || !strings.Contains(service.HintOf(err), "sudo hermes -p work gateway install --system") {
		t.Fatalf("got %v", err)
	}
	// As root: the system domain and /Library/LaunchDaemons, run as a user.
	r, rtools, _ := mac(t, true)
	_ = rtools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", "**"}, Exit: 113})
	if err := r.Install(ctx, "work", service.InstallOptions{StartNow: true, StartOnLogin: true, RunAsUser: "ada", Command: gateway.RunnerArgv(hermes, "work")}); err != nil {
		t.Fatal(err)
	}
	daemon := filepath.Join(r.cfg.DaemonsDir, "ai.hermes.gateway.work.plist")
	if got := calls(rtools); got != "launchctl print system/ai.hermes.gateway.work\nlaunchctl enable system/ai.hermes.gateway.work\nlaunchctl bootstrap system "+daemon {
		t.Fatalf("calls:\n%s", got)
	}
	data, _ := os.ReadFile(daemon)
	if j, _ := decode(data); j.UserName != "ada" {
		t.Fatalf("daemon runs as %q", j.UserName)
	}
}

func TestLogs(t *testing.T) {
	b, tools, hermes := mac(t, false)
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", "**"}, Exit: 113})
	ctx := context.Background()
	if err := b.Install(ctx, "work", service.InstallOptions{Command: gateway.RunnerArgv(hermes, "work")}); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(b.logFile(profileDir(t, b, "work")), []byte("a\nb\nc\n"), 0o644)
	var got []string
	if err := b.Logs(ctx, "work", service.LogOptions{Lines: 2}, func(l service.LogLine) error { got = append(got, l.Text); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "b,c" {
		t.Fatalf("%v", got)
	}
	if err := b.Logs(ctx, "ghost", service.LogOptions{}, func(service.LogLine) error { return nil }); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("ghost: %v", err)
	}
}

func profileDir(t *testing.T, b *Backend, profile string) string {
	t.Helper()
	dir, err := b.ProfileDir(profile)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

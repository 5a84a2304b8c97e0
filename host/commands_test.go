package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

// The commands' logic, in process: each run function against the test
// backend served over a real gRPC connection (plugintest.Harness), so
// validation and typed errors cross the wire as in production. What a
// person sees end to end stays in the testscripts.

func harness(t *testing.T) service.Manager {
	t.Helper()
	return plugintest.Harness(t, testbackend.New())
}

var argv = []string{"/usr/bin/hermes", "gateway", "run"}

func TestRunInstall(t *testing.T) {
	t.Parallel() // own home, own processes
	tests := []struct {
		name      string
		profile   string
		force     bool
		elevated  func() (int, error)
		preinstal bool
		wantOut   string
		wantErr   func(error) bool
	}{
		{name: "fresh", profile: "work", wantOut: "installed the work gateway\n"},
		{name: "again without force", profile: "work", preinstal: true,
			wantErr: func(err error) bool { return errors.Is(err, service.ErrAlreadyExists) }},
		{name: "again with force", profile: "work", preinstal: true, force: true, wantOut: "installed the work gateway\n"},
		{name: "denied, no handoff", profile: "denied",
			wantErr: func(err error) bool { return errors.Is(err, service.ErrPermission) }},
		{name: "denied, handed to an elevated hermes", profile: "denied", elevated: func() (int, error) { return 5, nil },
			wantErr: func(err error) bool { return exitCode(err) == 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := harness(t)
			ctx := context.Background()
			if tt.preinstal {
				if err := m.Install(ctx, tt.profile, service.InstallOptions{Command: argv}); err != nil {
					t.Fatal(err)
				}
			}
			var out, errOut bytes.Buffer
			err := runInstall(ctx, m, installOptions{Profile: tt.profile, Out: &out, Err: &errOut, rerunElevated: tt.elevated,
				InstallOptions: service.InstallOptions{Force: tt.force, StartNow: true, Command: argv}})
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil || out.String() != tt.wantOut {
				t.Fatalf("out %q, err %v", out.String(), err)
			}
			if st, _ := m.Status(ctx, tt.profile); st.State != service.StateRunning {
				t.Fatalf("not started: %+v", st)
			}
		})
	}
}

func TestRunLifecycleOneProfile(t *testing.T) {
	t.Parallel() // own home, own processes
	tests := []struct {
		verb    verb
		noWait  bool
		profile string
		want    string
		wantErr func(error) bool
	}{
		{verb: verbStop, profile: "work", want: "stopped the work gateway: stopped\n"},
		{verb: verbStart, profile: "work", want: "started the work gateway: running, pid "},
		{verb: verbRestart, profile: "work", want: "restarted the work gateway: running, pid "},
		{verb: verbStop, profile: "work", noWait: true, want: "stopped the work gateway (not waiting for it)\n"},
		{verb: verbStart, profile: "ghost", wantErr: func(err error) bool { return errors.Is(err, service.ErrNotFound) }},
		{verb: verbStart, profile: "cmdfail", wantErr: func(err error) bool {
			var cf *service.CommandFailedError
			return errors.As(err, &cf) && cf.ExitCode == 111
		}},
	}
	for _, tt := range tests {
		t.Run(tt.verb.String()+"/"+tt.profile, func(t *testing.T) {
			m := harness(t)
			ctx := context.Background()
			if err := m.Install(ctx, "work", service.InstallOptions{StartNow: true, Command: argv}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := runLifecycle(ctx, m, lifecycleOptions{Verb: tt.verb, Profile: tt.profile, NoWait: tt.noWait,
				Timeout: 5 * time.Second, Out: &out})
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil || !strings.HasPrefix(out.String(), tt.want) {
				t.Fatalf("out %q, err %v", out.String(), err)
			}
		})
	}
}

// Start and restart call a gateway started only once it stayed up for the
// settle time: one that dies, comes back under another pid or exits 78 at
// once is exit 1, naming its last exit (issue 17).
func TestStartWaitsForTheGatewayToSettle(t *testing.T) {
	t.Parallel() // own backends
	const settleFor = 300 * time.Millisecond
	tests := []struct {
		name    string
		verb    verb
		fate    string // TESTBACKEND_GATEWAY
		running bool   // started before the command
		profile string
		timeout time.Duration
		want    string // on stdout, when it succeeds
		wantErr []string
		hint    string
	}{
		{name: "healthy", verb: verbStart, want: "started the work gateway: running, pid "},
		{name: "healthy restart", verb: verbRestart, running: true, want: "restarted the work gateway: running, pid "},
		{name: "crash-looping", verb: verbStart, fate: "crashloop",
			wantErr: []string{"the work gateway did not stay up for 300ms: it ran as pid ", "(last exit 1)"}, hint: "gateway logs"},
		{name: "crash-looping restart", verb: verbRestart, running: true, fate: "crashloop",
			wantErr: []string{"the work gateway did not stay up", "(last exit 1)"}},
		{name: "exits 78 at once", verb: verbStart, fate: "exit=78",
			wantErr: []string{"the work gateway did not start: it is failed", "exit 78"}, hint: "fatal configuration"},
		{name: "exits 1 over and over", verb: verbStart, fate: "exit=1", timeout: 500 * time.Millisecond,
			wantErr: []string{"the work gateway is not running after 500ms (it is starting", "last exit 1"}},
		{name: "missing", verb: verbStart, profile: "ghost",
			wantErr: []string{"ghost"}, hint: "register it first: hermes -p ghost gateway register"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := harness(t)
			ctx := context.Background()
			var env map[string]string
			if tt.fate != "" {
				env = map[string]string{testbackend.GatewayFate: tt.fate}
			}
			if err := m.Register(ctx, "work", service.RegisterOptions{StartNow: tt.running, Command: argv, Env: env}); err != nil {
				t.Fatal(err)
			}
			profile, timeout := tt.profile, tt.timeout
			if profile == "" {
				profile = "work"
			}
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			var out bytes.Buffer
			began := time.Now()
			err := runLifecycle(ctx, m, lifecycleOptions{Verb: tt.verb, Profile: profile, Timeout: timeout, Settle: settleFor, Out: &out})
			if tt.wantErr == nil {
				if err != nil || !strings.HasPrefix(out.String(), tt.want) {
					t.Fatalf("out %q, err %v", out.String(), err)
				}
				if took := time.Since(began); took < settleFor {
					t.Fatalf("reported started after %s, before the %s settle", took, settleFor)
				}
				return
			}
			if exitCode(err) != ExitFailed || out.Len() != 0 {
				t.Fatalf("exit %d, out %q, err %v", exitCode(err), out.String(), err)
			}
			var rep bytes.Buffer
			report(&rep, err)
			for _, w := range append(tt.wantErr, tt.hint) {
				if !strings.Contains(rep.String(), w) {
					t.Errorf("no %q in:\n%s", w, rep.String())
				}
			}
		})
	}
}

// A gateway that was up long before start asks has settled already: start
// does not make the operator wait for it again (nor ask the backend).
func TestSettleTakesAnOldRunAsSettled(t *testing.T) {
	t.Parallel()
	since := time.Now().Add(-time.Hour)
	first := service.Status{State: service.StateRunning, PID: new(7), Since: &since}
	st, err := settle(context.Background(), nil, "work", first, 30*time.Minute, time.Second, nil)
	if err != nil || st.PID == nil || *st.PID != 7 {
		t.Fatalf("status %+v, err %v", st, err)
	}
}

func TestRunLifecycleAll(t *testing.T) {
	t.Parallel() // own home, own processes
	home := t.TempDir()
	for _, p := range []string{"alpha", "beta", "cmdfail"} {
		if err := os.MkdirAll(filepath.Join(home, "profiles", p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := harness(t)
	ctx := context.Background()
	for _, p := range []string{"default", "alpha"} {
		if err := m.Install(ctx, p, service.InstallOptions{Command: argv}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	err := runLifecycle(ctx, m, lifecycleOptions{Verb: verbStart, All: true, Home: home, Timeout: 5 * time.Second, Out: &out})
	var all *allFailedError
	if !errors.As(err, &all) || strings.Join(all.profiles, ",") != "cmdfail" {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"started the alpha gateway: running", "skipped the beta gateway: not installed",
		"failed the cmdfail gateway", "started the default gateway: running", "started 2 of 4 profiles (1 skipped, 1 failed)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

func TestRunStatus(t *testing.T) {
	t.Parallel() // own home, own processes
	m := harness(t)
	ctx := context.Background()
	if err := m.Install(ctx, "work", service.InstallOptions{StartNow: true, Command: argv}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Now().Add(90 * time.Second) }
	tests := []struct {
		name     string
		o        statusOptions
		wantCode int
		want     []string
	}{
		{"running", statusOptions{Profile: "work"}, ExitOK, []string{"PROFILE", "work", "running", "backend: test: forced"}},
		{"not installed", statusOptions{Profile: "idle"}, ExitNotRunning, []string{"stopped (not installed)", "detail: not installed"}},
		{"json", statusOptions{Profile: "work", JSON: true}, ExitOK, []string{`"profile": "work"`, `"desired_state": "running"`}},
		{"all", statusOptions{All: true, Home: t.TempDir()}, ExitOK, []string{"default", "backend: test: forced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.o.Out, tt.o.Now, tt.o.Backend = &out, now, "test: forced"
			err := runStatus(ctx, m, tt.o)
			if exitCode(err) != tt.wantCode {
				t.Fatalf("exit %d (%v)", exitCode(err), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("no %q in:\n%s", w, out.String())
				}
			}
			if tt.o.JSON {
				var v map[string]any
				if err := json.Unmarshal(out.Bytes(), &v); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"profile", "backend", "installed", "state", "pid", "since", "last_exit",
					"restarts", "enabled", "desired_state", "unit", "detail"} {
					if _, ok := v[k]; !ok {
						t.Errorf("JSON has no %q", k)
					}
				}
			}
		})
	}
}

func TestRegisterListLogsRemove(t *testing.T) {
	t.Parallel() // own home, own processes
	m := harness(t)
	ctx := context.Background()
	var out bytes.Buffer
	if err := runRegister(ctx, m, registerOptions{Profile: "work", Out: &out,
		RegisterOptions: service.RegisterOptions{StartNow: true, Command: argv, Env: map[string]string{"A": "b"}}}); err != nil {
		t.Fatal(err)
	}
	if err := runRegister(ctx, m, registerOptions{Profile: "work", Out: &out,
		RegisterOptions: service.RegisterOptions{Command: argv}}); !errors.Is(err, service.ErrAlreadyExists) {
		t.Fatalf("second register: %v", err)
	}
	if err := runList(ctx, m, listOptions{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if err := runLogs(ctx, m, logsOptions{Profile: "work", Out: &out, LogOptions: service.LogOptions{Lines: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := runRemove(ctx, m, removeOptions{Verb: verbUnregister, Profile: "work", Out: &out}); err != nil {
		t.Fatal(err)
	}
	want := "registered the work gateway\nwork\nwork line 99\nwork line 100\nunregistered the work gateway\n"
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := runList(ctx, m, listOptions{JSON: true, Out: &out}); err != nil || out.String() != "[]\n" {
		t.Fatalf("list after unregister: %q %v", out.String(), err)
	}
}

func TestRunLogsFollowEndsQuietlyWithTheContext(t *testing.T) {
	t.Parallel() // own home, own processes
	m := harness(t)
	if err := m.Register(context.Background(), "work", service.RegisterOptions{Command: argv}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{n: 53, cancel: cancel}
	if err := runLogs(ctx, m, logsOptions{Profile: "work", Out: w, LogOptions: service.LogOptions{Follow: true}}); err != nil {
		t.Fatalf("a follow ended by the context is no error: %v", err)
	}
}

// cancelAfter cancels once it has seen n lines.
type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if c.n--; c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}

func TestRunReconcile(t *testing.T) {
	t.Parallel() // own home, own processes
	home := gateway.Home{Root: t.TempDir()}
	profiles := map[string]string{"alpha": `{"desired_state":"running"}`, "beta": `{"gateway_state":"stopped"}`,
		"gamma": `{"gateway_state":"draining"}`, "delta": ""}
	for p, state := range profiles {
		dir := filepath.Join(home.Root, "profiles", p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "SOUL.md"), []byte("# soul\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if state != "" {
			if err := os.WriteFile(filepath.Join(dir, gateway.StateFile), []byte(state), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A folder without SOUL.md is no profile.
	if err := os.MkdirAll(filepath.Join(home.Root, "profiles", "scratch"), 0o755); err != nil {
		t.Fatal(err)
	}
	// alpha was registered with a program, a protocol, --env and
	// --stop-timeout: the boot rebuilds its slot from those, not from
	// defaults.
	alpha := registration.Settings{Protocol: gateway.ProtocolHermes, Program: []string{"/g", "-p", "alpha", "gateway", "run"},
		Env: map[string]string{"TOKEN": "s3cret value"}, StopTimeout: registration.Duration(2 * time.Minute)}
	if _, err := registration.Save(filepath.Join(home.Root, "profiles", "alpha"), alpha); err != nil {
		t.Fatal(err)
	}
	backend := testbackend.New()
	m := plugintest.Harness(t, backend)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	err := runReconcile(ctx, m, reconcileOptions{Home: home, Out: &out, Err: &errOut, Now: func() time.Time { return at },
		Argv: func(p string, set registration.Settings) ([]string, error) {
			return gateway.RunnerArgv("/usr/bin/hermes", p, append([]string{"--protocol", set.Protocol, "--"}, set.Program...)...), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"reconcile: 2026-11-26T12:00:00+0000 profile=default prior_state=None action=registered",
		"reconcile: 2026-11-26T12:00:00+0000 profile=alpha prior_state=running action=started",
		"reconcile: 2026-11-26T12:00:00+0000 profile=beta prior_state=stopped action=registered",
		"reconcile: 2026-11-26T12:00:00+0000 profile=delta prior_state=None action=registered",
		"reconcile: 2026-11-26T12:00:00+0000 profile=gamma prior_state=running action=started",
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	if cmd, env, _ := backend.Options("alpha"); strings.Join(cmd, " ") != "/usr/bin/hermes -p alpha gateway run --protocol hermes -- /g -p alpha gateway run" ||
		env["TOKEN"] != "s3cret value" {
		t.Errorf("alpha reconciled with %q %v, not as registered", cmd, env)
	}
	if got := backend.StopTimeout("alpha"); got != 2*time.Minute {
		t.Errorf("alpha reconciled with stop timeout %s, not as registered", got)
	}
	if got := backend.StopTimeout("beta"); got != 0 {
		t.Errorf("beta, registered without one, reconciled with stop timeout %s, not the default", got)
	}
	log, _ := os.ReadFile(filepath.Join(home.Root, "logs", "container-boot.log"))
	if strings.Count(string(log), "\n") != len(want) {
		t.Fatalf("audit log:\n%s", log)
	}
	sts, err := m.Statuses(ctx, []string{"alpha", "beta", "gamma", "scratch"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []service.State{service.StateRunning, service.StateStopped, service.StateRunning, service.StateStopped} {
		if sts[i].State != want || (i < 3) != sts[i].Installed {
			t.Errorf("%s: %s installed=%v", sts[i].Profile, sts[i].State, sts[i].Installed)
		}
	}
}

// TestDoctorReportsTheBackendsFindings: the backend's findings join the
// host's; a warning shows with its fix but is no problem, an error is.
func TestDoctorReportsTheBackendsFindings(t *testing.T) {
	t.Setenv("HERMES_TESTBACKEND_DIAGNOSE", "fail")
	var f findings
	f.add("home", true, "/h is writable", "")
	backendFindings(context.Background(), harness(t), service.DiagnoseOptions{Home: "/h", Hermes: "/usr/bin/hermes"}, &f)
	var out bytes.Buffer
	if err := f.report(&out, false); exitCode(err) != ExitFailed {
		t.Fatalf("exit %d (%v)", exitCode(err), err)
	}
	text := out.String()
	for _, want := range []string{"ok    home: /h is writable", "ok    test backend: home /h, hermes /usr/bin/hermes",
		"FAIL  ", "warn  ", "      fix: ", "checks, 1 problems"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	out.Reset()
	_ = f.report(&out, true)
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != len(f) {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	for _, r := range rows {
		for _, k := range []string{"check", "ok", "severity", "detail", "fix"} {
			if _, ok := r[k]; !ok {
				t.Errorf("row %v has no %q", r, k)
			}
		}
	}
}

// TestServiceArgvRecordsTheGatewayProgram: install and register put the
// protocol and the gateway program, made absolute, into the runner's
// command line, and refuse what a service could not run.
func TestServiceArgvRecordsTheGatewayProgram(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("no sh on PATH to stand in for a gateway program")
	}
	sh, _ = filepath.Abs(sh)
	tests := []struct {
		name     string
		program  gatewayProgram
		want     []string
		wantCode int
	}{
		{"plain, no program: the service's environment", gatewayProgram{Protocol: runner.ProtocolPlain},
			gateway.RunnerArgv(exe, "work", "--stop-timeout", "60s"), ExitOK},
		{"plain program, resolved", gatewayProgram{Protocol: runner.ProtocolPlain, Command: `sh -c 'echo "hi there"'`},
			gateway.RunnerArgv(exe, "work", "--stop-timeout", "60s", "--protocol", "plain", "--", sh, "-c", `echo "hi there"`), ExitOK},
		// The runner's child timeout fits inside the chosen stop budget.
		{"plain program, a 2m budget", gatewayProgram{Protocol: runner.ProtocolPlain, Command: "sh", StopTimeout: 2 * time.Minute},
			gateway.RunnerArgv(exe, "work", "--stop-timeout", "90s", "--protocol", "plain", "--", sh), ExitOK},
		{"plain, no program, a 15s budget", gatewayProgram{Protocol: runner.ProtocolPlain, StopTimeout: 15 * time.Second},
			gateway.RunnerArgv(exe, "work", "--stop-timeout", "10s"), ExitOK},
		// Under hermes the gateway drains by its own clock: the budget is
		// the service manager's alone.
		{"hermes program", gatewayProgram{Protocol: runner.ProtocolHermes, Command: "sh -p work gateway run", StopTimeout: 2 * time.Minute},
			gateway.RunnerArgv(exe, "work", "--protocol", "hermes", "--", sh, "-p", "work", "gateway", "run"), ExitOK},
		{"hermes without a program, no upstream CLI", gatewayProgram{Protocol: runner.ProtocolHermes}, nil, ExitConfig},
		{"a program that is nowhere", gatewayProgram{Command: "no-such-gateway-program --x"}, nil, ExitConfig},
		{"a line that is no command line", gatewayProgram{Command: `"unterminated`}, nil, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := serviceArgv("work", tt.program)
			if exitCode(err) != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", exitCode(err), err, tt.wantCode)
			}
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
				t.Fatalf("argv %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStopBudgetBounds: --stop-timeout takes whole seconds from
// gateway.MinStopBudget to gateway.MaxStopBudget; anything else is a usage
// error (exit 2). The runner's own default drain is what the default budget
// gives it, so a plain runner line without the flag would drain the same.
func TestStopBudgetBounds(t *testing.T) {
	for d, want := range map[time.Duration]int{
		gateway.StopBudget: ExitOK, gateway.MinStopBudget: ExitOK, gateway.MaxStopBudget: ExitOK, 2 * time.Minute: ExitOK,
		0: ExitUsage, -time.Minute: ExitUsage, 9 * time.Second: ExitUsage, time.Hour + time.Second: ExitUsage,
		90500 * time.Millisecond: ExitUsage,
	} {
		if err := checkStopBudget(d); exitCode(err) != want {
			t.Errorf("--stop-timeout %s: exit %d (%v), want %d", d, exitCode(err), err, want)
		}
	}
	if gateway.DrainWithin(gateway.StopBudget) != runner.DefaultStopTimeout {
		t.Fatalf("the default budget gives the runner %s, its own default is %s", gateway.DrainWithin(gateway.StopBudget), runner.DefaultStopTimeout)
	}
}

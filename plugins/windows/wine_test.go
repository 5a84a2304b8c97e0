//go:build windows

package windows

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestServiceUnderTheSCM installs a real service with the Service Control
// Manager (Wine's, in `make test`), runs a stand-in gateway through the
// real runner, and takes it through its life. The binaries come from
// `make wine-test`, built for Windows beforehand.
func TestServiceUnderTheSCM(t *testing.T) {
	bin := winTestBin(t)
	ctx := context.Background()
	home := testHome(t)
	profile := testProfile("wt")
	b := New(Config{Settings: backend.Settings{Home: home}, ServiceExe: filepath.Join(bin, "hermes-service-windows.exe")})
	t.Cleanup(func() { _ = b.Uninstall(ctx, profile) })
	dir := filepath.Join(home, "profiles", profile)
	t.Cleanup(func() { logOnFailure(t, dir) })
	opts := service.InstallOptions{StartNow: true, Command: gateway.RunnerArgv(filepath.Join(bin, "hermes.exe"), profile),
		Env: map[string]string{"HERMES_GATEWAY_COMMAND": `"` + filepath.Join(bin, "hermes-test-gateway.exe") + `" --from-service`,
			"GREETING": "hello from the service"}, StopTimeout: 45 * time.Second}

	// Missing: not installed, for every lifecycle call.
	for name, op := range map[string]func(context.Context, string) error{"start": b.Start, "stop": b.Stop, "restart": b.Restart} {
		var ni *service.NotInstalledError
		if err := op(ctx, profile); !errors.As(err, &ni) || ni.Service != ServiceName(profile) {
			t.Fatalf("%s of a missing service: %v", name, err)
		}
	}

	if err := b.Install(ctx, profile, opts); err != nil {
		t.Fatal(err)
	}
	waitState(t, dir, "running")
	st, err := b.Status(ctx, profile)
	t.Logf("installed and running: %s pid %d", st.State, *st.PID)
	if err != nil || st.State != service.StateRunning || st.PID == nil || *st.PID == 0 || !st.Installed {
		t.Fatalf("status after install: %+v %v", st, err)
	}
	if *st.Enabled {
		t.Error("installed without start-on-login, yet automatic")
	}
	// The stop budget chosen at install is in the service's command line,
	// where the wrapper and Stop read it.
	if m, s, err := b.open(profile, "read the stop budget"); err != nil {
		t.Fatal(err)
	} else {
		got := stopBudget(s)
		s.Close()
		m.Disconnect()
		if got != 45*time.Second {
			t.Fatalf("stop budget read back from the SCM: %s, want 45s", got)
		}
	}
	all, err := b.Statuses(ctx, nil)
	found := false
	for _, s := range all {
		found = found || (s.Profile == profile && s.State == service.StateRunning)
	}
	if err != nil || !found {
		t.Fatalf("statuses of all services lack %s: %+v %v", profile, all, err)
	}

	// A duplicate without force names the service; with force it replaces it.
	err = b.Install(ctx, profile, opts)
	if !errors.Is(err, service.ErrAlreadyExists) || !strings.Contains(err.Error(), ServiceName(profile)) {
		t.Fatalf("duplicate: %v", err)
	}

	// Stop: planned, so the runner records "stopped".
	if err := b.Stop(ctx, profile); err != nil {
		t.Fatal(err)
	}
	waitState(t, dir, "stopped")
	gs, _ := gateway.ReadState(dir)
	if gs.DesiredState() != "stopped" || !strings.Contains(string(gs.Raw("exit_reason")), "planned-stop marker") {
		t.Fatalf("after stop: desired %q reason %s", gs.DesiredState(), gs.Raw("exit_reason"))
	}
	if st, _ := b.Status(ctx, profile); st.State != service.StateStopped {
		t.Fatalf("status after stop: %+v", st)
	}

	// Start again, then restart: a new runner each time.
	if err := b.Start(ctx, profile); err != nil {
		t.Fatal(err)
	}
	waitState(t, dir, "running")
	first, _ := gateway.ReadState(dir)
	if err := b.Restart(ctx, profile); err != nil {
		t.Fatal(err)
	}
	waitState(t, dir, "running")
	second, _ := gateway.ReadState(dir)
	if first.PID() == second.PID() {
		t.Fatalf("restart kept runner pid %d", first.PID())
	}
	logs := ""
	waitFunc(t, "the gateway's greeting in its log", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "logs", "gateway.log"))
		logs = string(data)
		return strings.Contains(logs, "test gateway started")
	})

	// Force replaces a running service; start on login makes it automatic.
	opts.Force, opts.StartOnLogin = true, true
	if err := b.Install(ctx, profile, opts); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Status(ctx, profile); !*st.Enabled {
		t.Error("start on login did not make it automatic")
	}
	// Wine's SCM cannot read the delayed-start and recovery config levels:
	// those assertions are skipped here, by design of the tier.

	t.Logf("stopped (desired %s), started, restarted (runner %d -> %d), forced", gs.DesiredState(), first.PID(), second.PID())
	if err := b.Uninstall(ctx, profile); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Status(ctx, profile); st.Installed {
		t.Fatalf("still installed: %+v", st)
	}
	if err := b.Uninstall(ctx, profile); err != nil {
		t.Fatalf("uninstall of a missing service: %v", err)
	}

	// An SCM failure carries the Win32 code and its text: a service whose
	// program is missing cannot start (ERROR_FILE_NOT_FOUND, 2).
	broken := New(Config{Settings: backend.Settings{Home: home}, ServiceExe: filepath.Join(bin, "no-such-program.exe")})
	err = broken.Install(ctx, profile+"x", opts)
	t.Cleanup(func() { _ = broken.Uninstall(ctx, profile+"x") })
	var cf *service.CommandFailedError
	if !errors.As(err, &cf) || cf.Action != "start" || cf.ExitCode == 0 || cf.Stderr == "" || cf.Service != ServiceName(profile+"x") {
		t.Fatalf("start of a service without its program: %#v", err)
	}
	t.Logf("SCM failure: %v", err)
}

func waitState(t *testing.T, dir, want string) {
	t.Helper()
	waitFunc(t, "gateway_state "+want, func() bool {
		st, _ := gateway.ReadState(dir)
		return st.GatewayState() == want
	})
}

func waitFunc(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Wine is slow: a long deadline, checked less often.
	p := wait.Poll{What: what, Timeout: 60 * time.Second, Interval: 100 * time.Millisecond}
	if err := p.Until(context.Background(), func() (bool, error) { return cond(), nil }); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownIsNoOperatorStop runs the service process's handler with
// the requests the SCM sends it, against a real service of its name (for
// the start type it keeps) and a real runner and gateway: Wine's SCM sends
// no Shutdown (it cannot shut a machine down), so the rule is tested at
// the level of the handler and the SCM calls it makes. A Shutdown leaves no
// marker, the gateway's state "running" and the service automatic, so it
// comes back with the machine; a Stop is the operator's: marked, "stopped",
// manual.
func TestShutdownIsNoOperatorStop(t *testing.T) {
	bin := winTestBin(t)
	for _, tt := range []struct {
		req     svc.Cmd
		state   string
		desired string
		kind    uint32
	}{
		{svc.Shutdown, gateway.GatewayRunning, service.DesiredRunning, startAutomatic},
		{svc.Stop, gateway.GatewayStopped, service.DesiredStopped, startManual},
	} {
		name := map[svc.Cmd]string{svc.Shutdown: "shutdown", svc.Stop: "stop"}[tt.req]
		t.Run(name, func(t *testing.T) {
			home := testHome(t)
			profile := testProfile("ws" + name[:2])
			dir := filepath.Join(home, "profiles", profile)
			t.Cleanup(func() { logOnFailure(t, dir) })
			hermes := filepath.Join(bin, "hermes.exe")
			spec := Spec{Profile: profile, Home: home, StopTimeout: 45 * time.Second, StartAtBoot: true,
				Command: gateway.RunnerArgv(hermes, profile, gateway.FlagProtocol, gateway.ProtocolHermes, gateway.ProgramSeparator,
					filepath.Join(bin, "hermes-upstream-gateway.exe"), "-p", profile, "gateway", "run")}
			m, err := mgr.Connect()
			if err != nil {
				t.Fatal(err)
			}
			defer m.Disconnect()
			s, err := m.CreateService(ServiceName(profile), filepath.Join(bin, "hermes-service-windows.exe"),
				mgr.Config{StartType: startAutomatic, ErrorControl: mgr.ErrorNormal}, spec.ServiceArgs()...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Delete(); s.Close() })
			if err := gateway.SetDesiredState(dir, service.DesiredRunning); err != nil {
				t.Fatal(err)
			}

			reqs := make(chan svc.ChangeRequest)
			status := make(chan svc.Status, 16)
			go func() {
				for range status {
				}
			}()
			done := make(chan uint32, 1)
			go func() {
				_, code := (&handler{spec: spec}).Execute(nil, reqs, status)
				done <- code
			}()
			waitState(t, dir, gateway.GatewayRunning)
			rec, err := gateway.Upstream.ReadPIDRecord(dir)
			if err != nil || rec == nil {
				t.Fatalf("no gateway.pid: %v", err)
			}
			reqs <- svc.ChangeRequest{Cmd: tt.req}
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("the handler did not return after the request")
			}
			close(status)
			gs, _ := gateway.ReadState(dir)
			kind, err := queryStartType(s)
			if err != nil {
				t.Fatal(err)
			}
			if gs.GatewayState() != tt.state || gs.DesiredState() != tt.desired || kind != tt.kind {
				t.Fatalf("after %s: gateway_state %q desired_state %q start type %d", name, gs.GatewayState(), gs.DesiredState(), kind)
			}
			if _, err := os.Stat(filepath.Join(dir, gateway.PlannedStopFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a planned-stop marker stayed after %s: %v", name, err)
			}
			if gateway.Alive(rec.PID) {
				t.Errorf("the gateway (PID %d) outlived the %s", rec.PID, name)
			}
		})
	}
}

// logOnFailure shows a failed test's gateway log.
func logOnFailure(t *testing.T, dir string) {
	if t.Failed() {
		data, _ := os.ReadFile(filepath.Join(dir, "logs", "gateway.log"))
		t.Logf("%s:\n%s", filepath.Join(dir, "logs", "gateway.log"), data)
	}
}

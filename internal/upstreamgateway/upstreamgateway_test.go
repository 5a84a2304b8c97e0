//go:build !windows

package upstreamgateway_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

var bin string

func TestMain(m *testing.M) {
	testbin.Main(m, func(dir string) (err error) {
		bin, err = upstreamgateway.Build(dir)
		return err
	})
}

// proc is one stand-in gateway started by a test.
type proc struct {
	cmd  *exec.Cmd
	out  *proctest.Buffer
	done chan struct{}
}

// cleanEnv is the test's environment without anything that would change
// the gateway's decisions (a supervisor's markers, hermes' or the stand-in's
// own variables).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HERMES_") || strings.HasPrefix(name, "UPSTREAM_GATEWAY_") ||
			name == upstreamgateway.EnvInvocationID || name == upstreamgateway.EnvXPCServiceName {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func start(t *testing.T, home string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{gateway.CommandGateway, gateway.CommandRun}, args...)...)
	cmd.Env = append(append(cleanEnv(), gateway.EnvPair(gateway.EnvHome, home)), env...)
	out := &proctest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLine waits for the gateway to print line.
func (p *proc) waitLine(t *testing.T, line string) {
	t.Helper()
	waitFor(t, "the line "+line, func() bool { return p.said(line) }, p)
}

func (p *proc) said(line string) bool {
	return slices.Contains(strings.Split(p.out.String(), "\n"), line)
}

func (p *proc) running(t *testing.T) { t.Helper(); p.waitLine(t, upstreamgateway.RunningLine(p.pid())) }

func (p *proc) exitCode(t *testing.T) int {
	t.Helper()
	waitFor(t, "the gateway to exit", p.exited, p)
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool, procs ...*proc) {
	t.Helper()
	if err := wait.For(context.Background(), what, 10*time.Second, cond); err != nil {
		msg := err.Error()
		for _, p := range procs {
			msg += "\n--- gateway " + p.cmd.String() + " said:\n" + p.out.String()
		}
		t.Fatal(msg)
	}
}

func readState(t *testing.T, dir string) gateway.State {
	t.Helper()
	st, err := gateway.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func rawString(st gateway.State, key string) string {
	var s string
	_ = json.Unmarshal(st.Raw(key), &s)
	return s
}

func canonical(t *testing.T, dir string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStartWritesIdentityAndSIGINTStopsPlanned(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		profile string
	}{
		{name: "root home"},
		{name: "named profile", args: []string{gateway.FlagProfile, "work"}, profile: "work"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir, err := gateway.Home{Root: root}.ProfileDir(tt.profile)
			if tt.profile == "" {
				dir, err = root, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			p := start(t, root, nil, tt.args...)
			p.running(t)

			rec, err := gateway.ReadPIDRecord(dir)
			if err != nil || rec == nil {
				t.Fatalf("pid record: %+v %v", rec, err)
			}
			wantArgv := append([]string{bin, gateway.CommandGateway, gateway.CommandRun}, tt.args...)
			want := gateway.StartTime(p.pid())
			if rec.PID != p.pid() || rec.Kind != gateway.PIDKind || !slices.Equal(rec.Argv, wantArgv) ||
				rec.HermesHome != canonical(t, dir) || (want == nil) != (rec.StartTime == nil) || (want != nil && *want != *rec.StartTime) {
				t.Fatalf("pid record %+v (start time %v), want pid %d argv %q home %s start time %v", rec, rec.StartTime, p.pid(), wantArgv, canonical(t, dir), want)
			}
			if !gateway.Locked(dir) {
				t.Fatal("gateway.lock is not held")
			}
			lockData, _ := os.ReadFile(filepath.Join(dir, gateway.LockFile))
			pidData, _ := os.ReadFile(filepath.Join(dir, gateway.PIDFile))
			if string(lockData) != string(pidData) {
				t.Fatalf("gateway.lock holds %q, want the pid record %q", lockData, pidData)
			}
			st := readState(t, dir)
			if st.GatewayState() != gateway.GatewayRunning || st.PID() != p.pid() {
				t.Fatalf("state %q pid %d", st.GatewayState(), st.PID())
			}
			for _, key := range []string{"kind", "argv", "start_time", "platforms", gateway.KeyUpdatedAt} {
				if st.Raw(key) == nil {
					t.Errorf("state lacks %s: %v", key, st.Keys())
				}
			}
			if _, ok := st.UpdatedAt(); !ok || !strings.HasSuffix(rawString(st, gateway.KeyUpdatedAt), "+00:00") {
				t.Errorf("updated_at %s is not upstream's ISO form", st.Raw(gateway.KeyUpdatedAt))
			}

			p.signal(t, syscall.SIGINT)
			if code := p.exitCode(t); code != gateway.ExitOK {
				t.Fatalf("exit %d\n%s", code, p.out)
			}
			if !p.said(upstreamgateway.StopLine("SIGINT", true, upstreamgateway.ReasonInterrupt)) {
				t.Fatalf("no planned SIGINT line:\n%s", p.out)
			}
			if exists(filepath.Join(dir, gateway.PIDFile)) || gateway.Locked(dir) {
				t.Fatal("pid file or lock left behind")
			}
			if st := readState(t, dir); st.GatewayState() != gateway.GatewayStopped {
				t.Fatalf("state after SIGINT %q", st.GatewayState())
			}
		})
	}
}

func TestSecondInstanceExits1(t *testing.T) {
	tests := []struct {
		name string
		env  []string
	}{
		{name: "from a shell"},
		// The guard in start_gateway applies to supervised children too.
		{name: "supervised child", env: []string{gateway.EnvPair(gateway.EnvS6SupervisedChild, "1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			first := start(t, home, nil)
			first.running(t)
			second := start(t, home, tt.env)
			if code := second.exitCode(t); code != gateway.ExitFailed {
				t.Fatalf("second instance exit %d\n%s", code, second.out)
			}
			if !second.said(upstreamgateway.DuplicateLine(first.pid())) {
				t.Fatalf("second instance did not name the first:\n%s", second.out)
			}
			rec, _ := gateway.ReadPIDRecord(home)
			if first.exited() || rec == nil || rec.PID != first.pid() || readState(t, home).PID() != first.pid() {
				t.Fatalf("the first gateway lost its home: exited=%v record=%+v", first.exited(), rec)
			}
			first.signal(t, syscall.SIGINT)
			first.exitCode(t)
		})
	}
}

func TestReplaceTakesOver(t *testing.T) {
	home := t.TempDir()
	old := start(t, home, nil)
	old.running(t)
	repl := start(t, home, nil, gateway.FlagReplace)
	repl.running(t)

	if code := old.exitCode(t); code != gateway.ExitOK {
		t.Fatalf("replaced gateway exit %d\n%s", code, old.out)
	}
	for _, line := range []string{
		upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonTakeover),
		upstreamgateway.ExitLine(gateway.ExitOK, gateway.GatewayStopped),
	} {
		if !old.said(line) {
			t.Fatalf("replaced gateway did not say %q:\n%s", line, old.out)
		}
	}
	if !repl.said(upstreamgateway.ReplacedLine(old.pid())) {
		t.Fatalf("replacement did not report the takeover:\n%s", repl.out)
	}
	rec, _ := gateway.ReadPIDRecord(home)
	if rec == nil || rec.PID != repl.pid() || !gateway.Locked(home) || readState(t, home).GatewayState() != gateway.GatewayRunning {
		t.Fatalf("replacement does not own the home: %+v", rec)
	}
	if exists(filepath.Join(home, gateway.TakeoverFile)) {
		t.Fatal("takeover marker left behind")
	}
	repl.signal(t, syscall.SIGINT)
	repl.exitCode(t)
}

// marker is a planned-stop marker for the gateway with pid, as a test
// writes it (nil: none).
type marker func(pid int) map[string]any

func plannedStop(mutate func(m map[string]any, pid int)) marker {
	return func(pid int) map[string]any {
		m := map[string]any{
			"target_pid": pid, "target_start_time": gateway.StartTime(pid), "stopper_pid": os.Getpid(),
			"written_at": time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		}
		if mutate != nil {
			mutate(m, pid)
		}
		return m
	}
}

func TestSignalClassification(t *testing.T) {
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339Nano) }
	tests := []struct {
		name      string
		planned   marker
		takeover  marker
		sig       syscall.Signal
		code      int
		state     string
		line      string
		remaining bool // the planned-stop marker is still there after the stop
	}{
		{name: "SIGTERM with a marker naming it", planned: plannedStop(nil), sig: syscall.SIGTERM,
			code: 0, state: gateway.GatewayStopped, line: upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonMarker)},
		{name: "SIGTERM with a marker naming it, start time unknown", planned: plannedStop(func(m map[string]any, _ int) { m["target_start_time"] = nil }),
			sig: syscall.SIGTERM, code: 0, state: gateway.GatewayStopped, line: upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonMarker)},
		{name: "SIGTERM with a Z-dated marker naming it", planned: plannedStop(func(m map[string]any, _ int) { m["written_at"] = at(0) }),
			sig: syscall.SIGTERM, code: 0, state: gateway.GatewayStopped, line: upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonMarker)},
		// Upstream consumes any live marker once its handler reads it,
		// whoever it names.
		{name: "SIGTERM with a marker for another pid", planned: plannedStop(func(m map[string]any, pid int) { m["target_pid"] = pid + 100000 }),
			sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning, line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "SIGTERM with a stale marker", planned: plannedStop(func(m map[string]any, _ int) { m["written_at"] = at(-61 * time.Second) }),
			sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning, line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "SIGTERM with a future marker", planned: plannedStop(func(m map[string]any, _ int) { m["written_at"] = at(time.Minute) }),
			sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning, line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "SIGTERM with a naive-dated marker", planned: plannedStop(func(m map[string]any, _ int) { m["written_at"] = time.Now().UTC().Format("2006-01-02T15:04:05") }),
			sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning, line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "SIGTERM with a marker from an earlier process with its pid", planned: plannedStop(func(m map[string]any, pid int) {
			if st := gateway.StartTime(pid); st != nil {
				m["target_start_time"] = *st - 1
			} else {
				m["target_pid"] = pid + 100000 // no start times here: stand in with another pid
			}
		}), sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning, line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "bare SIGTERM", sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning,
			line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "SIGTERM with a takeover marker naming it", takeover: plannedStop(nil), sig: syscall.SIGTERM, code: 0, state: gateway.GatewayStopped,
			line: upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonTakeover)},
		{name: "SIGTERM with a takeover marker for another home", takeover: plannedStop(func(m map[string]any, _ int) { m["target_hermes_home"] = "/elsewhere" }),
			sig: syscall.SIGTERM, code: 1, state: gateway.GatewayRunning, line: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "SIGINT", sig: syscall.SIGINT, code: 0, state: gateway.GatewayStopped,
			line: upstreamgateway.StopLine("SIGINT", true, upstreamgateway.ReasonInterrupt)},
		{name: "SIGINT leaves a marker for another pid", planned: plannedStop(func(m map[string]any, pid int) { m["target_pid"] = pid + 100000 }),
			sig: syscall.SIGINT, code: 0, state: gateway.GatewayStopped, line: upstreamgateway.StopLine("SIGINT", true, upstreamgateway.ReasonInterrupt), remaining: true},
		{name: "SIGUSR1 asks for a restart", sig: syscall.SIGUSR1, code: gateway.ExitRestart, state: gateway.GatewayStopped,
			line: upstreamgateway.RestartLine("SIGUSR1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			// The watcher would act on a valid marker before the signal;
			// TestMarkerWatcher covers it.
			p := start(t, home, []string{gateway.EnvPair(upstreamgateway.EnvMarkerWatcher, "0"), gateway.EnvPair(upstreamgateway.EnvDrain, "0")})
			p.running(t)
			if tt.planned != nil {
				writeJSON(t, filepath.Join(home, gateway.PlannedStopFile), tt.planned(p.pid()))
			}
			if tt.takeover != nil {
				writeJSON(t, filepath.Join(home, gateway.TakeoverFile), tt.takeover(p.pid()))
			}
			p.signal(t, tt.sig)
			if code := p.exitCode(t); code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, p.out)
			}
			if !p.said(tt.line) || !p.said(upstreamgateway.ExitLine(tt.code, tt.state)) {
				t.Fatalf("want %q and the exit line:\n%s", tt.line, p.out)
			}
			st := readState(t, home)
			if st.GatewayState() != tt.state {
				t.Fatalf("gateway_state %q, want %q", st.GatewayState(), tt.state)
			}
			if tt.sig == syscall.SIGUSR1 && (string(st.Raw(gateway.KeyRestartRequested)) != "true" || rawString(st, gateway.KeyExitReason) == "") {
				t.Fatalf("restart not recorded: %s %s", st.Raw(gateway.KeyRestartRequested), st.Raw(gateway.KeyExitReason))
			}
			if remaining := exists(filepath.Join(home, gateway.PlannedStopFile)); tt.planned != nil && remaining != tt.remaining {
				t.Fatalf("planned-stop marker remaining=%v, want %v", remaining, tt.remaining)
			}
			if tt.takeover != nil && tt.code == 0 && exists(filepath.Join(home, gateway.TakeoverFile)) {
				t.Fatal("consumed takeover marker still there")
			}
		})
	}
}

func TestMarkerWatcher(t *testing.T) {
	t.Run("a marker alone stops the gateway as planned", func(t *testing.T) {
		t.Parallel()
		home := t.TempDir()
		p := start(t, home, nil)
		p.running(t)
		if err := writeWatchedMarker(home, p.pid()); err != nil {
			t.Fatal(err)
		}
		if code := p.exitCode(t); code != gateway.ExitOK || !p.said(upstreamgateway.StopLine(upstreamgateway.SignalNone, true, upstreamgateway.ReasonMarker)) {
			t.Fatalf("exit %d\n%s", code, p.out)
		}
		if st := readState(t, home); st.GatewayState() != gateway.GatewayStopped || exists(filepath.Join(home, gateway.PlannedStopFile)) {
			t.Fatalf("state %q, or the marker is left", st.GatewayState())
		}
	})
	t.Run("a SIGTERM after the watcher took the marker is a stop from outside", func(t *testing.T) {
		t.Parallel()
		home := t.TempDir()
		p := start(t, home, []string{gateway.EnvPair(upstreamgateway.EnvDrain, "1s")})
		p.running(t)
		if err := writeWatchedMarker(home, p.pid()); err != nil {
			t.Fatal(err)
		}
		p.waitLine(t, upstreamgateway.StopLine(upstreamgateway.SignalNone, true, upstreamgateway.ReasonMarker))
		p.signal(t, syscall.SIGTERM)
		if code := p.exitCode(t); code != gateway.ExitFailed || !p.said(upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)) {
			t.Fatalf("exit %d\n%s", code, p.out)
		}
		if st := readState(t, home); st.GatewayState() != gateway.GatewayRunning {
			t.Fatalf("state %q", st.GatewayState())
		}
	})
}

func TestDrainIsHonoured(t *testing.T) {
	const drain = time.Second
	home := t.TempDir()
	p := start(t, home, []string{gateway.EnvPair(upstreamgateway.EnvDrain, drain.String()), gateway.EnvPair(upstreamgateway.EnvMarkerWatcher, "0")})
	p.running(t)
	if err := gateway.WriteMarker(home, p.pid()); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	p.signal(t, syscall.SIGTERM)
	// "draining" is written again and again: several distinct writes show.
	stamps := map[string]bool{}
	waitFor(t, "repeated draining writes", func() bool {
		st, _ := gateway.ReadState(home)
		if st.GatewayState() == gateway.GatewayDraining {
			stamps[rawString(st, gateway.KeyUpdatedAt)] = true
		}
		return len(stamps) >= 3 || p.exited()
	}, p)
	if len(stamps) < 3 {
		t.Fatalf("saw %d draining writes before the exit\n%s", len(stamps), p.out)
	}
	if code := p.exitCode(t); code != gateway.ExitOK {
		t.Fatalf("exit %d\n%s", code, p.out)
	}
	if took := time.Since(signalled); took < drain {
		t.Fatalf("exited %s after the signal, before the %s drain ended", took, drain)
	}
	if st := readState(t, home); st.GatewayState() != gateway.GatewayStopped {
		t.Fatalf("state %q", st.GatewayState())
	}
}

func TestStateFileKeepsOtherWritersFields(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, gateway.StateFile)
	if err := os.WriteFile(path, []byte(`{"desired_state":"running","note":{"by":"café","n":[1,2]},"updated_at":1764000000}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, home, nil)
	p.running(t)
	check := func(when string) {
		t.Helper()
		st := readState(t, home)
		keys := st.Keys()
		if len(keys) < 3 || !slices.Equal(keys[:3], []string{gateway.KeyDesiredState, "note", gateway.KeyUpdatedAt}) {
			t.Fatalf("%s: keys %v, want the file's own first and in place", when, keys)
		}
		if st.DesiredState() != gateway.GatewayRunning || string(st.Raw("note")) != `{"by":"café","n":[1,2]}` {
			t.Fatalf("%s: desired_state %q note %s", when, st.DesiredState(), st.Raw("note"))
		}
	}
	check("running")
	p.signal(t, syscall.SIGINT)
	p.exitCode(t)
	check("stopped")
}

func TestStateWriters(t *testing.T) {
	tests := []struct {
		writer, desired string
	}{
		// Re-read at every write: hermes' change made while it ran stays.
		{upstreamgateway.WriterRMW, gateway.GatewayStopped},
		// The snapshot read at the first write puts the old value back.
		{upstreamgateway.WriterSnapshot, gateway.GatewayRunning},
	}
	for _, tt := range tests {
		t.Run(tt.writer, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			if err := gateway.SetDesiredState(home, gateway.GatewayRunning); err != nil {
				t.Fatal(err)
			}
			p := start(t, home, []string{gateway.EnvPair(upstreamgateway.EnvStateWriter, tt.writer), gateway.EnvPair(upstreamgateway.EnvDrain, "0")})
			p.running(t)
			if err := gateway.SetDesiredState(home, gateway.GatewayStopped); err != nil {
				t.Fatal(err)
			}
			p.signal(t, syscall.SIGINT)
			p.exitCode(t)
			if got := readState(t, home).DesiredState(); got != tt.desired {
				t.Fatalf("desired_state %q after the gateway's last write, want %q", got, tt.desired)
			}
		})
	}
}

func TestExitOnDemand(t *testing.T) {
	tests := []struct {
		code      int
		state     string
		running   bool   // reached "running" first
		platform  string // platforms.telegram.state
		restart   bool
		leavesPID bool
	}{
		{code: 0, state: gateway.GatewayStopped, running: true},
		{code: gateway.ExitRestart, state: gateway.GatewayStopped, running: true, restart: true},
		{code: gateway.ExitFailed, state: gateway.GatewayStartupFailed, platform: "retrying"},
		{code: gateway.ExitConfig, state: gateway.GatewayStartupFailed, platform: "fatal"},
		{code: 3, state: gateway.GatewayRunning, running: true, leavesPID: true}, // a crash
	}
	for _, tt := range tests {
		t.Run(gateway.ExitText(tt.code), func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			p := start(t, home, []string{gateway.EnvPair(upstreamgateway.EnvExit, gateway.ExitText(tt.code)), gateway.EnvPair(upstreamgateway.EnvDrain, "0")})
			if code := p.exitCode(t); code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, p.out)
			}
			if p.said(upstreamgateway.RunningLine(p.pid())) != tt.running {
				t.Fatalf("reached running: %v, want %v\n%s", !tt.running, tt.running, p.out)
			}
			st := readState(t, home)
			if st.GatewayState() != tt.state {
				t.Fatalf("gateway_state %q, want %q", st.GatewayState(), tt.state)
			}
			var platforms map[string]map[string]any
			_ = json.Unmarshal(st.Raw("platforms"), &platforms)
			if got, _ := platforms["telegram"]["state"].(string); got != tt.platform {
				t.Fatalf("platform state %q, want %q", got, tt.platform)
			}
			if tt.platform != "" && rawString(st, gateway.KeyExitReason) == "" {
				t.Fatal("startup failure without exit_reason")
			}
			if (string(st.Raw(gateway.KeyRestartRequested)) == "true") != tt.restart {
				t.Fatalf("restart_requested %s", st.Raw(gateway.KeyRestartRequested))
			}
			if exists(filepath.Join(home, gateway.PIDFile)) != tt.leavesPID || gateway.Locked(home) {
				t.Fatalf("pid file left=%v (want %v) or lock held", exists(filepath.Join(home, gateway.PIDFile)), tt.leavesPID)
			}
		})
	}
}

func TestCrashedGatewayDoesNotBlockTheNext(t *testing.T) {
	home := t.TempDir()
	crashed := start(t, home, []string{gateway.EnvPair(upstreamgateway.EnvExit, "3")})
	crashed.exitCode(t)
	if !exists(filepath.Join(home, gateway.PIDFile)) {
		t.Fatal("the crash left no pid file to trip over")
	}
	next := start(t, home, nil)
	next.running(t)
	if rec, _ := gateway.ReadPIDRecord(home); rec == nil || rec.PID != next.pid() {
		t.Fatalf("pid record %+v", rec)
	}
	next.signal(t, syscall.SIGINT)
	next.exitCode(t)
}

func TestSupervisedDetection(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		args        []string
		by          string
		flag, noSup bool
	}{
		{name: "shell"},
		{name: "systemd", env: []string{gateway.EnvPair(upstreamgateway.EnvInvocationID, "abc")}, by: upstreamgateway.EnvInvocationID},
		{name: "s6", env: []string{gateway.EnvPair(gateway.EnvS6SupervisedChild, "1")}, by: gateway.EnvS6SupervisedChild},
		{name: "launchd", env: []string{gateway.EnvPair(upstreamgateway.EnvXPCServiceName, "ai.hermes.gateway")}, by: upstreamgateway.EnvXPCServiceName},
		{name: "a shell under launchd", env: []string{gateway.EnvPair(upstreamgateway.EnvXPCServiceName, "0")}},
		{name: "external supervisor variable", env: []string{gateway.EnvPair(gateway.EnvExternalSupervisor, "1")}, by: gateway.EnvExternalSupervisor},
		{name: "external supervisor variable off", env: []string{gateway.EnvPair(gateway.EnvExternalSupervisor, "0")}},
		{name: "external supervisor flag", args: []string{upstreamgateway.FlagExternalSupervisor}, by: gateway.EnvExternalSupervisor, flag: true},
		{name: "no supervise", args: []string{upstreamgateway.FlagNoSupervise}, noSup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := append([]string{gateway.EnvPair(upstreamgateway.EnvExit, "0"), gateway.EnvPair(upstreamgateway.EnvDrain, "0")}, tt.env...)
			p := start(t, t.TempDir(), env, tt.args...)
			if code := p.exitCode(t); code != gateway.ExitOK {
				t.Fatalf("exit %d\n%s", code, p.out)
			}
			if want := upstreamgateway.SupervisedLine(tt.by, tt.flag, tt.noSup); !p.said(want) {
				t.Fatalf("want %q:\n%s", want, p.out)
			}
		})
	}
}

func TestRespawnStormBreaker(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		sig  syscall.Signal // sent during the backoff; 0: no backoff expected
		code int            // -1: killed by the signal
	}{
		{name: "SIGTERM during the backoff kills it", sig: syscall.SIGTERM, code: -1},
		{name: "SIGINT during the backoff is a KeyboardInterrupt", sig: syscall.SIGINT, code: 0},
		{name: "turned off", env: []string{gateway.EnvPair(upstreamgateway.EnvMaxStarts, "0"), gateway.EnvPair(upstreamgateway.EnvExit, "0")}, code: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			// Five starts in the last minute: the sixth backs off 10 s.
			var ledger strings.Builder
			for i := range 5 {
				ledger.WriteString(strconv.FormatFloat(float64(time.Now().Add(-time.Duration(i+1)*time.Second).UnixNano())/1e9, 'f', 6, 64) + "\n")
			}
			if err := os.WriteFile(filepath.Join(home, "gateway-starts.log"), []byte(ledger.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			p := start(t, home, append([]string{gateway.EnvPair(upstreamgateway.EnvDrain, "0")}, tt.env...))
			if tt.sig != 0 {
				p.waitLine(t, upstreamgateway.StormLine(10*time.Second))
				p.signal(t, tt.sig)
			}
			if code := p.exitCode(t); code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, p.out)
			}
			if tt.sig == 0 && strings.Contains(p.out.String(), "respawn storm") {
				t.Fatalf("backed off though turned off:\n%s", p.out)
			}
			if tt.sig != 0 && exists(filepath.Join(home, gateway.PIDFile)) {
				t.Fatal("a gateway held back by the breaker claimed the home")
			}
		})
	}
}

// writeWatchedMarker is a planned-stop marker upstream's watcher acts on:
// one without "trigger_watcher": false, as hermes writes for a stop no
// signal follows (Windows) and older stoppers wrote them all.
func writeWatchedMarker(home string, pid int) error { return gateway.WriteWatchedMarker(home, pid) }

//go:build linux

package systemd

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

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestTheUnitRunsUpstreamsGateway plays systemd's part for a unit hermes
// writes, with the stand-in of upstream's gateway under the hermes
// protocol: ExecStart with the unit's environment and INVOCATION_ID, then
// a stop as systemd performs it: ExecStop (mark-stop for $MAINPID), then
// SIGTERM to the main pid. The main pid is the gateway itself (the runner
// replaced itself with it); a typed `systemctl stop` is the operator's
// stop, while the same stop with the manager going down (a shutdown,
// reboot or logout) is one from outside, and the gateway stays wanted.
func TestTheUnitRunsUpstreamsGateway(t *testing.T) {
	hermes, err := testbin.Cached("github.com/nousresearch/hermes-service/cmd/hermes")
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := testbin.Cached(upstreamgateway.Package)
	if err != nil {
		t.Fatal(err)
	}
	tools := fakecmd.InstallForTest(t, t.TempDir(), "systemctl")
	for _, tt := range []struct {
		name, manager string
		planned       bool
		state         string
	}{
		{"a typed systemctl stop", "running", true, gateway.GatewayStopped},
		{"the manager going down", "stopping", false, gateway.GatewayRunning},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			dir := filepath.Join(home, "profiles", "work")
			spec := unitSpec{Profile: "work", Home: home, ProfileDir: dir,
				Command: gateway.RunnerArgv(hermes, "work", gateway.FlagProtocol, gateway.ProtocolHermes, gateway.ProgramSeparator,
					upstream, "-p", "work", "gateway", "run"),
				Env: map[string]string{upstreamgateway.EnvMaxStarts: "0"}}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			data, err := spec.render()
			if err != nil {
				t.Fatal(err)
			}
			start, stop, env := serviceLines(t, data)

			main := exec.Command(start[0], start[1:]...)
			// The test's environment carries the fake systemctl's PATH and
			// script; the unit's own assignments come after, and win.
			main.Env = append(append(os.Environ(), env...), "INVOCATION_ID=0123456789abcdef")
			p := proctest.Start(t, main)
			out, done := p.Out, p.Done
			if err := wait.For(context.Background(), "the gateway to run", 15*time.Second, func() bool {
				return strings.Contains(out.String(), upstreamgateway.RunningLine(main.Process.Pid))
			}); err != nil {
				t.Fatalf("%v: the main pid %d is not the gateway:\n%s", err, main.Process.Pid, out)
			}
			if rec, _ := gateway.ReadPIDRecord(dir); rec == nil || rec.PID != main.Process.Pid {
				t.Fatalf("gateway.pid %+v, systemd's main pid %d: not one process", rec, main.Process.Pid)
			}

			// systemd's stop: ExecStop, then SIGTERM to the main pid.
			_ = tools.Set(fakecmd.Reply{Argv: []string{"systemctl", "--user", "is-system-running"}, Stdout: tt.manager + "\n"})
			for i, w := range stop {
				stop[i] = strings.ReplaceAll(w, "$MAINPID", strconv.Itoa(main.Process.Pid))
			}
			execStop := exec.Command(stop[0], stop[1:]...)
			execStop.Env = main.Env // systemd gives every Exec line the unit's environment
			if msg, err := execStop.CombinedOutput(); err != nil {
				t.Fatalf("ExecStop %q: %v\n%s", stop, err, msg)
			}
			_ = main.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("the gateway did not stop:\n%s", out)
			}
			reason := upstreamgateway.ReasonNone
			if tt.planned {
				reason = upstreamgateway.ReasonMarker
			}
			if !strings.Contains(out.String(), upstreamgateway.StopLine("SIGTERM", tt.planned, reason)) {
				t.Fatalf("the gateway did not call the stop planned=%v:\n%s", tt.planned, out)
			}
			if st, _ := gateway.ReadState(dir); st.GatewayState() != tt.state {
				t.Fatalf("gateway_state %q, want %q", st.GatewayState(), tt.state)
			}
		})
	}
}

// serviceLines reads a unit as systemd would run it: ExecStart's and
// ExecStop's words (the "-" prefix dropped, %% and $$ undone, $MAINPID
// left for the caller) and the Environment= assignments.
func serviceLines(t *testing.T, data []byte) (start, stop, env []string) {
	t.Helper()
	opts, err := unit.Deserialize(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	words := func(v string) []string {
		out := splitQuoted(strings.TrimPrefix(v, "-"))
		for i, w := range out {
			out[i] = strings.ReplaceAll(strings.ReplaceAll(w, "%%", "%"), "$$", "$")
		}
		return out
	}
	for _, o := range opts {
		switch {
		case o.Section != "Service":
		case o.Name == "ExecStart":
			start = words(o.Value)
		case o.Name == "ExecStop":
			stop = words(o.Value)
		case o.Name == "Environment":
			env = append(env, words(o.Value)...)
		}
	}
	if len(start) == 0 || len(stop) == 0 {
		t.Fatalf("no ExecStart or ExecStop in:\n%s", data)
	}
	return start, stop, env
}

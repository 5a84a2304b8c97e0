//go:build !windows

package host_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// startRelay runs upstream's gateway (the stand-in) under `hermes gateway
// run --protocol hermes --fatal-exit-code 0`, as a launchd job does: the
// runner stays as the gateway's parent to translate its exit.
func startRelay(t *testing.T, home string, env ...string) *runnerProc {
	t.Helper()
	buildAll(t)
	upstream, err := testbin.Cached(upstreamgateway.Package)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hermesBin, "-p", "work", "gateway", "run", gateway.FlagProtocol, gateway.ProtocolHermes,
		gateway.FlagFatalExit, gateway.ExitText(gateway.ExitOK), "--", upstream, "-p", "work", "gateway", "run")
	cmd.Env = append(append(os.Environ(), gateway.EnvHome+"="+home, upstreamgateway.EnvMaxStarts+"=0"), env...)
	pp := proctest.Start(t, cmd)
	p := &runnerProc{cmd: cmd, out: pp.Out, done: pp.Done}
	return p
}

// TestRelayForwardsTheOperatorsStop: under a service manager that spares
// only exit 0 from restarts (launchd), the runner stays the gateway's parent.
// The gateway still owns its files; the operator's stop, marked for the pid
// the manager signals (the runner), reaches the gateway as a marker naming
// it; a bare SIGTERM stays a stop from outside; a fatal configuration ends
// the runner with 0, so the manager leaves it down.
func TestRelayForwardsTheOperatorsStop(t *testing.T) {
	t.Parallel() // own home, own processes
	tests := []struct {
		name     string
		mark     bool
		env      []string
		code     int
		state    string
		stopLine string
	}{
		{name: "the operator's stop", mark: true, code: 0, state: gateway.GatewayStopped,
			stopLine: upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonMarker)},
		{name: "a stop from outside", code: 1, state: gateway.GatewayRunning,
			stopLine: upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)},
		{name: "a fatal configuration", env: []string{upstreamgateway.EnvExit + "=78"}, code: 0, state: gateway.GatewayStartupFailed},
		{name: "a restart requested", env: []string{upstreamgateway.EnvExit + "=75"}, code: 75, state: gateway.GatewayStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			dir := workDir(home)
			p := startRelay(t, home, tt.env...)
			if tt.stopLine != "" {
				var gw int
				waitFor(t, "the gateway to run", func() bool {
					rec, _ := gateway.ReadPIDRecord(dir)
					if rec == nil || !strings.Contains(p.out.String(), upstreamgateway.RunningLine(rec.PID)) {
						return false
					}
					gw = rec.PID
					return true
				}, p)
				if gw == p.cmd.Process.Pid {
					t.Fatal("the runner replaced itself with the gateway: nothing would translate its exit")
				}
				if tt.mark && !gateway.MarkPlannedStop(nil, dir, p.cmd.Process.Pid) {
					t.Fatal("marker not written")
				}
				p.signal(t, syscall.SIGTERM)
			}
			if code := p.exitCode(t); code != tt.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tt.code, p.out)
			}
			if tt.stopLine != "" && !strings.Contains(p.out.String(), tt.stopLine) {
				t.Fatalf("the gateway did not classify the stop as %q:\n%s", tt.stopLine, p.out)
			}
			if st := state(t, home); st.GatewayState() != tt.state {
				t.Fatalf("gateway_state %q, want %q; output:\n%s", st.GatewayState(), tt.state, p.out)
			}
			// The runner wrote nothing of the gateway's own.
			if rec, _ := gateway.Runner.ReadPIDRecord(dir); rec != nil {
				t.Fatalf("the runner kept a pid record of its own: %+v", rec)
			}
			if _, err := os.Stat(dir + "/" + gateway.PlannedStopFile); !os.IsNotExist(err) {
				t.Fatalf("marker left behind: %v", err)
			}
		})
	}
}

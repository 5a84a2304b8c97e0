//go:build linux

package s6_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestHermesProtocolOnRealS6 runs the stand-in of upstream's real gateway
// in a slot through `hermes gateway run --protocol hermes`: the runner
// replaces itself with the gateway, so s6 supervises, and hermes's stop
// marks, the very process that writes gateway.pid and classifies its own
// stops. An operator's stop is planned and stays down; a bare SIGTERM and a
// container stop are not, and leave the gateway wanted.
func TestHermesProtocolOnRealS6(t *testing.T) {
	tr := newTree(t)
	c := tr.launch()
	ctx := context.Background()
	dir := tr.profileDir("work")
	cmd := gateway.RunnerArgv(bins.hermes, "work", gateway.FlagProtocol, "hermes", "--",
		bins.upstream, "-p", "work", "gateway", "run")
	env := map[string]string{gateway.EnvGatewayMaxStarts: "0"} // restarts here are on purpose
	if err := c.Register(ctx, "work", service.RegisterOptions{StartNow: true, Command: cmd, Env: env}); err != nil {
		t.Fatal(err)
	}
	pid := tr.waitUp("work") // s6's pid is the one in gateway_state.json
	if rec, _ := gateway.ReadPIDRecord(dir); rec == nil || rec.PID != pid {
		t.Fatalf("gateway.pid %+v, s6 supervises %d: not one process", rec, pid)
	}

	// A bare SIGTERM (OOM killer, kill): the gateway calls it a stop from
	// outside, keeps "running", and s6 brings it back.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	tr.waitFor("a new gateway after the bare SIGTERM", func() bool {
		m := tr.svstat("work", "up", "pid")
		return m != nil && m["up"] == "true" && m["pid"] != fmt.Sprint(pid)
	})
	pid = tr.waitUp("work")
	tr.waitFor("the unplanned stop in the gateway's log", func() bool {
		return strings.Contains(gatewayLog(tr, "work"), upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone))
	})

	// The operator's stop: marked for the supervised pid, which is the
	// gateway; it says planned, records stopped, and the slot stays down.
	if err := c.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	tr.waitDown("work")
	defer func() {
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(dir, gateway.StateFile))
			t.Logf("gateway_state.json: %s", data)
		}
	}()
	tr.waitFor("the gateway to record its planned stop", func() bool {
		st, _ := gateway.ReadState(dir)
		return st.GatewayState() == gateway.GatewayStopped && st.DesiredState() == service.DesiredStopped
	})
	if log := gatewayLog(tr, "work"); !strings.Contains(log, upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonMarker)) {
		t.Fatalf("the gateway did not see the operator's stop as planned:\n%s", log)
	}
	tr.never("the stopped gateway to come back", 2*time.Second, func() bool {
		m := tr.svstat("work", "up")
		return m != nil && m["up"] == "true"
	})
	expectReaders(t, dir, "after an operator's stop", false, false, false)

	// An operator's stop whose marker cannot be written: the gateway calls
	// the SIGTERM unplanned and keeps gateway_state "running", but the
	// operator's word, recorded before the signal and again once the
	// gateway is down, stands, and so does the down slot.
	if err := c.Start(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	tr.waitUp("work")
	blocker := filepath.Join(dir, gateway.PlannedStopFile)
	if err := os.Mkdir(blocker, 0o755); err != nil { // a folder where the marker goes: its write fails
		t.Fatal(err)
	}
	if err := c.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	tr.waitDown("work")
	if st, _ := gateway.ReadState(dir); st.DesiredState() != service.DesiredStopped {
		t.Fatalf("the operator's stop without a marker left desired_state %q", st.DesiredState())
	}
	// The gateway took it for a stop from outside: the seed-era reader,
	// which reads gateway_state alone, would start it at the next boot;
	// every later one reads the operator's desired_state.
	expectReaders(t, dir, "after an operator's stop whose marker failed", true, false, false)
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}

	// Started again, then the container stops: SIGTERM through the tree,
	// no marker. The gateway stays wanted, as upstream's readers see it.
	if err := c.Start(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	tr.waitUp("work")
	tr.stop()
	st, _ := gateway.ReadState(dir)
	if st.GatewayState() != gateway.GatewayRunning || st.DesiredState() != service.DesiredRunning {
		t.Fatalf("after a container stop: gateway_state %q desired_state %q, want running/running",
			st.GatewayState(), st.DesiredState())
	}
	expectReaders(t, dir, "after a container stop", true, true, true)
}

// expectReaders checks what each era of upstream's container-boot
// reconciler decides from the profile's state file: start it or not.
func expectReaders(t *testing.T, dir, when string, want ...bool) {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(dir, gateway.StateFile))
	for i, r := range upstreamgateway.Readers {
		if got := r.Starts(data); got != want[i] {
			t.Errorf("%s: upstream's %s boot starts=%v, want %v (state %s)", when, r, got, want[i], data)
		}
	}
}

// gatewayLog is what the slot's logger kept of the gateway's output.
func gatewayLog(tr *tree, profile string) string {
	data, _ := os.ReadFile(filepath.Join(tr.home, "logs", "gateways", profile, "current"))
	return string(data)
}

// TestADrainIsNotCutShort: an operator's stop lets the gateway finish its
// drain, under either protocol: nothing between s6 and the gateway (not the
// runner's stop timeout, which is upstream's minute) kills it sooner.
func TestADrainIsNotCutShort(t *testing.T) {
	const drain = 20 * time.Second
	tests := []struct {
		protocol string
		program  []string
		env      map[string]string
		finished string
	}{
		{gateway.ProtocolHermes, []string{bins.upstream, "-p", "work", "gateway", "run"},
			map[string]string{upstreamgateway.EnvDrain: drain.String(), gateway.EnvGatewayMaxStarts: "0"},
			upstreamgateway.ExitLine(gateway.ExitOK, gateway.GatewayStopped)},
		{gateway.ProtocolPlain, []string{bins.gateway},
			map[string]string{"TESTGATEWAY_DRAIN": drain.String()},
			"test gateway stopping"},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			t.Parallel() // each its own tree; the drains overlap
			tr := newTree(t)
			c := tr.launch()
			ctx := context.Background()
			cmd := gateway.RunnerArgv(bins.hermes, "work", append([]string{gateway.FlagProtocol, tt.protocol, "--"}, tt.program...)...)
			if err := c.Register(ctx, "work", service.RegisterOptions{StartNow: true, Command: cmd, Env: tt.env}); err != nil {
				t.Fatal(err)
			}
			tr.waitUp("work")
			began := time.Now()
			if err := c.Stop(ctx, "work"); err != nil { // returns once the slot is down
				t.Fatal(err)
			}
			tr.waitDown("work")
			took := time.Since(began)
			log := gatewayLog(tr, "work")
			if took < drain || !strings.Contains(log, tt.finished) || strings.Contains(log, "killing it") {
				t.Fatalf("stopped after %s (drain %s); the gateway's log:\n%s", took.Round(time.Millisecond), drain, log)
			}
			if st, _ := gateway.ReadState(tr.profileDir("work")); st.DesiredState() != service.DesiredStopped {
				t.Fatalf("desired_state %q after the drain", st.DesiredState())
			}
		})
	}
}

// TestReplaceInTheRunLineKeepsOneGateway: under the hermes protocol the run
// line ends in the gateway's own --replace, as upstream's does. With the
// runner gone by exec, the gateway finds no parent to take over from: the
// pid s6 supervises stays the same.
func TestReplaceInTheRunLineKeepsOneGateway(t *testing.T) {
	t.Parallel() // a quiet 10 s: let it overlap the drains
	tr := newTree(t)
	c := tr.launch()
	cmd := gateway.RunnerArgv(bins.hermes, "work", gateway.FlagProtocol, gateway.ProtocolHermes, "--",
		bins.upstream, "-p", "work", "gateway", "run")
	if err := c.Register(context.Background(), "work", service.RegisterOptions{StartNow: true, Command: cmd,
		Env: map[string]string{gateway.EnvGatewayMaxStarts: "0"}}); err != nil {
		t.Fatal(err)
	}
	run, _ := os.ReadFile(filepath.Join(tr.slot("work"), "run"))
	if !strings.Contains(string(run), "gateway run "+gateway.FlagReplace+"\n") {
		t.Fatalf("the run line does not end in the gateway's --replace:\n%s", run)
	}
	pid := tr.waitUp("work")
	tr.never("the supervised gateway to change", 10*time.Second, func() bool {
		m := tr.svstat("work", "up", "pid")
		return m == nil || m["up"] != "true" || m["pid"] != fmt.Sprint(pid)
	})
}

// TestAHotWriterLosesNoIntent: upstream's newest state writer snapshots the
// file at its first write and writes that back every time, and this one
// writes every 5 ms while it drains. The operator's stop still ends with
// desired_state "stopped": hermes says it again once the gateway is down.
func TestAHotWriterLosesNoIntent(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	c := tr.launch()
	ctx := context.Background()
	cmd := gateway.RunnerArgv(bins.hermes, "work", gateway.FlagProtocol, gateway.ProtocolHermes, "--",
		bins.upstream, "-p", "work", "gateway", "run")
	env := map[string]string{gateway.EnvGatewayMaxStarts: "0", upstreamgateway.EnvStateWriter: upstreamgateway.WriterSnapshot,
		upstreamgateway.EnvDrain: "1s", upstreamgateway.EnvDrainInterval: "5ms"}
	if err := c.Register(ctx, "work", service.RegisterOptions{StartNow: true, Command: cmd, Env: env}); err != nil {
		t.Fatal(err)
	}
	tr.waitUp("work")
	if err := c.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	st, _ := gateway.ReadState(tr.profileDir("work"))
	if st.DesiredState() != service.DesiredStopped || st.GatewayState() != gateway.GatewayStopped {
		t.Fatalf("after the stop: desired_state %q gateway_state %q, want stopped/stopped", st.DesiredState(), st.GatewayState())
	}
	expectReaders(t, tr.profileDir("work"), "after an operator's stop under a hot writer", false, false, false)
}

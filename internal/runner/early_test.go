//go:build !windows

package runner

import (
	"io"
	"os"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestAStopBeforeTheRunnerListens: a SIGTERM or SIGINT that came before
// the runner's handlers (hermes catches both from its start) still stops
// it, and the gateway never starts: planned when the marker names the
// runner, from outside otherwise, under either protocol.
func TestAStopBeforeTheRunnerListens(t *testing.T) {
	signalled := make(chan struct{})
	close(signalled)
	for _, tt := range []struct {
		name     string
		protocol Protocol
		marked   bool
		code     int
		state    string
	}{
		{"plain, the operator's", ProtocolPlain, true, gateway.ExitOK, gateway.GatewayStopped},
		{"plain, from outside", ProtocolPlain, false, gateway.ExitFailed, gateway.GatewayRunning},
		{"hermes, the operator's", ProtocolHermes, true, gateway.ExitOK, ""},
		{"hermes, from outside", ProtocolHermes, false, gateway.ExitFailed, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.marked && !gateway.MarkPlannedStop(nil, dir, os.Getpid()) {
				t.Fatal("no marker")
			}
			// A program that must never run: it would fail the test by
			// replacing it (hermes) or by not existing (plain).
			code, err := Run(Config{Home: dir, Dir: dir, Profile: "work", Protocol: tt.protocol,
				Argv: []string{"/nonexistent/gateway"}, FatalExit: gateway.ExitConfig, Signalled: signalled,
				Stdout: io.Discard, Stderr: io.Discard})
			if err != nil || code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			st, _ := gateway.ReadState(dir)
			if st.GatewayState() != tt.state {
				t.Fatalf("gateway_state %q, want %q", st.GatewayState(), tt.state)
			}
			if tt.protocol == ProtocolPlain && tt.marked && st.DesiredState() != service.DesiredStopped {
				t.Fatalf("desired_state %q after the operator's stop", st.DesiredState())
			}
			if gateway.ProbeMarker(dir, os.Getpid()) {
				t.Fatal("the marker was left")
			}
		})
	}
}

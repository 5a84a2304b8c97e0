//go:build windows

package runner

import (
	"errors"
	"os"
	"os/exec"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// canExec: Windows has no exec; a hermes-protocol gateway runs under the
// relay, which hands it a stop the way upstream's Windows path does.
const canExec = false

// execGateway is never reached on Windows (see canExec).
func execGateway(string, []string) error { return errors.New("no exec on Windows") }

func configureRelayed(*exec.Cmd) {}

// relayStop hands a stop on to a gateway that has no SIGTERM: upstream's
// Python gateway cannot take one on Windows, and stops as planned when its
// watcher finds a planned-stop marker naming it (what upstream's own
// `gateway stop` writes there, then waits). So an operator's stop becomes
// that marker, and the gateway drains and records "stopped" by itself. A
// stop without the operator's marker (the machine shutting down) has no
// gentle form the gateway would read as one from outside: it is ended, and
// the state it last wrote ("running") stands, so it comes back with the
// machine. Ctrl-C needs nothing: the console delivers it to the gateway
// too, which takes it for a planned stop.
func relayStop(cfg Config, child *exec.Cmd, sig os.Signal, planned bool) error {
	switch {
	case isInterrupt(sig):
		return nil
	case planned:
		if err := gateway.WriteWatchedMarker(cfg.Dir, child.Process.Pid); err != nil {
			cfg.Log.Warn("could not hand the operator's stop to the gateway; ending it", "pid", child.Process.Pid, "error", err)
			return child.Process.Kill()
		}
		return nil
	}
	return child.Process.Kill()
}

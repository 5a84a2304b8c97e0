package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// relay runs a hermes-protocol gateway as the runner's child, where the
// runner cannot simply replace itself with it: a service manager that
// spares only one exit code from restarts (launchd: exit 0), so the
// gateway's fatal-configuration exit must be translated. The gateway still
// keeps every file of its own (pid file, lock, state) and classifies its
// own stops; the runner writes none of them.
//
// The service manager supervises and signals the runner, so an operator's
// stop marks the runner's pid. The runner forwards it: it consumes that
// marker and writes a fresh one naming the gateway, then sends the signal,
// so the gateway sees the stop as planned. A signal with no marker is
// forwarded bare, and the gateway takes it for a stop from outside. The
// runner kills nothing: the gateway drains for as long as it needs, inside
// the service manager's stop timeout.
func relay(cfg Config) (int, error) {
	path, err := resolve(cfg.Argv[0])
	if err != nil {
		return gateway.ExitConfig, err
	}
	child := exec.Command(path, cfg.Argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, cfg.Stdout, cfg.Stderr
	child.Env = gatewayEnv(cfg.Home)
	configureRelayed(child)

	sigs := notifySignals()
	defer stopSignals(sigs)
	if cfg.signalledEarly() {
		return earlyStop(cfg), nil
	}
	if err := child.Start(); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return gateway.ExitConfig, configError(fmt.Errorf("start the gateway program %q: %w", path, err))
		}
		return gateway.ExitFailed, fmt.Errorf("start the gateway program %q: %w", path, err)
	}
	cfg.Log.Debug("gateway started under the relay", "pid", child.Process.Pid, "argv", cfg.Argv)
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()

	self := os.Getpid()
	for {
		select {
		case <-done:
			return relayedExit(cfg, child.ProcessState.ExitCode()), nil
		case sig := <-sigs:
			if isTerminate(sig) && gateway.ConsumeMarker(cfg.Dir, self) {
				// The operator's stop named the runner: name the gateway.
				gateway.MarkPlannedStop(cfg.Log, cfg.Dir, child.Process.Pid)
			}
			cfg.Log.Debug("forwarding signal", "signal", sig, "pid", child.Process.Pid)
			if err := relaySignal(child, sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				cfg.Log.Warn("could not forward the signal to the gateway", "signal", sig, "error", err)
			}
		}
	}
}

// relayedExit is the runner's exit for the gateway's: its own, but the
// fatal-configuration exit becomes the one the service manager spares, and
// a gateway killed by a signal (-1) is a failure.
func relayedExit(cfg Config, code int) int {
	switch {
	case code == gateway.ExitConfig:
		return cfg.FatalExit
	case code < 0:
		return gateway.ExitFailed
	}
	return code
}

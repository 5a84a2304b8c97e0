package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// relay runs a hermes-protocol gateway as the runner's child, where the
// runner cannot simply replace itself with it: Windows, which has no exec,
// and a service manager that spares only one exit code from restarts
// (launchd: exit 0), so the gateway's fatal-configuration exit must be
// translated. The gateway still keeps every file of its own (pid file,
// lock, state) and classifies its own stops; the runner writes none of
// them.
//
// The service manager supervises and signals the runner, so an operator's
// stop marks the runner's pid. The runner forwards it: it consumes that
// marker and hands the stop on to the gateway as a planned one, the marker
// naming the gateway (relayStop: on Unix a fresh marker and the signal, on
// Windows a marker upstream's watcher picks up). A stop with no marker is
// one from outside, and reaches the gateway as such. The runner kills
// nothing a gateway could drain from: the gateway drains for as long as it
// needs, inside the service manager's stop timeout.
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
			// An operator's stop names the runner: it is handed on naming
			// the gateway.
			planned := isTerminate(sig) && gateway.ConsumeMarker(cfg.Dir, self)
			cfg.Log.Debug("forwarding a stop or signal", "signal", sig, "planned", planned, "pid", child.Process.Pid)
			if err := relayStop(cfg, child, sig, planned); err != nil && !errors.Is(err, os.ErrProcessDone) {
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

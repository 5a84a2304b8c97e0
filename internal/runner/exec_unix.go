//go:build !windows

package runner

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// canExec: a Unix runner can replace itself with the gateway.
const canExec = true

// execGateway replaces the runner with the gateway program. It returns
// only when the exec failed.
func execGateway(root string, argv []string) error {
	path, err := resolve(argv[0])
	if err != nil {
		return err
	}
	err = syscall.Exec(path, argv, gatewayEnv(root))
	return configError(fmt.Errorf("run the gateway program %q: %w", path, err))
}

// configureRelayed keeps the gateway in the runner's process group, so a
// service manager that ends the job's group (launchd does) ends it too, and
// has the kernel stop it should the runner die first (Linux). SIGTERM, not
// SIGKILL: a hermes-protocol gateway takes a SIGTERM without a marker for a
// stop from outside and records it as one.
func configureRelayed(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	setParentDeathSignal(cmd.SysProcAttr, syscall.SIGTERM)
}

// relayStop passes a signal on as it came; a planned stop is marked for
// the gateway first (a signal follows, so the marker is the signal
// handler's, not the watcher's).
func relayStop(cfg Config, child *exec.Cmd, sig os.Signal, planned bool) error {
	if planned {
		gateway.MarkPlannedStop(cfg.Log, cfg.Dir, child.Process.Pid)
	}
	return child.Process.Signal(sig)
}

//go:build linux

package plugin

import (
	"os/exec"
	"syscall"
)

// configureCmd makes the kernel kill the plugin when the host dies, even by
// SIGKILL, so no plugin outlives its host.
func configureCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

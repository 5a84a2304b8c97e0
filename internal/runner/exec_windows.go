//go:build windows

package runner

import (
	"errors"
	"os"
	"os/exec"
)

// canExec: Windows has no exec, and the relay cannot yet ask a Windows
// gateway to stop gracefully with the marker naming it, so the hermes
// protocol is refused there until the Windows tier brings that.
const canExec = false

// execGateway is never reached on Windows (see canExec).
func execGateway(string, []string) error { return errors.New("no exec on Windows") }

func configureRelayed(*exec.Cmd) {}

func relaySignal(child *exec.Cmd, _ os.Signal) error { return child.Process.Kill() }

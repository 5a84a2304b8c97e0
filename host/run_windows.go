//go:build windows

package host

import (
	"os"
	"os/exec"
	"os/signal"
)

// On Windows the service wrapper stops the runner; Ctrl-C (os.Interrupt) is
// the only signal, and it is a planned stop.
func notifySignals() chan os.Signal {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt)
	return sigs
}

func stopSignals(sigs chan os.Signal) { signal.Stop(sigs) }

func isInterrupt(sig os.Signal) bool { return sig == os.Interrupt }
func isTerminate(os.Signal) bool     { return false }

func configureChild(*exec.Cmd) {}

func forward(*exec.Cmd, os.Signal) error { return nil }

func terminateChild(child *exec.Cmd) error { return child.Process.Kill() }
func killChild(child *exec.Cmd) error      { return child.Process.Kill() }

func terminate(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func kill(pid int) error { return terminate(pid) }

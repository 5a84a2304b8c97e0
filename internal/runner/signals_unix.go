//go:build !windows

package runner

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func notifySignals() chan os.Signal {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP)
	return sigs
}

func stopSignals(sigs chan os.Signal) { signal.Stop(sigs) }

func isInterrupt(sig os.Signal) bool { return sig == syscall.SIGINT }
func isTerminate(sig os.Signal) bool { return sig == syscall.SIGTERM }

// configureChild puts the gateway in a process group of its own, so it gets
// exactly the signals the runner forwards (not a terminal's Ctrl-C as
// well), and so a kill reaches everything it started.
//
// Should the runner die without stopping it, the kernel kills it: SIGKILL,
// since a runner dies so only when its manager's stop budget ran out (the
// drain with it) or the OOM killer struck; every ordinary stop goes
// through the runner's forwarding and drain. A gateway that ignored a
// SIGTERM here would run on beside the next runner's.
func configureChild(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
}

func forward(child *exec.Cmd, sig os.Signal) error { return child.Process.Signal(sig) }

func terminateChild(child *exec.Cmd) error { return child.Process.Signal(syscall.SIGTERM) }

// killChild kills the gateway's whole process group.
func killChild(child *exec.Cmd) error {
	if err := syscall.Kill(-child.Process.Pid, syscall.SIGKILL); err != nil {
		return child.Process.Kill()
	}
	return nil
}

// processGroups: the gateway leads a process group of its own
// (configureChild), which the runner records for the next one.
const processGroups = true

// ownGroup is the runner's own process group.
func ownGroup() int { return syscall.Getpgrp() }

// killGroup kills every process of group pgid.
func killGroup(pgid int) error { return syscall.Kill(-pgid, syscall.SIGKILL) }

// terminateSignal is what a stop from a service manager is.
var terminateSignal os.Signal = syscall.SIGTERM

// resetStopSignals gives SIGINT and SIGTERM back their default action.
func resetStopSignals() { signal.Reset(syscall.SIGINT, syscall.SIGTERM) }

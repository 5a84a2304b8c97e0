//go:build !windows

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// handledSignals are the ones start_gateway installs handlers for.
var handledSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1}

func isInterrupt(s os.Signal) bool { return s == syscall.SIGINT }

// isRestart: SIGUSR1 asks for a restart through the service manager.
func isRestart(s os.Signal) bool { return s == syscall.SIGUSR1 }

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	}
	return s.String()
}

// terminate is terminate_pid: SIGTERM, or SIGKILL when forced.
func terminate(pid int, force bool) error {
	if force {
		return syscall.Kill(pid, syscall.SIGKILL)
	}
	return syscall.Kill(pid, syscall.SIGTERM)
}

// dieBySignal ends the process the way an unhandled signal does, as Python's
// default action does before start_gateway installs its handlers.
func dieBySignal(s os.Signal) {
	signal.Reset(s)
	_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
	time.Sleep(time.Second) // delivery is asynchronous; this is only the fallback
	os.Exit(128 + int(s.(syscall.Signal)))
}

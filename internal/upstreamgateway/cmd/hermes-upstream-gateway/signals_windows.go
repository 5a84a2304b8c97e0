package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// handledSignals: Windows has no SIGTERM or SIGUSR1. Ctrl-C and Ctrl-Break
// arrive as os.Interrupt (a planned stop, as SIGINT is elsewhere); closing
// the console, logoff and shutdown arrive as SIGTERM (classified like a
// SIGTERM: planned only with a marker). A service stops the gateway the way
// upstream's Windows path does: the planned-stop marker, which the watcher
// picks up.
var handledSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func isInterrupt(s os.Signal) bool { return s == os.Interrupt }

func isRestart(os.Signal) bool { return false }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// terminate is terminate_pid on Windows: Python's os.kill(pid, SIGTERM) is
// TerminateProcess with exit code 15; forced, exit code 1.
func terminate(pid int, force bool) error {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	code := uint32(15)
	if force {
		code = 1
	}
	return windows.TerminateProcess(h, code)
}

// dieBySignal: no signal to re-raise; exit as a terminated process would.
func dieBySignal(os.Signal) { os.Exit(1) }

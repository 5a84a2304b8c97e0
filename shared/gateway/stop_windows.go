//go:build windows

package gateway

import (
	"os"

	"golang.org/x/sys/windows"
)

// RequestStop asks the runner with pid to stop through its stop event
// (StopEventName), Windows' stand-in for SIGTERM; a process without one is
// ended. Write the planned-stop marker first when the stop is the
// operator's.
func RequestStop(pid int) error {
	if name, err := windows.UTF16PtrFromString(StopEventName(pid)); err == nil {
		if ev, err := windows.OpenEvent(windows.EVENT_MODIFY_STATE, false, name); err == nil {
			defer windows.CloseHandle(ev)
			return windows.SetEvent(ev)
		}
	}
	return Kill(pid)
}

// Kill ends pid at once.
func Kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

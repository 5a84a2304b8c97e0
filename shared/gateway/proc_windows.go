//go:build windows

package gateway

import "golang.org/x/sys/windows"

func startTime(pid int) *int64 {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return nil
	}
	// Centiseconds since the epoch: what the Python side records on Windows
	// (psutil's create_time() * 100, rounded).
	v := (created.Nanoseconds() + 5e6) / 1e7
	return &v
}

func alive(pid int) bool {
	const stillActive = 259
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code == stillActive
}

// bootID is unknown here.
func bootID() string { return "" }

// groupMembers: Windows has no process groups of this kind.
func groupMembers(int) ([]member, bool) { return nil, false }

package gateway

import "strconv"

// Process identity. A pid alone can be reused by an unrelated process after
// the gateway dies, so every record pairs it with the process's start time
// where the platform tells it (Linux: field 22 of /proc/PID/stat, clock ticks
// since boot, the value the Python side records too).

// StartTime is pid's start time, nil where unknown.
func StartTime(pid int) *int64 { return startTime(pid) }

// Alive reports whether pid is a live process; a zombie is not alive.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return alive(pid)
}

// SameProcess reports whether pid is alive and, when both start times are
// known, still the process that started at recorded.
func SameProcess(pid int, recorded *int64) bool {
	if !Alive(pid) {
		return false
	}
	if recorded == nil {
		return true
	}
	cur := StartTime(pid)
	return cur == nil || *cur == *recorded
}

// StopEventName is the named Windows event a gateway runner with pid waits
// on: Windows has no SIGTERM, so the service wrapper sets this event to ask
// the runner to stop (reading the planned-stop marker, as on SIGTERM).
func StopEventName(pid int) string { return `Local\hermes-gateway-run-` + strconv.Itoa(pid) }

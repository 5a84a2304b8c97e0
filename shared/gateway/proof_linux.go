package gateway

import (
	"os"
	"path/filepath"
	"strconv"
)

// holdsOpen reports whether pid has the file info describes open, from
// /proc/PID/fd. A folder that cannot be read is known and not holding, with
// why saying so: nothing then proves the lock's holder is pid.
func holdsOpen(pid int, info os.FileInfo) (known, holds bool, why string) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true, false, " (" + dir + " cannot be read: " + err.Error() + ")"
	}
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && os.SameFile(fi, info) {
			return true, true, ""
		}
	}
	return true, false, ""
}

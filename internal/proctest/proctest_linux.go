// Package proctest finds the processes a test left behind, by the
// executable they run; Linux only (it reads /proc).
package proctest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Live lists the live processes (zombies excluded) whose executable
// matches: "pid exe" for each.
func Live(match func(exe string) bool) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !match(exe) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		out = append(out, e.Name()+" "+exe)
	}
	return out
}

// Under matches executables inside dir.
func Under(dir string) func(string) bool {
	return func(exe string) bool { return strings.HasPrefix(exe, dir+string(filepath.Separator)) }
}

// Is matches one executable.
func Is(path string) func(string) bool {
	return func(exe string) bool { return exe == path }
}

//go:build linux

package plugin

import (
	"os"
	"syscall"
)

// platformAttr makes the kernel kill the plugin when the host dies, even by
// SIGKILL, so no plugin outlives its host.
func platformAttr(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// execVia is what to exec to run the plugin file f: the open file itself,
// as the child's fd 3 through /proc, so that the file run is the file
// checked whatever happens to its path meanwhile. Without /proc, its path.
func execVia(f *os.File, path string) (string, []*os.File) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return path, nil
	}
	return "/proc/self/fd/3", []*os.File{f}
}

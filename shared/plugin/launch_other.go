//go:build !linux && !windows

package plugin

import (
	"os"
	"syscall"
)

// platformAttr has nothing to add where the kernel offers no parent-death
// signal; the host's cleanup on exit ends the plugin.
func platformAttr(*syscall.SysProcAttr) {}

// execVia is the plugin's path: the file was opened and checked just
// before, and its folders up to / are ones only root or the user can
// change.
func execVia(_ *os.File, path string) (string, []*os.File) { return path, nil }

//go:build !windows && !linux

package s6

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mkfifoat makes the FIFO name in dir, by path: not every system has
// mkfifoat. mkfifoAt opens what it made without following links and
// checks it is a FIFO.
func mkfifoat(dir *os.File, name string, mode uint32) error {
	return unix.Mkfifo(filepath.Join(dir.Name(), name), mode)
}

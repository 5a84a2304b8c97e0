//go:build !windows && !linux

package s6

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mkfifoat makes the FIFO name in the folder at path (dirfd), by path: not
// every system has mkfifoat. Only used in a staging folder, which no one
// else can write to.
func mkfifoat(_ int, path string, name string, mode uint32) error {
	return unix.Mkfifo(filepath.Join(path, name), mode)
}

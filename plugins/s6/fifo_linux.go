package s6

import (
	"os"

	"golang.org/x/sys/unix"
)

// mkfifoat makes the FIFO name in dir.
func mkfifoat(dir *os.File, name string, mode uint32) error {
	return unix.Mkfifoat(int(dir.Fd()), name, mode)
}

package s6

import "golang.org/x/sys/unix"

// mkfifoat makes the FIFO name in the folder dirfd; path names that
// folder.
func mkfifoat(dirfd int, _ string, name string, mode uint32) error {
	return unix.Mkfifoat(dirfd, name, mode)
}

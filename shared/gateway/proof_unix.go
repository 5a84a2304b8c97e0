//go:build !windows

package gateway

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockHeld probes the lock file at path (info is its Lstat) without
// creating it, following a link or blocking on a pipe: it opens the file
// read-only, checks it is still the one info describes, and tries the lock.
// A lock taken is let go at once.
func lockHeld(path string, info os.FileInfo) (bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	now, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !now.Mode().IsRegular() || !os.SameFile(now, info) {
		return false, errors.New("it changed while being probed")
	}
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	return false, err // nil: free (closing lets it go)
}

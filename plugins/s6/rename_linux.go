package s6

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// exchange swaps two folders in one step (renameat2 RENAME_EXCHANGE), so a
// replaced slot never goes missing; filesystems without it get two renames.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return swapByRenames(a, b)
	}
	return err
}

func swapByRenames(a, b string) error {
	side := filepath.Join(filepath.Dir(b), "."+filepath.Base(b)+".swap")
	if err := os.Rename(b, side); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(side, b)
		return err
	}
	return os.Rename(side, a)
}

//go:build windows

package gateway

import (
	"os"

	"github.com/gofrs/flock"
)

// lockHeld probes the lock file at path without creating it: opened
// read-only, the lock tried and let go at once.
func lockHeld(path string, _ os.FileInfo) (bool, error) {
	fl := flock.New(path, flock.SetFlag(os.O_RDONLY))
	ok, err := fl.TryLock()
	_ = fl.Close()
	if err != nil {
		return false, err
	}
	return !ok, nil
}

// holdsOpen is unknown on Windows.
func holdsOpen(int, os.FileInfo) (known, holds bool, why string) { return false, false, "" }

//go:build !windows

package gateway

import (
	"os"

	"github.com/gofrs/flock"
)

// stateLock is the profile folder itself, opened read-only: no lock file
// that a command run as root could leave unwritable for the service user
// (anyone who may read the folder may lock it).
func stateLock(dir string) *flock.Flock { return flock.New(dir, flock.SetFlag(os.O_RDONLY)) }

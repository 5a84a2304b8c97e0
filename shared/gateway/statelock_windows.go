//go:build windows

package gateway

import (
	"path/filepath"

	"github.com/gofrs/flock"
)

// stateLock is a file beside the state: Windows cannot lock a folder.
func stateLock(dir string) *flock.Flock { return flock.New(filepath.Join(dir, ".gateway_state.lock")) }

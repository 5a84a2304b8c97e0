//go:build !windows && !linux

package s6

import (
	"os"
	"path/filepath"
)

// pinned is how a tool is given dir: by its path (no /proc/self/fd here).
func pinned(dir *os.File) (path string, extra []*os.File) { return dir.Name(), nil }

// pinnedScanDir is the scandir holding ctl, by its path.
func pinnedScanDir(ctl *os.File) (dir string, extra []*os.File, cleanup func(), err error) {
	return filepath.Dir(ctl.Name()), nil, func() {}, nil
}

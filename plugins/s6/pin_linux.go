package s6

import (
	"os"
	"path/filepath"
)

// pinned is how a tool is given dir, a folder this process holds open: as
// its descriptor 3, named /proc/self/fd/3, which resolves to that very
// folder whatever is renamed or planted meanwhile.
func pinned(dir *os.File) (path string, extra []*os.File) {
	return "/proc/self/fd/3", []*os.File{dir}
}

// pinnedScanDir is a scandir for s6-svscanctl whose .s6-svscan is ctl, a
// folder this process holds open: a private folder (0700, this process's)
// holding a link .s6-svscan -> /proc/self/fd/3, the tool's descriptor 3
// being ctl. cleanup removes the private folder.
func pinnedScanDir(ctl *os.File) (dir string, extra []*os.File, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "hermes-svscanctl-")
	if err != nil {
		return "", nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o755); err != nil {
		cleanup()
		return "", nil, nil, err
	}
	if err := os.Symlink("/proc/self/fd/3", filepath.Join(dir, ".s6-svscan")); err != nil {
		cleanup()
		return "", nil, nil, err
	}
	return dir, []*os.File{ctl}, cleanup, nil
}

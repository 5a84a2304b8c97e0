package s6

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	sweepPinnedScanDirs()
	dir, err = os.MkdirTemp("", pinnedPrefix+strconv.Itoa(os.Getpid())+"-")
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

// pinnedPrefix names the private folders of pinnedScanDir, then the pid
// of the process that made them.
const pinnedPrefix = "hermes-svscanctl-"

// sweepPinnedScanDirs removes the private folders whose process is gone (a
// plugin killed while s6-svscanctl ran leaves its folder): only folders,
// only this account's, each name removed by itself, never followed.
func sweepPinnedScanDirs() {
	paths, _ := filepath.Glob(filepath.Join(os.TempDir(), pinnedPrefix+"*"))
	for _, p := range paths {
		pid, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(p), pinnedPrefix), "-")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 || syscall.Kill(n, 0) != syscall.ESRCH {
			continue
		}
		if info, err := os.Lstat(p); err == nil && info.IsDir() && int(info.Sys().(*syscall.Stat_t).Uid) == os.Geteuid() {
			_ = os.RemoveAll(p)
		}
	}
}

//go:build !windows

package discovery

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nousresearch/hermes-service/internal/fserr"
)

// IsExecutable says whether a file with info may be run here.
func IsExecutable(info fs.FileInfo) bool { return info.Mode().Perm()&0o111 != 0 }

// unsafePerms refuses a plugin that anyone could have replaced: a
// world-writable file, or a world-writable folder holding it (the sticky
// bit does not help: whoever created a file there still owns it).
func unsafePerms(path string, info fs.FileInfo) string {
	if info.Mode().Perm()&0o002 != 0 {
		return "the file is world-writable"
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "cannot resolve it: " + fserr.Reason(err)
	}
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(real)} {
		di, err := os.Stat(dir)
		if err != nil {
			return "cannot read its folder: " + fserr.Reason(err)
		}
		if di.Mode().Perm()&0o002 != 0 {
			return "its folder " + dir + " is world-writable"
		}
	}
	return ""
}

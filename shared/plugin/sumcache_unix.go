//go:build !windows

package plugin

import (
	"os"
	"syscall"
)

// identitiesKnown: Unix stat has what fileIdentity needs.
const identitiesKnown = true

// identityOf is the identity of a file from its status (fstat of the open
// file: the one that runs).
func identityOf(info os.FileInfo) (fileIdentity, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdentity{}, false
	}
	return fileIdentity{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size,
		Mtime: timespecNano(statMtime(st)), Ctime: timespecNano(statCtime(st))}, true
}

func timespecNano(ts syscall.Timespec) int64 { return ts.Nano() }

// ownedByMe reports whether this process's user, or root, owns the file.
func ownedByMe(info os.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && (int(st.Uid) == os.Geteuid() || st.Uid == 0)
}

// openNoFollow opens path for reading, refusing a link in its last name.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

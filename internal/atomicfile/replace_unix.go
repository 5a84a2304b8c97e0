//go:build !windows

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

func replace(path string, data []byte, perm os.FileMode, old os.FileInfo) error {
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer f.Cleanup()
	if st, ok := sysStat(old); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		// Only root can give a file away; anyone else writes as themselves.
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil && os.Geteuid() == 0 {
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	beforeReplace()
	if err := f.CloseAtomicallyReplace(); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// sysStat is the owner information of an existing file.
func sysStat(info os.FileInfo) (*syscall.Stat_t, bool) {
	if info == nil {
		return nil, false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	return st, ok
}

// syncDir makes the rename durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

//go:build windows

package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
)

// replace writes a temporary file beside path and renames it over path:
// os.Rename replaces an existing file on Windows (MoveFileEx with
// MOVEFILE_REPLACE_EXISTING).
func replace(path string, data []byte, perm os.FileMode, _ os.FileInfo) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+strings.TrimPrefix(filepath.Base(path), ".")+"_*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	beforeReplace()
	return os.Rename(tmp.Name(), path)
}

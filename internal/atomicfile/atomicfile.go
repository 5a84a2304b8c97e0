// Package atomicfile replaces a file in one step: readers (an init system
// reading a unit or plist, the Python gateway reading gateway_state.json)
// see the old bytes or the new ones, never half of either, and a crash
// mid-write leaves the old file whole. It writes by path: service
// definitions (units, plists) in folders root or the user owns, and a
// Windows home. Files in a Hermes home on Unix, where root works beside the
// home's owner, go through internal/homefs instead. Unix: renameio;
// Windows: a rename over the old file.
package atomicfile

import (
	"os"
	"path/filepath"
)

// beforeReplace runs between writing the temporary file and putting it in
// place; a test makes it crash there.
var beforeReplace = func() {}

// WriteFile replaces path with data through a temporary file beside it,
// synced to disk before it is renamed over path. An existing file keeps
// its permission bits and, on Unix, its owner (root rewriting the service
// user's state must not take it from them); a new one gets perm exactly
// (no umask). The folder is created when missing.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var old os.FileInfo
	if info, err := os.Stat(path); err == nil {
		perm, old = info.Mode().Perm(), info
	}
	return replace(path, data, perm, old)
}

//go:build !windows

package systemd

import "github.com/google/renameio/v2"

// writeFileAtomic replaces path with data through a temporary file beside
// it: systemd never reads half a unit.
func writeFileAtomic(path string, data []byte) error {
	return renameio.WriteFile(path, data, 0o644)
}

//go:build windows

package systemd

import "os"

// writeFileAtomic has no systemd to protect on Windows; the package only
// builds there.
func writeFileAtomic(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

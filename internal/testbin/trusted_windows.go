//go:build windows

package testbin

import "os"

// TrustedRoot is the temporary folder: Windows has no mode bits for plugin
// trust to check.
func TrustedRoot() (string, error) { return os.TempDir(), nil }

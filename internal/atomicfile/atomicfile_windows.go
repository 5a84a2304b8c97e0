//go:build windows

// Package atomicfile replaces a file in one step, so an init system never
// reads half a unit or plist.
package atomicfile

import "os"

// WriteFile writes path; the Unix init systems it serves do not run on
// Windows, where the package only has to build.
func WriteFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

//go:build !windows

// Package atomicfile replaces a file in one step, so an init system never
// reads half a unit or plist.
package atomicfile

import "github.com/google/renameio/v2"

// WriteFile replaces path with data through a temporary file beside it.
func WriteFile(path string, data []byte) error { return renameio.WriteFile(path, data, 0o644) }

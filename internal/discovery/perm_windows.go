//go:build windows

package discovery

import (
	"io/fs"
	"strings"
)

// IsExecutable says whether a file with info may be run here.
func IsExecutable(info fs.FileInfo) bool {
	return strings.HasSuffix(strings.ToLower(info.Name()), ".exe")
}

// unsafePerms has no Unix mode bits to read on Windows; the install folder's
// ACL is the packager's to set.
func unsafePerms(string, fs.FileInfo) string { return "" }

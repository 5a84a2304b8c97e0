//go:build windows

package host

import (
	"io/fs"
	"strings"
)

func isExecutable(info fs.FileInfo) bool {
	return strings.HasSuffix(strings.ToLower(info.Name()), ".exe")
}

// unsafePerms has no Unix mode bits to read on Windows; the install folder's
// ACL is the packager's to set.
func unsafePerms(string, fs.FileInfo) string { return "" }

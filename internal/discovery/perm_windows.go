//go:build windows

package discovery

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nousresearch/hermes-service/internal/fserr"
)

// IsExecutable says whether a file with info may be run here.
func IsExecutable(info fs.FileInfo) bool {
	return strings.HasSuffix(strings.ToLower(info.Name()), ".exe")
}

// resolve has no Unix owners and mode bits to check on Windows: the
// install folder's ACL is the packager's to set. It only resolves the
// path, so that the file checked is the file run.
func resolve(path string) (string, fs.FileInfo, *RefusedError) {
	if !filepath.IsAbs(path) {
		return "", nil, &RefusedError{Path: path, Reason: "not an absolute path"}
	}
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", nil, &RefusedError{Path: path, Reason: "cannot resolve it: " + fserr.Reason(err)}
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", nil, &RefusedError{Path: path, Reason: "cannot read it: " + fserr.Reason(err)}
	}
	return real, info, nil
}

// verifyOpen checks that f is the file resolve looked at.
func verifyOpen(path string, want fs.FileInfo, f *os.File) error {
	got, err := f.Stat()
	if err != nil {
		return &RefusedError{Path: path, Reason: "cannot read the opened file: " + fserr.Reason(err)}
	}
	if want == nil || !os.SameFile(want, got) {
		return &RefusedError{Path: path, Reason: "the file changed between its checks and its launch (another file is there now)",
			Fix: "run the command again; if it happens again, something is replacing the plugin"}
	}
	return nil
}

// CheckEntry has no Unix owners or modes to judge on Windows.
func CheckEntry(string, fs.FileInfo, bool) *RefusedError { return nil }

// Package homefs is how hermes touches a Hermes home: every file and folder
// it creates or rewrites there, every file it reads back.
//
// hermes runs as root (a container's cont-init reconcile, docker exec,
// sudo) on homes that belong to the unprivileged gateway user, who may
// have put anything there: a symlink where gateway_state.json or
// logs/container-boot.log should be, a named pipe, a 200 MB state file.
// So, below the home's root:
//
//   - no symlink is ever followed: every path is resolved from the root's
//     folder descriptor one component at a time with O_NOFOLLOW (Linux
//     first tries a single openat2 with RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH;
//     darwin and other Unixes walk), and a symlink, or anything that is not
//     the regular file or folder expected, is refused with a typed error
//     whose hint says what to remove;
//   - files and folders are created relative to their folder's descriptor
//     (openat with O_EXCL, mkdirat, renameat) and, when root creates them,
//     handed to the home's owner (fchown on the new descriptor, before a
//     rewrite is renamed into place), so nothing root-owned is left in a
//     home that is not root's;
//   - a rewrite is atomic and keeps the old file's mode, and its owner
//     unless that was root's own;
//   - a file is read only up to a cap (MaxFileSize for hermes's own
//     files): a larger one is refused from its size, before any of it is
//     read.
//
// The home's root itself is the operator's choice ($HERMES_HOME, --home): a
// symlink on the way to it is followed only when it, and the folder holding
// it, belong to root or to whoever runs hermes.
//
// Windows keeps plain path-based access (its homes are the user's own).
// Paths below the root ("rel") are slash-separated and may not leave it.
package homefs

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/nousresearch/hermes-service/shared/service"
)

// MaxFileSize is the most hermes reads of any file of its own in a home
// (state, markers, pid records, registration settings): each is a few
// hundred bytes; a megabyte is nobody's.
const MaxFileSize = 1 << 20

// Sentinels for errors.Is.
var (
	// ErrUnsafe matches a path hermes refuses to use: a symlink, or not
	// the kind of file it expects.
	ErrUnsafe = errors.New("unsafe path in the Hermes home")
	// ErrTooLarge matches a file over its read cap.
	ErrTooLarge = errors.New("file too large")
)

// SymlinkError is a symlink where hermes expects its own file or folder.
type SymlinkError struct{ Path string }

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("refusing to use %s: it is a symbolic link, and hermes follows none inside a Hermes home", e.Path)
}

// Hint says what to remove.
func (e *SymlinkError) Hint() string {
	return "remove the link (rm " + shellQuote(e.Path) + ") and run the command again: hermes makes a real file or folder there itself"
}

// Is matches ErrUnsafe.
func (e *SymlinkError) Is(target error) bool { return target == ErrUnsafe }

// NotRegularError is something other than what hermes expects at a path: a
// folder, a named pipe or a device where its file should be, a file where
// a folder should be, a file with more than one hard link.
type NotRegularError struct {
	Path  string
	Found string // "a named pipe"
	Want  string // "a regular file"
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("refusing to use %s: it is %s, not %s", e.Path, e.Found, e.Want)
}

// Hint says what to remove.
func (e *NotRegularError) Hint() string {
	return "move it away or remove it (rm -r " + shellQuote(e.Path) + ") and run the command again: hermes makes " + e.Want + " there itself"
}

// Is matches ErrUnsafe.
func (e *NotRegularError) Is(target error) bool { return target == ErrUnsafe }

// TooLargeError is a file over its read cap: refused from its size, unread.
type TooLargeError struct {
	Path      string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("refusing to read %s: it is %s, more than the %s hermes reads of it", e.Path, size(e.Size), size(e.Max))
}

// Hint says what to do.
func (e *TooLargeError) Hint() string {
	return "hermes never writes a file this large: move it away or remove it (rm " + shellQuote(e.Path) + ") and run the command again"
}

// Is matches ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// shellQuote quotes p for a hint a person pastes into a shell.
func shellQuote(p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@", r))
	}) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// components splits rel into its names; "" and "." are the root. A path
// that is absolute or climbs out of the root is refused.
func components(rel string) ([]string, error) {
	rel = path.Clean(filepath.ToSlash(rel))
	if rel == "." {
		return nil, nil
	}
	if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("homefs: %q is not a path inside the home", rel)
	}
	return strings.Split(rel, "/"), nil
}

// ProfileRoot splits a profile's folder, as gateway.Home.ProfileDir makes
// it, into the home's root and the folder's path below it:
// <root>/profiles/<name> for a named profile (a valid name, not
// "default"), else the folder is the root itself (the default profile).
func ProfileRoot(dir string) (root, rel string) {
	dir = filepath.Clean(dir)
	parent, name := filepath.Dir(dir), filepath.Base(dir)
	if filepath.Base(parent) == "profiles" && name != service.DefaultProfile && service.ValidateProfile(name) == nil {
		return filepath.Dir(parent), "profiles/" + name
	}
	return dir, "."
}

// OpenProfile opens the home holding the profile folder dir (see
// ProfileRoot) and returns it with the folder's path below its root. With
// create, a missing root is made (as whoever runs hermes); the profile's
// folder is not (MkdirAll it, or let a write make it).
func OpenProfile(dir string, create bool) (*Home, string, error) {
	root, rel := ProfileRoot(dir)
	open := Open
	if create {
		open = OpenCreate
	}
	h, err := open(root)
	if err != nil {
		return nil, "", err
	}
	return h, rel, nil
}

// Join is rel's child name, slash-separated.
func Join(elem ...string) string { return path.Join(elem...) }

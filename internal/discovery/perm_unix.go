//go:build !windows

package discovery

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/nousresearch/hermes-service/internal/fserr"
)

// IsExecutable says whether a file with info may be run here.
func IsExecutable(info fs.FileInfo) bool { return info.Mode().Perm()&0o111 != 0 }

// maxLinks is how many symbolic links resolve follows, as the kernel's
// ELOOP limit does.
const maxLinks = 40

// trustedUIDs are the accounts a plugin's file and folders may belong to:
// root, and the real user running hermes (root again under sudo, whose
// real uid is root's).
func trustedUIDs() []uint32 {
	if uid := uint32(os.Getuid()); uid != 0 {
		return []uint32{0, uid}
	}
	return []uint32{0}
}

func trustedUID(uid uint32) bool {
	for _, t := range trustedUIDs() {
		if uid == t {
			return true
		}
	}
	return false
}

// trustedOwners names trustedUIDs for a person: "root", "root or alice".
func trustedOwners() string {
	names := make([]string, 0, 2)
	for _, uid := range trustedUIDs() {
		names = append(names, userName(uid))
	}
	return strings.Join(names, " or ")
}

// fixOwner is who a chown in a hint should give a path to: root when
// hermes runs as root, else the user (root would do too, but needs sudo).
func fixOwner() string { return userName(uint32(os.Getuid())) }

func userName(uid uint32) string {
	if uid == 0 {
		return "root"
	}
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return "uid " + strconv.FormatUint(uint64(uid), 10)
}

// resolve follows path from / one name at a time, as the kernel does when
// it runs the file, and checks every folder it looks a name up in (the
// plugin's folders up to /, and the folders of any symbolic link on the
// way) and the file at the end: each must be owned by root or the user
// running hermes and writable by nobody else, as sudo and ssh's StrictModes
// demand. A sticky world-writable folder such as /tmp is no exception:
// whoever can create a name there can plant a plugin folder there. It
// returns the file's real path and what it is, or why it is refused.
func resolve(path string) (string, fs.FileInfo, *RefusedError) {
	refuse := func(reason, fix string) (string, fs.FileInfo, *RefusedError) {
		return "", nil, &RefusedError{Path: path, Reason: reason, Fix: fix}
	}
	if !filepath.IsAbs(path) {
		return refuse("not an absolute path", "")
	}
	root, err := os.Lstat("/")
	if err != nil {
		return refuse("cannot read /: "+fserr.Reason(err), "")
	}
	if r := checkEntry("/", root, false); r != nil {
		r.Path = path
		return "", nil, r
	}
	todo := splitPath(path)
	cur, links := "/", 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // checked on the way down
			continue
		}
		next := filepath.Join(cur, name)
		info, err := os.Lstat(next)
		if err != nil {
			return refuse("cannot resolve "+next+": "+fserr.Reason(err), "")
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return refuse("too many symbolic links on the way to it", "")
			}
			target, err := os.Readlink(next)
			if err != nil {
				return refuse("cannot read the link "+next+": "+fserr.Reason(err), "")
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			todo = append(splitPath(target), todo...)
			continue
		}
		last := len(todo) == 0
		if !last && !info.IsDir() {
			return refuse(next+" is not a folder", "")
		}
		if r := checkEntry(next, info, last); r != nil {
			r.Path = path
			return "", nil, r
		}
		if last {
			return next, info, nil
		}
		cur = next
	}
	return refuse("it resolves to a folder, not a file", "")
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CheckEntry is the trust rule for one folder on a plugin's path (or, when
// file, the plugin file itself), as a launch applies it: nil when it is
// safe, else why not and the fix. hermes doctor reports with it.
func CheckEntry(path string, info fs.FileInfo, file bool) *RefusedError {
	return checkEntry(path, info, file)
}

// checkEntry refuses a folder (or, when file, the plugin file) that someone
// other than root or the user could change: owned by another account, or
// writable by its group or by others. The reason names the path, its owner
// and its mode; the fix is the command that makes it safe.
func checkEntry(path string, info fs.FileInfo, file bool) *RefusedError {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	what := "its folder " + path
	if file {
		what = "the file"
	}
	mode := uint32(st.Mode) & 0o7777
	facts := fmt.Sprintf("owner %s, mode %04o", userName(st.Uid), mode)
	switch {
	case !trustedUID(st.Uid):
		return &RefusedError{
			Reason: fmt.Sprintf("%s is owned by %s (uid %d, mode %04o): a plugin and every folder above it must belong to %s",
				what, userName(st.Uid), st.Uid, mode, trustedOwners()),
			Fix: fmt.Sprintf("chown %s %s", fixOwner(), path),
		}
	case mode&0o002 != 0 && mode&0o1000 != 0 && !file:
		return &RefusedError{
			Reason: fmt.Sprintf("%s is world-writable (%s): anyone can plant a plugin folder there, the sticky bit notwithstanding", what, facts),
			Fix:    fmt.Sprintf("move the plugin out of %s, into a folder only %s can change (e.g. /usr/local/lib/hermes/plugins)", path, trustedOwners()),
		}
	case mode&0o002 != 0:
		return &RefusedError{
			Reason: fmt.Sprintf("%s is world-writable (%s): anyone could replace the plugin", what, facts),
			Fix:    "chmod go-w " + path,
		}
	case mode&0o020 != 0:
		return &RefusedError{
			Reason: fmt.Sprintf("%s is writable by its group (%s, group %s): its members could replace the plugin", what, facts, groupName(st.Gid)),
			Fix:    "chmod g-w " + path,
		}
	}
	return nil
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return "gid " + strconv.FormatUint(uint64(gid), 10)
}

// verifyOpen checks that f, opened for running, is the file resolve looked
// at (the same inode: nothing was swapped in since) and still passes the
// file's own checks.
func verifyOpen(path string, want fs.FileInfo, f *os.File) error {
	got, err := f.Stat()
	if err != nil {
		return &RefusedError{Path: path, Reason: "cannot read the opened file: " + fserr.Reason(err)}
	}
	if want == nil || !os.SameFile(want, got) {
		return &RefusedError{Path: path, Reason: "the file changed between its checks and its launch (another file is there now)",
			Fix: "run the command again; if it happens again, something is replacing the plugin"}
	}
	if r := checkEntry(path, got, true); r != nil {
		r.Path = path
		return r
	}
	if !got.Mode().IsRegular() {
		return &RefusedError{Path: path, Reason: "not a regular file"}
	}
	return nil
}

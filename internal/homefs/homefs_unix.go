//go:build unix

package homefs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Home is a Hermes home opened for hermes's own files: a descriptor on its
// root folder, and the root's owner, to whom everything root creates in it
// is given. Close it when done.
type Home struct {
	root     string
	fd       int
	uid, gid int
}

// beforeReplace runs between writing a rewrite's temporary file and
// renaming it into place; a test makes it crash there.
var beforeReplace = func() {}

const (
	dirFlags  = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW
	fileFlags = unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NOCTTY
)

// Open opens the home whose root folder is root, which must exist.
func Open(root string) (*Home, error) { return open(root, false) }

// OpenCreate opens the home at root, making the root (and missing folders
// above it) first, as whoever runs hermes.
func OpenCreate(root string) (*Home, error) { return open(root, true) }

func open(root string, create bool) (*Home, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fd := lastRoot.reopen(abs)
	if fd < 0 {
		if fd, err = openTrusted(abs, create); err != nil {
			return nil, err
		}
		lastRoot.keep(abs, fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: abs, Err: err}
	}
	return &Home{root: abs, fd: fd, uid: int(st.Uid), gid: int(st.Gid)}, nil
}

// trustedRoot is the home root openTrusted last opened: a boot's reconcile
// opens the same home three times for each of a thousand profiles, and
// openTrusted walks from / checking every link on the way.
type trustedRoot struct {
	mu       sync.Mutex
	abs      string
	fd       int
	dev, ino uint64
}

var lastRoot = trustedRoot{fd: -1}

// keep remembers a copy of fd, the folder openTrusted opened for abs.
func (r *trustedRoot) keep(abs string, fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd >= 0 {
		unix.Close(r.fd)
	}
	r.abs, r.fd, r.dev, r.ino = abs, dup, uint64(st.Dev), uint64(st.Ino)
}

// reopen is a new descriptor on the kept folder when abs still leads to
// it (the same device and inode): the walk proved that folder trusted, and
// a path that reaches the very same folder reaches nothing else. -1 when
// it does not.
func (r *trustedRoot) reopen(abs string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fd < 0 || r.abs != abs {
		return -1
	}
	var st unix.Stat_t
	if unix.Stat(abs, &st) != nil || uint64(st.Dev) != r.dev || uint64(st.Ino) != r.ino {
		return -1
	}
	fd, err := unix.FcntlInt(uintptr(r.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// Close releases the root's descriptor.
func (h *Home) Close() error {
	if h == nil || h.fd < 0 {
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	return err
}

// Root is the home's root folder, absolute.
func (h *Home) Root() string { return h.root }

// Path is rel as a path on this machine, for messages.
func (h *Home) Path(rel string) string { return filepath.Join(h.root, filepath.FromSlash(rel)) }

// Owner is the uid and gid of the home's root: who everything hermes
// creates in it belongs to.
func (h *Home) Owner() (uid, gid int) { return h.uid, h.gid }

// openTrusted opens the folder at the absolute path abs. A symlink on the
// way is followed only when it and the folder holding it belong to root or
// to this process's user: the operator's own links (/var -> /private/var,
// a volume linked into place), never one another user could have made.
func openTrusted(abs string, create bool) (int, error) {
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	names := strings.Split(strings.TrimPrefix(filepath.ToSlash(abs), "/"), "/")
	walked, hops := "", 0
	for len(names) > 0 {
		name := names[0]
		names = names[1:]
		if name == "" || name == "." {
			continue
		}
		here := walked + "/" + name
		next, err := unix.Openat(fd, name, dirFlags, 0)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(fd, name, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				next, err = unix.Openat(fd, name, dirFlags, 0)
			}
		}
		if err != nil && isLinkErr(err) {
			var st unix.Stat_t
			if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				if !trustedLink(fd, &st) {
					unix.Close(fd)
					return -1, &SymlinkError{Path: here}
				}
				if hops++; hops > 40 {
					unix.Close(fd)
					return -1, &os.PathError{Op: "open", Path: abs, Err: unix.ELOOP}
				}
				target, err := readlinkat(fd, name)
				if err != nil {
					unix.Close(fd)
					return -1, &os.PathError{Op: "readlink", Path: here, Err: err}
				}
				if strings.HasPrefix(target, "/") {
					unix.Close(fd)
					if fd, err = unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
						return -1, &os.PathError{Op: "open", Path: "/", Err: err}
					}
					walked = ""
				}
				names = append(strings.Split(strings.TrimPrefix(target, "/"), "/"), names...)
				continue
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, classify(err, here, "a folder", -1, "")
		}
		fd, walked = next, here
	}
	return fd, nil
}

// trustedLink: the link, and the folder fd holding it, belong to root or
// to this process's user.
func trustedLink(fd int, link *unix.Stat_t) bool {
	ours := func(uid uint32) bool { return uid == 0 || int(uid) == os.Geteuid() }
	var dir unix.Stat_t
	return ours(link.Uid) && unix.Fstat(fd, &dir) == nil && ours(dir.Uid)
}

func readlinkat(fd int, name string) (string, error) {
	for n := 256; ; n *= 2 {
		buf := make([]byte, n)
		m, err := unix.Readlinkat(fd, name, buf)
		if err != nil {
			return "", err
		}
		if m < n {
			return string(buf[:m]), nil
		}
	}
}

// isLinkErr is what opening a symlink (or a non-folder with O_DIRECTORY)
// with O_NOFOLLOW answers: ELOOP on Linux and darwin, EMLINK on FreeBSD,
// ENOTDIR for a file where a folder was asked for.
func isLinkErr(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) || errors.Is(err, unix.ENOTDIR)
}

// classify turns a failed open of name (in the folder dirfd, when >= 0)
// into the error a person reads: a symlink or a wrong kind of file is
// refused by name; anything else is a *os.PathError.
func classify(err error, full, want string, dirfd int, name string) error {
	if dirfd >= 0 && isLinkErr(err) {
		var st unix.Stat_t
		if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return &SymlinkError{Path: full}
			}
			return &NotRegularError{Path: full, Found: kind(uint32(st.Mode)), Want: want}
		}
	}
	if dirfd < 0 && errors.Is(err, unix.ENOTDIR) {
		return &NotRegularError{Path: full, Found: "not a folder", Want: want}
	}
	return &os.PathError{Op: "open", Path: full, Err: err}
}

// kind names a file's type for a message.
func kind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFDIR:
		return "a folder"
	case unix.S_IFIFO:
		return "a named pipe"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFREG:
		return "a regular file"
	}
	return "a special file"
}

// openDir opens the folder rel below the root without following a
// symlink anywhere; with create, missing folders are made with perm (under
// the umask) and given to the home's owner.
func (h *Home) openDir(rel string, create bool, perm os.FileMode) (int, error) {
	names, err := components(rel)
	if err != nil {
		return -1, err
	}
	if len(names) == 0 {
		fd, err := unix.Openat(h.fd, ".", dirFlags, 0)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: h.root, Err: err}
		}
		return fd, nil
	}
	// One call where the kernel resolves the whole path itself, refusing
	// any symlink and any escape; the walk below when it cannot (an old
	// kernel, darwin), or to make missing folders and name what is wrong.
	fd, err := openBeneath(h.fd, strings.Join(names, "/"))
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOENT) && !create:
		return -1, &os.PathError{Op: "open", Path: h.Path(rel), Err: err}
	}
	cur, err := unix.Openat(h.fd, ".", dirFlags, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: h.root, Err: err}
	}
	for i, name := range names {
		next, err := unix.Openat(cur, name, dirFlags, 0)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(cur, name, uint32(perm.Perm())); err == nil {
				if next, err = unix.Openat(cur, name, dirFlags, 0); err == nil {
					err = h.give(next)
				}
			} else if errors.Is(err, unix.EEXIST) { // made meanwhile
				next, err = unix.Openat(cur, name, dirFlags, 0)
			}
		}
		if err != nil {
			err = classify(err, h.Path(strings.Join(names[:i+1], "/")), "a folder", cur, name)
			if next >= 0 {
				unix.Close(next)
			}
			unix.Close(cur)
			return -1, err
		}
		unix.Close(cur)
		cur = next
	}
	return cur, nil
}

// give hands a file or folder root just made to the home's owner.
func (h *Home) give(fd int) error {
	if os.Geteuid() != 0 || h.uid == 0 {
		return nil
	}
	return unix.Fchown(fd, h.uid, h.gid)
}

// parent opens rel's folder (made when create) and returns its descriptor
// and rel's last name.
func (h *Home) parent(rel string, create bool) (int, string, error) {
	names, err := components(rel)
	if err != nil {
		return -1, "", err
	}
	if len(names) == 0 {
		return -1, "", fmt.Errorf("homefs: the home's root is not a file")
	}
	fd, err := h.openDir(strings.Join(names[:len(names)-1], "/"), create, 0o755)
	return fd, names[len(names)-1], err
}

// openFile opens the regular file name in dirfd with flags, never through
// a symlink, never a named pipe or device; with create, a missing one is
// made with perm exactly and given to the home's owner. inPlace is a file
// hermes appends to or locks where it is: it must have one link, since a
// hard link to a file outside the home would have hermes write there (an
// existing file keeps its owner: handing a root-owned one to the home's
// owner would give them whatever it holds). created says whether it was
// made now.
func (h *Home) openFile(dirfd int, name, rel string, flags int, create, inPlace bool, perm os.FileMode) (fd int, created bool, err error) {
	full := h.Path(rel)
	var st unix.Stat_t
	// Look before opening: opening a pipe or a device may block or act.
	switch err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == nil:
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return -1, false, &SymlinkError{Path: full}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return -1, false, &NotRegularError{Path: full, Found: kind(uint32(st.Mode)), Want: "a regular file"}
		}
	case errors.Is(err, unix.ENOENT) && create:
		fd, err = unix.Openat(dirfd, name, flags|fileFlags|unix.O_CREAT|unix.O_EXCL, 0o600)
		if err == nil {
			if err = h.give(fd); err == nil {
				err = unix.Fchmod(fd, uint32(perm.Perm()))
			}
			if err != nil {
				unix.Close(fd)
				_ = unix.Unlinkat(dirfd, name, 0)
				return -1, false, &os.PathError{Op: "create", Path: full, Err: err}
			}
			return fd, true, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return -1, false, classify(err, full, "a regular file", dirfd, name)
		}
		// Made meanwhile: open what is there now.
	case errors.Is(err, unix.ENOENT):
		return -1, false, &os.PathError{Op: "open", Path: full, Err: err}
	default:
		return -1, false, &os.PathError{Op: "stat", Path: full, Err: err}
	}
	fd, err = unix.Openat(dirfd, name, flags|fileFlags|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, false, classify(err, full, "a regular file", dirfd, name)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, false, &os.PathError{Op: "stat", Path: full, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, false, &NotRegularError{Path: full, Found: kind(uint32(st.Mode)), Want: "a regular file"}
	}
	if inPlace && st.Nlink > 1 {
		unix.Close(fd)
		return -1, false, &NotRegularError{Path: full, Found: fmt.Sprintf("a file with %d hard links", st.Nlink), Want: "a file of its own"}
	}
	return fd, false, nil
}

// MkdirAll makes the folder rel and any missing parents, each with perm
// (under the umask) and given to the home's owner; a symlink on the way is
// refused.
func (h *Home) MkdirAll(rel string, perm os.FileMode) error {
	fd, err := h.openDir(rel, true, perm)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// WriteFileAtomic replaces rel with data in one step: a temporary file
// beside it, owned and moded as the result must be, synced, then renamed
// over it. A rewrite keeps the old file's permission bits, and its owner
// unless that was this process's own user (root's file in another's home
// goes to the home's owner); a new file gets perm exactly (no umask) and,
// made by root, the home's owner. Missing folders are made; a symlink or
// anything but a regular file at rel is refused.
func (h *Home) WriteFileAtomic(rel string, data []byte, perm os.FileMode) error {
	dirfd, name, err := h.parent(rel, true)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	full := h.Path(rel)
	uid, gid := h.uid, h.gid
	var st unix.Stat_t
	switch err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == nil:
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return &SymlinkError{Path: full}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return &NotRegularError{Path: full, Found: kind(uint32(st.Mode)), Want: "a regular file"}
		}
		perm = os.FileMode(st.Mode & 0o777)
		if int(st.Uid) != os.Geteuid() {
			uid, gid = int(st.Uid), int(st.Gid) // someone else's: it stays theirs
		}
	case errors.Is(err, unix.ENOENT):
	default:
		return &os.PathError{Op: "stat", Path: full, Err: err}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := "." + strings.TrimPrefix(name, ".") + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|fileFlags, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: h.Path(Join(rel, "..", tmp)), Err: err}
	}
	f := os.NewFile(uintptr(fd), tmp)
	done := false
	defer func() {
		if !done {
			f.Close()
			_ = unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if os.Geteuid() == 0 && uid != 0 {
		if err := unix.Fchown(fd, uid, gid); err != nil {
			return &os.PathError{Op: "chown", Path: full, Err: err}
		}
	}
	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		return &os.PathError{Op: "chmod", Path: full, Err: err}
	}
	if _, err := f.Write(data); err != nil {
		return &os.PathError{Op: "write", Path: full, Err: err}
	}
	if err := f.Sync(); err != nil {
		return &os.PathError{Op: "sync", Path: full, Err: err}
	}
	if err := f.Close(); err != nil {
		return &os.PathError{Op: "close", Path: full, Err: err}
	}
	beforeReplace()
	if err := unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		_ = unix.Unlinkat(dirfd, tmp, 0)
		done = true
		return &os.PathError{Op: "rename", Path: full, Err: err}
	}
	done = true
	_ = unix.Fsync(dirfd) // the rename's durability; best effort
	return nil
}

// Append opens rel for appending, made (perm exactly, the home's owner's)
// when missing along with its folders. A symlink, a file with other links,
// or anything but a regular file is refused.
func (h *Home) Append(rel string, perm os.FileMode) (*os.File, error) {
	dirfd, name, err := h.parent(rel, true)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	fd, _, err := h.openFile(dirfd, name, rel, unix.O_WRONLY|unix.O_APPEND, true, true, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), h.Path(rel)), nil
}

// ReadFile reads rel, refusing a file larger than max from its size before
// reading any of it (and one that grows past max while read). A missing
// file (or folder) is an error matching fs.ErrNotExist.
func (h *Home) ReadFile(rel string, max int64) ([]byte, error) {
	dirfd, name, err := h.parent(rel, false)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	fd, _, err := h.openFile(dirfd, name, rel, unix.O_RDONLY, false, false, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), h.Path(rel))
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: h.Path(rel), Err: err}
	}
	if st.Size > max {
		return nil, &TooLargeError{Path: h.Path(rel), Size: st.Size, Max: max}
	}
	var b bytes.Buffer
	b.Grow(int(st.Size) + 1)
	n, err := b.ReadFrom(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: h.Path(rel), Err: err}
	}
	if n > max {
		return nil, &TooLargeError{Path: h.Path(rel), Size: n, Max: max}
	}
	return b.Bytes(), nil
}

// Exists reports whether something is at rel (a final symlink is
// followed for this look only; the folders on the way never are).
func (h *Home) Exists(rel string) bool {
	dirfd, name, err := h.parent(rel, false)
	if err != nil {
		return false
	}
	defer unix.Close(dirfd)
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, 0) == nil
}

// ReadDir lists the folder rel, sorted by name; entries are not followed
// (a symlink's Type says so).
func (h *Home) ReadDir(rel string) ([]fs.DirEntry, error) {
	fd, err := h.openDir(rel, false, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), h.Path(rel))
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// Remove removes the file rel (a symlink there is removed, never
// followed). A missing one is an error matching fs.ErrNotExist.
func (h *Home) Remove(rel string) error {
	dirfd, name, err := h.parent(rel, false)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	if err := unix.Unlinkat(dirfd, name, 0); err != nil {
		return &os.PathError{Op: "remove", Path: h.Path(rel), Err: err}
	}
	return nil
}

// Rename moves from to to, both below the root (whatever is at to, a
// symlink included, is replaced, never followed).
func (h *Home) Rename(from, to string) error {
	fromDir, fromName, err := h.parent(from, false)
	if err != nil {
		return err
	}
	defer unix.Close(fromDir)
	toDir, toName, err := h.parent(to, true)
	if err != nil {
		return err
	}
	defer unix.Close(toDir)
	if err := unix.Renameat(fromDir, fromName, toDir, toName); err != nil {
		return &os.LinkError{Op: "rename", Old: h.Path(from), New: h.Path(to), Err: err}
	}
	return nil
}

// Lock is an exclusive lock hermes holds on a file or folder of a home;
// the kernel releases it when the holder dies, however it dies.
type Lock struct{ f *os.File }

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.f.Close() }

// LockDir takes an exclusive lock on the folder rel (made when missing),
// polling every poll until ctx ends: a lock on the folder itself, so no
// lock file is ever left behind, by root or anyone.
func (h *Home) LockDir(ctx context.Context, rel string, poll time.Duration) (*Lock, error) {
	fd, err := h.openDir(rel, true, 0o755)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), h.Path(rel))
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, &os.PathError{Op: "lock", Path: h.Path(rel), Err: err}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", h.Path(rel), ctx.Err())
		case <-time.After(poll):
		}
	}
}

// TryLockFile takes the lock file rel without waiting (made, perm and the
// home owner's, when missing); ok is false when another process holds it.
func (h *Home) TryLockFile(rel string, perm os.FileMode) (l *Lock, ok bool, err error) {
	dirfd, name, err := h.parent(rel, true)
	if err != nil {
		return nil, false, err
	}
	defer unix.Close(dirfd)
	fd, _, err := h.openFile(dirfd, name, rel, unix.O_RDONLY, true, true, perm)
	if err != nil {
		return nil, false, err
	}
	return tryLock(fd, h.Path(rel))
}

// FileLocked reports whether another process holds the lock file rel. It
// makes nothing: no file, no holder.
func (h *Home) FileLocked(rel string) (bool, error) {
	dirfd, name, err := h.parent(rel, false)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer unix.Close(dirfd)
	fd, _, err := h.openFile(dirfd, name, rel, unix.O_RDONLY, false, false, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	l, ok, err := tryLock(fd, h.Path(rel))
	if ok {
		_ = l.Unlock()
	}
	return !ok && err == nil, err
}

func tryLock(fd int, full string) (*Lock, bool, error) {
	f := os.NewFile(uintptr(fd), full)
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return &Lock{f: f}, true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			f.Close()
			return nil, false, nil
		}
		f.Close()
		return nil, false, &os.PathError{Op: "lock", Path: full, Err: err}
	}
}

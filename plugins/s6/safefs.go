//go:build !windows

package s6

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The scandir is writable by others than the process that registers: in
// upstream's image hermes runs as root while /run/service belongs to the
// gateway's user, who may also write in each slot's supervise skeleton
// (seedSkeleton hands it over). Whatever hermes creates, changes or opens
// there it reaches from a folder it holds open, one name at a time, never
// following a symbolic link (O_NOFOLLOW, *at calls): a link planted at a
// slot, its down file, supervise, log or event cannot lead a write, chmod
// or chown outside. What cannot be done that way is refused with an
// *unsafeError.

// unsafeError is a scandir entry hermes will not work through: a symbolic
// link, or something other than what hermes made there.
type unsafeError struct {
	Path   string
	Reason string
}

func (e *unsafeError) Error() string {
	return fmt.Sprintf("refusing to use %s: %s", e.Path, e.Reason)
}

// Hint says what to do.
func (e *unsafeError) Hint() string {
	return "hermes never makes symbolic links or other files there: someone who can write the scandir did; " +
		"remove it (and check who can write " + filepath.Dir(e.Path) + "), then run the command again"
}

// openFlags are added to every open here: no link followed, no process
// given the descriptor.
const openFlags = unix.O_NOFOLLOW | unix.O_CLOEXEC

// openDirAt opens the folder name in dir (a descriptor), refusing a
// symbolic link or anything that is not a folder. path names it in errors.
func openDirAt(dir *os.File, name string) (*os.File, error) {
	path := filepath.Join(dir.Name(), name)
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|openFlags, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return nil, &unsafeError{Path: path, Reason: "it is a symbolic link or not a folder"}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openScanDir opens the scandir itself (the operator's configuration: a
// link there is followed).
func (c Config) openScanDir() (*os.File, error) {
	f, err := os.OpenFile(c.ScanDir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, scanDirError(c.ScanDir, err)
	}
	return f, nil
}

// openSlot opens the profile's slot folder from the scandir: a slot that is
// a symbolic link is refused.
func (c Config) openSlot(profile string) (*os.File, error) {
	scan, err := c.openScanDir()
	if err != nil {
		return nil, err
	}
	defer scan.Close()
	return openDirAt(scan, slotName(profile))
}

// fstat is f's status.
func fstat(f *os.File) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstat(int(f.Fd()), &st)
	return st, err
}

// lstatAt is the status of name in dir, a link not followed; ok is false
// when there is nothing by that name.
func lstatAt(dir *os.File, name string) (st unix.Stat_t, ok bool, err error) {
	err = unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	return st, err == nil, err
}

// isType reports whether a status is of the file type t (unix.S_IFDIR, ...).
func isType(st unix.Stat_t, t uint32) bool { return uint32(st.Mode)&unix.S_IFMT == t }

// createFileAt creates name in dir with content and exactly mode (fchmod,
// when the umask took bits away), failing if anything is there already.
func createFileAt(dir *os.File, name, content string, mode uint32) error {
	return createIn(int(dir.Fd()), name, filepath.Join(dir.Name(), name), content, mode)
}

// createIn is createFileAt of the folder held open as dirfd (path names the
// new file in errors). A plain descriptor, not an *os.File: a boot creates
// thousands of these.
func createIn(dirfd int, name, path, content string, mode uint32) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|openFlags, mode)
	if err != nil {
		return &os.PathError{Op: "create", Path: path, Err: err}
	}
	defer func() {
		if fd >= 0 {
			unix.Close(fd)
		}
	}()
	if err := writeAll(fd, content); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	if mode&umask() != 0 {
		if err := unix.Fchmod(fd, mode); err != nil {
			return &os.PathError{Op: "chmod", Path: path, Err: err}
		}
	}
	err = unix.Close(fd)
	fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}

// openRegularAt opens the regular file name in dir for reading, refusing a
// link, a FIFO (which would block) or a device; ok is false when there is
// none.
func openRegularAt(dir *os.File, name string) (f *os.File, ok bool, err error) {
	path := filepath.Join(dir.Name(), name)
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_NONBLOCK|openFlags, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, false, nil
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, false, &unsafeError{Path: path, Reason: "it is a symbolic link"}
		}
		return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f = os.NewFile(uintptr(fd), path)
	if st, err := fstat(f); err != nil || !isType(st, unix.S_IFREG) {
		f.Close()
		return nil, false, &unsafeError{Path: path, Reason: "it is not a regular file"}
	}
	return f, true, nil
}

// readFileAt reads at most limit bytes of the regular file at rel (a path
// of names below dir, each folder opened without following links); ok is
// false when it or a folder on the way is missing.
func readFileAt(dir *os.File, rel string, limit int64) (data []byte, ok bool, err error) {
	parent, name, err := walkAt(dir, rel)
	if err != nil || parent == nil {
		return nil, false, err
	}
	if parent != dir {
		defer parent.Close()
	}
	f, ok, err := openRegularAt(parent, name)
	if !ok || err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, limit))
	return data, err == nil, err
}

// walkAt opens the folders of rel's path below dir, each without following
// links, and returns the last one with rel's last name; parent is nil when
// a folder on the way is missing. A parent other than dir is the caller's
// to close.
func walkAt(dir *os.File, rel string) (parent *os.File, name string, err error) {
	parts := strings.Split(rel, "/")
	parent = dir
	for _, p := range parts[:len(parts)-1] {
		next, err := openDirAt(parent, p)
		if parent != dir {
			parent.Close()
		}
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) && errors.Is(pe.Err, unix.ENOENT) {
				return nil, "", nil
			}
			return nil, "", err
		}
		parent = next
	}
	return parent, parts[len(parts)-1], nil
}

// lockAt takes an exclusive flock on the lock file name in dir, created
// (0644, less the umask) when missing, polling until ctx ends: a link or
// anything but a regular file is refused. The lock goes with the returned
// lock's Close. Readable by all, so that root and the service user, who
// may both run hermes on the slot, can each open (and flock) the lock the
// other made: a flock needs no more than a read descriptor.
func lockAt(ctx context.Context, dir *os.File, name string) (*heldLock, error) {
	path := filepath.Join(dir.Name(), name)
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_CREAT|unix.O_NONBLOCK|openFlags, 0o644)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, &unsafeError{Path: path, Reason: "it is a symbolic link"}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || !isType(st, unix.S_IFREG) {
		unix.Close(fd)
		return nil, &unsafeError{Path: path, Reason: "it is not a regular file"}
	}
	if err := flockPoll(ctx, fd, path); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &heldLock{fd: fd, dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// heldLock is a lock file lockAt holds: a plain descriptor (a boot takes a
// thousand), and the file's identity.
type heldLock struct {
	fd       int
	dev, ino uint64
}

// Close lets the lock go.
func (l *heldLock) Close() error { return unix.Close(l.fd) }

// waitLockAt waits (until ctx ends) for whoever holds the flock on the
// regular file at rel below dir to let go, taking and keeping it; the
// file's Close releases it. No file, or no regular file, is nothing to
// wait for: nil.
func waitLockAt(ctx context.Context, dir *os.File, rel string) (*os.File, error) {
	parent, name, err := walkAt(dir, rel)
	if err != nil || parent == nil {
		return nil, err
	}
	if parent != dir {
		defer parent.Close()
	}
	f, ok, err := openRegularAt(parent, name)
	if !ok || err != nil {
		return nil, err
	}
	if err := flockPoll(ctx, int(f.Fd()), f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// flockPoll takes an exclusive flock on fd (the file at path), trying
// every 5 ms until ctx ends.
func flockPoll(ctx context.Context, fd int, path string) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return &os.PathError{Op: "flock", Path: path, Err: err}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// openDirNoFollow opens the folder at path, its last name not followed if
// it is a link (the folders above it are the operator's configuration).
func openDirNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && (errors.Is(pe.Err, unix.ELOOP) || errors.Is(pe.Err, unix.ENOTDIR)) {
			return nil, &unsafeError{Path: path, Reason: "it is a symbolic link or not a folder"}
		}
		return nil, err
	}
	return f, nil
}

// ensureDownAt creates the down file in slot (0644) unless a regular file
// is there already: s6 only asks whether it exists, so an existing one is
// left as it is, never truncated or chmodded (it could be a hard link to a
// file elsewhere). A link or anything else by that name is refused.
func ensureDownAt(slot *os.File) error {
	path := filepath.Join(slot.Name(), "down")
	fd, err := unix.Openat(int(slot.Fd()), "down", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NONBLOCK|openFlags, 0o644)
	if err == nil {
		defer unix.Close(fd)
		if err := unix.Fchmod(fd, 0o644); err != nil {
			return &os.PathError{Op: "chmod", Path: path, Err: err}
		}
		return nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "create", Path: path, Err: err}
	}
	st, ok, err := lstatAt(slot, "down")
	switch {
	case err != nil:
		return &os.PathError{Op: "lstat", Path: path, Err: err}
	case ok && isType(st, unix.S_IFREG):
		return nil
	case !ok:
		return ensureDownAt(slot) // gone in between: again
	}
	return &unsafeError{Path: path, Reason: "it is a symbolic link or not a regular file"}
}

// removeDownAt removes the down file from slot (a link by that name is
// removed, never followed); none is fine.
func removeDownAt(slot *os.File) error {
	err := unix.Unlinkat(int(slot.Fd()), "down", 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return &os.PathError{Op: "remove", Path: filepath.Join(slot.Name(), "down"), Err: err}
}

// hasDownAt reports whether slot holds a down file (a link by that name
// counts: it is there, as s6 would see it).
func hasDownAt(slot *os.File) bool {
	_, ok, _ := lstatAt(slot, "down")
	return ok
}

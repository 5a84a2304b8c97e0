//go:build !windows

package s6

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// staging is the fresh folder a slot is built in before it is published:
// made by this process, its own and mode 0700 (checked once, on the
// descriptor, right after it is made). No one else can put anything in it,
// so everything below it is created by name through its descriptor with no
// check per entry: a boot builds a thousand slots, and the checks and
// descriptor a check needs on each folder were most of that work. What
// this process hands to the service user (chown) it hands over last,
// children first, so that no folder is the user's while entries are still
// created below it.
type staging struct {
	fd   int
	path string
}

// stagingMode is the staging folder's mode until it is published.
const stagingMode = 0o700

// newStaging makes the folder name in scan and opens it. It fails with
// unix.EEXIST (wrapped) when something is there already.
func newStaging(scan *os.File, name string) (*staging, error) {
	path := filepath.Join(scan.Name(), name)
	if err := unix.Mkdirat(int(scan.Fd()), name, stagingMode); err != nil {
		return nil, &os.PathError{Op: "mkdir", Path: path, Err: err}
	}
	fd, err := unix.Openat(int(scan.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|openFlags, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return nil, &unsafeError{Path: path, Reason: "it was replaced as it was made"}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	s := &staging{fd: fd, path: path}
	// Whoever can write the scandir could have put their own folder under
	// the name between the mkdir and the open; one this process owns was
	// made by it (or by root).
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || int(st.Uid) != os.Geteuid() {
		s.close()
		return nil, &unsafeError{Path: path, Reason: "it is not the folder hermes made (it was replaced)"}
	}
	// A setgid scandir passes its bit on; the slot's folders must not
	// inherit it.
	if st.Mode&0o7777 != stagingMode {
		if err := unix.Fchmod(fd, stagingMode); err != nil {
			s.close()
			return nil, &os.PathError{Op: "chmod", Path: path, Err: err}
		}
	}
	return s, nil
}

func (s *staging) close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

func (s *staging) pathOf(rel string) string { return filepath.Join(s.path, rel) }

// exact gives rel exactly mode when creating it could not: mkdir and
// mknod drop setgid, and the umask takes bits away.
func (s *staging) exact(rel string, mode uint32, created uint32) error {
	if mode == created&^umask() {
		return nil
	}
	if err := unix.Fchmodat(s.fd, rel, mode, 0); err != nil {
		return &os.PathError{Op: "chmod", Path: s.pathOf(rel), Err: err}
	}
	return nil
}

// mkdir creates the folder rel with exactly mode (Unix bits, setgid and
// sticky included).
func (s *staging) mkdir(rel string, mode uint32) error {
	if err := unix.Mkdirat(s.fd, rel, mode&0o1777); err != nil {
		return &os.PathError{Op: "mkdir", Path: s.pathOf(rel), Err: err}
	}
	return s.exact(rel, mode, mode&0o1777)
}

// mkfifo creates the FIFO rel with exactly mode.
func (s *staging) mkfifo(rel string, mode uint32) error {
	if err := mkfifoat(s.fd, s.path, rel, mode&0o777); err != nil {
		return &os.PathError{Op: "mkfifo", Path: s.pathOf(rel), Err: err}
	}
	return s.exact(rel, mode, mode&0o777)
}

// create creates the regular file rel with content and exactly mode.
func (s *staging) create(rel, content string, mode uint32) error {
	return createIn(s.fd, rel, s.pathOf(rel), content, mode)
}

// chown hands rel to uid:gid, a link not followed.
func (s *staging) chown(rel string, uid, gid int) error {
	if err := unix.Fchownat(s.fd, rel, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: s.pathOf(rel), Err: err}
	}
	return nil
}

// publishable gives the folder its published mode, 0755.
func (s *staging) publishable() error {
	if err := unix.Fchmod(s.fd, 0o755); err != nil {
		return &os.PathError{Op: "chmod", Path: s.path, Err: err}
	}
	return nil
}

// writeAll writes content to fd whole.
func writeAll(fd int, content string) error {
	for data := []byte(content); len(data) > 0; {
		n, err := unix.Write(fd, data)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

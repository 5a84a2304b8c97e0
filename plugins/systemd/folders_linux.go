package systemd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// makeFolders makes the folders from home down to dir that are missing,
// each given to uid:gid, and returns those it made, outermost first. The
// folder holding home must exist. Each new folder is made and given away
// through its parent's descriptor, never through a path: a link planted in
// the way is refused, not followed (root makes these in a user's home).
func makeFolders(dir, home string, uid, gid int) ([]string, error) {
	rel, err := filepath.Rel(home, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("the profile's folder %s is not in the home %s", dir, home)
	}
	parent := filepath.Dir(home)
	fd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("the folder that would hold the Hermes home %s: %w (make it, or choose another home with --home)",
			home, &os.PathError{Op: "open", Path: parent, Err: err})
	}
	names := []string{filepath.Base(home)}
	if rel != "." {
		names = append(names, strings.Split(rel, string(filepath.Separator))...)
	}
	var made []string
	at := parent
	for _, name := range names {
		at = filepath.Join(at, name)
		err := unix.Mkdirat(fd, name, 0o700)
		switch {
		case err == nil:
			if err := unix.Fchownat(fd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				unix.Close(fd)
				return append(made, at), &os.PathError{Op: "chown", Path: at, Err: err}
			}
			made = append(made, at)
		case !errors.Is(err, unix.EEXIST):
			unix.Close(fd)
			return made, &os.PathError{Op: "mkdir", Path: at, Err: err}
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		unix.Close(fd)
		if err != nil {
			return made, &os.PathError{Op: "open", Path: at, Err: err}
		}
		fd = next
	}
	unix.Close(fd)
	return made, nil
}

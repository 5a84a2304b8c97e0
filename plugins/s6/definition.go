//go:build !windows

package s6

import (
	"errors"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// slotFile is one file of a slot's definition: what the registration
// decides, as opposed to the down file (the operator's intent) and the
// supervise skeleton (s6's).
type slotFile struct {
	rel     string // below the slot: "run", "log/run"
	content string
	mode    uint32
}

// definition is every file a registration puts in a slot, the log
// folder's included; writeSlot writes them, and a slot that holds exactly
// these is left alone (see changedFiles).
func (c Config) definition(profile string, argv []string, env map[string]string, stopTimeout time.Duration) []slotFile {
	return []slotFile{
		{"type", "longrun\n", 0o644},
		{"run", c.renderRun(profile, argv, env), 0o755},
		{"finish", c.renderFinish(), 0o755},
		{timeoutKill, renderTimeoutKill(stopTimeout), 0o644},
		{"log/run", c.renderLogRun(profile), 0o755},
	}
}

// changedFiles is what of def the slot does not hold as it should (other
// content, another mode, missing); read from the slot held open, no link
// followed, nothing but regular files read. Plain descriptors, not
// *os.File: a boot compares five files in each of a thousand slots.
func changedFiles(slot *os.File, def []slotFile) ([]slotFile, error) {
	var out []slotFile
	log := -1
	defer func() {
		if log >= 0 {
			unix.Close(log)
		}
	}()
	for _, f := range def {
		dir, name := int(slot.Fd()), f.rel
		if sub, rest, ok := strings.Cut(f.rel, "/"); ok {
			if log < 0 {
				fd, err := unix.Openat(dir, sub, unix.O_RDONLY|unix.O_DIRECTORY|openFlags, 0)
				if err != nil && !errors.Is(err, unix.ENOENT) {
					return nil, openError(slot.Name()+"/"+sub, err)
				}
				if err != nil {
					out = append(out, f)
					continue
				}
				log = fd
			}
			dir, name = log, rest
		}
		same, err := holds(dir, name, f)
		if err != nil {
			return nil, openError(slot.Name()+"/"+f.rel, err)
		}
		if !same {
			out = append(out, f)
		}
	}
	return out, nil
}

// openError is an open's failure on path: an *unsafeError for a link or
// what is not the kind of file hermes made there.
func openError(path string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, errNotRegular) {
		return &unsafeError{Path: path, Reason: "it is a symbolic link or not the kind of file hermes makes there"}
	}
	return &os.PathError{Op: "open", Path: path, Err: err}
}

// errNotRegular is a slot file that is no regular file.
var errNotRegular = errors.New("not a regular file")

// holds reports whether the regular file name in the folder dir has f's
// content and mode; a missing one does not.
func holds(dir int, name string, f slotFile) (bool, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NONBLOCK|openFlags, 0)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, err
	}
	if !isType(st, unix.S_IFREG) {
		return false, errNotRegular
	}
	if uint32(st.Mode)&0o7777 != f.mode || st.Size != int64(len(f.content)) {
		return false, nil
	}
	data := make([]byte, len(f.content)+1)
	n, err := unix.Pread(fd, data, 0)
	if err != nil {
		return false, err
	}
	return n == len(f.content) && string(data[:n]) == f.content, nil
}

// rewrite replaces the files of changed in the slot, each in one step: the
// new content is created beside the file (exclusively, exact mode) and
// renamed over it, so s6-supervise, which reads run and finish at every
// start, never sees half a script. Folders on the way must exist; the
// caller falls back to a whole new slot when they do not.
func rewrite(slot *os.File, changed []slotFile) error {
	for _, f := range changed {
		dir, name := path.Split(f.rel)
		parent := slot
		if dir != "" {
			d, err := openDirAt(slot, path.Clean(dir))
			if err != nil {
				return err
			}
			defer d.Close()
			parent = d
		}
		tmp := "." + name + ".hermes-new"
		if err := unix.Unlinkat(int(parent.Fd()), tmp, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "remove", Path: parent.Name() + "/" + tmp, Err: err}
		}
		if err := createFileAt(parent, tmp, f.content, f.mode); err != nil {
			return err
		}
		if err := unix.Renameat(int(parent.Fd()), tmp, int(parent.Fd()), name); err != nil {
			_ = unix.Unlinkat(int(parent.Fd()), tmp, 0)
			return &os.PathError{Op: "rename", Path: parent.Name() + "/" + name, Err: err}
		}
	}
	return nil
}

// touches says whether changed holds a file of the service itself, or of
// its logger ("log/..."): each is restarted only when its own files
// changed.
func touches(changed []slotFile) (service, logger bool) {
	for _, f := range changed {
		if dir, _ := path.Split(f.rel); dir == "log/" {
			logger = true
		} else {
			service = true
		}
	}
	return service, logger
}

//go:build !windows

package s6

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// svStatus is what s6 knows about a slot: the fields of
// `s6-svstat -o up,wantedup,normallyup,pid,exitcode,updownsince`.
type svStatus struct {
	Up         bool
	WantedUp   bool
	NormallyUp bool
	PID        int       // -1 when down
	ExitCode   int       // -1 when up, or when a signal ended the last run
	Since      time.Time // when it last went up or down
	Label      string    // Since as s6 prints it (a TAI64N label)
}

// svstatFields is the -o list the backend asks s6-svstat for.
const svstatFields = "up,wantedup,normallyup,pid,exitcode,updownsince"

// parseSvstat reads the machine-readable line of s6-svstat -o svstatFields.
func parseSvstat(out string) (svStatus, error) {
	f := strings.Fields(out)
	if len(f) != 6 {
		return svStatus{}, fmt.Errorf("s6-svstat printed %q, want 6 fields (%s)", strings.TrimSpace(out), svstatFields)
	}
	var st svStatus
	var err error
	bools := []*bool{&st.Up, &st.WantedUp, &st.NormallyUp}
	for i, p := range bools {
		if *p, err = strconv.ParseBool(f[i]); err != nil {
			return svStatus{}, fmt.Errorf("s6-svstat field %d %q: %w", i+1, f[i], err)
		}
	}
	if st.PID, err = strconv.Atoi(f[3]); err != nil {
		return svStatus{}, fmt.Errorf("s6-svstat pid %q: %w", f[3], err)
	}
	if st.ExitCode, err = strconv.Atoi(f[4]); err != nil {
		return svStatus{}, fmt.Errorf("s6-svstat exitcode %q: %w", f[4], err)
	}
	st.Label = f[5]
	if st.Since, err = parseTAI64N(f[5]); err != nil {
		return svStatus{}, err
	}
	return st, nil
}

// taiOffset is TAI minus UTC as skalibs counts it: 10 s plus the 27 leap
// seconds to date. The differential test against s6-svstat holds it true.
const taiOffset = 37

const tai64Base = uint64(1) << 62

// parseTAI64N reads a TAI64N label, "@" and 24 hex digits.
func parseTAI64N(label string) (time.Time, error) {
	hex := strings.TrimPrefix(label, "@")
	if len(hex) != 24 {
		return time.Time{}, fmt.Errorf("%q is not a TAI64N label", label)
	}
	sec, err1 := strconv.ParseUint(hex[:16], 16, 64)
	nano, err2 := strconv.ParseUint(hex[16:], 16, 32)
	if err1 != nil || err2 != nil || sec < tai64Base {
		return time.Time{}, fmt.Errorf("%q is not a TAI64N label", label)
	}
	return time.Unix(int64(sec-tai64Base)-taiOffset, int64(nano)).UTC(), nil
}

// statusFileSize is s6 2.11's supervise/status: stamp (TAI64N, 12 bytes),
// ready stamp (12), pid (uint64 big-endian), wait status (uint16), flags.
const statusFileSize = 35

const (
	flagFinishing = 1 << 1
	flagWantUp    = 1 << 2
)

// errNoSupervisor is a slot s6-supervise has not started on yet.
var errNoSupervisor = errors.New("no status yet: s6-supervise has not started on this slot")

// readStatusFile reads a slot's status straight from supervise/status and
// the down file, as s6-svstat computes it, without running anything.
func readStatusFile(slot string) (svStatus, error) {
	// From the slot held open, no link followed, nothing but what s6 wrote
	// read: supervise belongs to the service user, who could put a FIFO
	// (a read that never returns) or a link there.
	dir, err := openDirNoFollow(slot)
	if err != nil {
		return svStatus{}, err
	}
	defer dir.Close()
	return readStatusAt(dir)
}

// readStatusAt is readStatusFile of the slot held open.
func readStatusAt(dir *os.File) (svStatus, error) {
	return readStatusFd(int(dir.Fd()), dir.Name())
}

// readStatusFd is readStatusFile of the slot held open as the descriptor
// slot (path names it in errors): a plain descriptor and a handful of
// calls, for status --all reads thousands.
func readStatusFd(slot int, path string) (svStatus, error) {
	statusPath := filepath.Join(path, "supervise", "status")
	fd, err := openInSupervise(slot, "status", unix.O_RDONLY, statusPath)
	if errors.Is(err, unix.ENOENT) {
		return svStatus{}, errNoSupervisor
	}
	if err != nil {
		return svStatus{}, err
	}
	st, err := statusFrom(fd, statusPath)
	unix.Close(fd)
	if err != nil {
		return svStatus{}, err
	}
	var down unix.Stat_t
	st.NormallyUp = unix.Fstatat(slot, "down", &down, unix.AT_SYMLINK_NOFOLLOW) != nil
	return st, nil
}

// statusFrom reads the open supervise/status (at statusPath) and decodes
// it; NormallyUp is the caller's. O_NONBLOCK opens: a FIFO there reads
// nothing at once (a wrong size) rather than waiting for a writer, and a
// folder fails the read.
func statusFrom(fd int, statusPath string) (svStatus, error) {
	var buf [statusFileSize + 1]byte
	n, err := unix.Pread(fd, buf[:], 0)
	if err != nil || n != statusFileSize {
		// Only now, on the way to an error, is it worth saying what it is.
		var info unix.Stat_t
		if unix.Fstat(fd, &info) == nil && !isType(info, unix.S_IFREG) {
			return svStatus{}, &unsafeError{Path: statusPath, Reason: "it is not a regular file"}
		}
		if err != nil {
			return svStatus{}, &os.PathError{Op: "read", Path: statusPath, Err: err}
		}
		return svStatus{}, fmt.Errorf("%s: %d bytes, want %d (an s6 other than 2.11?)", statusPath, n, statusFileSize)
	}
	return parseStatus(buf[:statusFileSize]), nil
}

// parseStatus decodes s6 2.11's supervise/status (statusFileSize bytes).
func parseStatus(data []byte) svStatus {
	sec := binary.BigEndian.Uint64(data[0:8])
	nano := binary.BigEndian.Uint32(data[8:12])
	pid := int(binary.BigEndian.Uint64(data[24:32]))
	wstat := int(binary.BigEndian.Uint16(data[32:34]))
	flags := data[34]
	st := svStatus{
		Up:       pid != 0 && flags&flagFinishing == 0,
		WantedUp: flags&flagWantUp != 0,
		PID:      -1,
		ExitCode: -1,
		Label:    fmt.Sprintf("@%016x%08x", sec, nano),
	}
	if sec >= tai64Base {
		st.Since = time.Unix(int64(sec-tai64Base)-taiOffset, int64(nano)).UTC()
	}
	if st.Up {
		st.PID = pid
	} else if wstat&0x7f == 0 { // WIFEXITED
		st.ExitCode = (wstat >> 8) & 0xff
	}
	return st
}

// openInSuperviseWalk opens supervise, then name in it with flags, each
// without following a link; path names the file in errors.
func openInSuperviseWalk(slot int, name string, flags int, path string) (int, error) {
	sup, err := unix.Openat(slot, "supervise", unix.O_RDONLY|unix.O_DIRECTORY|openFlags, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return -1, &unsafeError{Path: filepath.Dir(path), Reason: "it is a symbolic link or not a folder"}
		}
		return -1, statusOpenError(path, err)
	}
	defer unix.Close(sup)
	fd, err := unix.Openat(sup, name, flags|unix.O_NONBLOCK|openFlags, 0)
	if errors.Is(err, unix.ELOOP) {
		return -1, &unsafeError{Path: path, Reason: "it is a symbolic link"}
	}
	if err != nil {
		return -1, statusOpenError(path, err)
	}
	return fd, nil
}

// statusOpenError is a failed open of a file under supervise; a missing
// one stays recognisable (unix.ENOENT), as does ENXIO (a FIFO no one reads).
func statusOpenError(path string, err error) error {
	return &os.PathError{Op: "open", Path: path, Err: err}
}

// superviseRunning reports whether s6-supervise runs on the slot held open
// as slot: it keeps supervise/control open for reading, so opening it for
// writing (without blocking, and without writing) succeeds only then, as
// s6-svok finds out. An error is a control FIFO this process may not open,
// or something other than a FIFO there: the caller asks s6's tools.
func superviseRunning(slot int, path string) (bool, error) {
	control := filepath.Join(path, "supervise", "control")
	fd, err := openInSupervise(slot, "control", unix.O_WRONLY, control)
	switch {
	case err == nil:
		var info unix.Stat_t
		ferr := unix.Fstat(fd, &info)
		unix.Close(fd)
		if ferr != nil || !isType(info, unix.S_IFIFO) {
			return false, &unsafeError{Path: control, Reason: "it is not a FIFO"}
		}
		return true, nil
	case errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, err
}

// errNotSlot is a slot name with no folder there (nothing, a link, a file).
var errNotSlot = errors.New("no slot folder")

// slotStatusWalk is slotStatusIn a name at a time: the slot opened without
// following a link, then readStatusFd.
func slotStatusWalk(scan int, name, path string) (svStatus, error) {
	slot, err := unix.Openat(scan, name, unix.O_RDONLY|unix.O_DIRECTORY|openFlags, 0)
	if err != nil {
		return svStatus{}, errNotSlot
	}
	defer unix.Close(slot)
	return readStatusFd(slot, path)
}

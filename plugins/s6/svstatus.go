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
// the down file, as s6-svstat computes it, without running anything: the
// fast path for many slots at once.
func readStatusFile(slot string) (svStatus, error) {
	// From the slot held open, no link followed, nothing but a regular file
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
	slot := dir.Name()
	data, ok, err := readFileAt(dir, "supervise/status", statusFileSize+1)
	if err != nil {
		return svStatus{}, err
	}
	if !ok {
		return svStatus{}, errNoSupervisor
	}
	if len(data) != statusFileSize {
		return svStatus{}, fmt.Errorf("%s: %d bytes, want %d (an s6 other than 2.11?)", filepath.Join(slot, "supervise", "status"), len(data), statusFileSize)
	}
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
	st.NormallyUp = !hasDownAt(dir)
	return st, nil
}

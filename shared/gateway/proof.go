package gateway

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Proof that a process is a profile's gateway (or its runner), for a
// command about to signal it without a service manager to ask. A pid record
// alone proves nothing: it outlives its writer, and anyone who may write the
// profile folder may write one naming any process. So the claim's files
// must agree with the live process on every point this machine can check:
//
//   - the pid record is a regular file (no link to somewhere else) naming a
//     live pid, with the start time its writer recorded, and that start
//     time is the pid's now (a bare pid, or a record without start_time, is
//     no proof: the pid may have been reused);
//   - the record names this profile's folder, when it names one;
//   - the claim's lock file is a regular file and some process holds it;
//   - where the platform tells (Linux's /proc/PID/fd), that process is the
//     one holding the lock file open, so a record naming an unrelated
//     process beside a lock somebody else holds proves nothing either.
//
// Prove reads and locks nothing that is not there already: it never
// creates a file, follows a link or waits.

// Unproven says why a claim's files prove no live gateway.
type Unproven struct {
	// PID is the pid the record names, 0 when there is no record.
	PID int
	// NoRecord is true when the claim's pid record does not exist.
	NoRecord bool
	// Reason says what is missing or wrong.
	Reason string
}

func (u *Unproven) Error() string { return u.Reason }

// Prove returns the claim's pid record in dir when its files prove the
// process it names to be the live gateway (or runner) of the profile at
// dir. Otherwise the error is an *Unproven saying why, or, for a file that
// exists but cannot be read, the read error.
func (c Claim) Prove(dir string) (*PIDRecord, error) {
	pidPath := filepath.Join(dir, c.PIDFile)
	info, err := os.Lstat(pidPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &Unproven{NoRecord: true, Reason: "no " + c.PIDFile}
	case err != nil:
		return nil, err
	case !info.Mode().IsRegular():
		return nil, &Unproven{Reason: fmt.Sprintf("%s is not a regular file (%s), so it proves nothing", c.PIDFile, FileKind(info))}
	}
	rec, err := c.ReadPIDRecord(dir)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, &Unproven{Reason: c.PIDFile + " holds no pid record"}
	}
	unproven := func(format string, args ...any) (*PIDRecord, error) {
		return nil, &Unproven{PID: rec.PID, Reason: fmt.Sprintf("%s names PID %d, but ", c.PIDFile, rec.PID) + fmt.Sprintf(format, args...)}
	}
	if !Alive(rec.PID) {
		return unproven("process %d is gone", rec.PID)
	}
	if rec.StartTime == nil {
		return unproven("records no start time, so the pid may have been reused by an unrelated process")
	}
	cur := StartTime(rec.PID)
	switch {
	case cur == nil:
		return unproven("its start time cannot be read on this system")
	case *cur != *rec.StartTime:
		return unproven("it now belongs to another process (start time %d, recorded %d)", *cur, *rec.StartTime)
	}
	if rec.HermesHome != "" && !SamePath(rec.HermesHome, dir) {
		return unproven("the record belongs to the home %s", rec.HermesHome)
	}
	lockInfo, held, why := c.lockState(dir)
	if !held {
		return unproven("%s", why)
	}
	if known, holds, why := holdsOpen(rec.PID, lockInfo); known && !holds {
		return unproven("that process does not hold %s open%s", c.LockFile, why)
	}
	return rec, nil
}

// LockHeld reports whether some process holds the claim's lock in dir, as
// Locked does, but read-only: a missing lock file is a free lock (none is
// created), and a link or anything but a regular file is not probed and
// counts as free. why says what was found when it is not held.
func (c Claim) LockHeld(dir string) (held bool, why string) {
	_, held, why = c.lockState(dir)
	return held, why
}

func (c Claim) lockState(dir string) (os.FileInfo, bool, string) {
	lockPath := filepath.Join(dir, c.LockFile)
	info, err := os.Lstat(lockPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, false, "there is no " + c.LockFile
	case err != nil:
		return nil, false, fmt.Sprintf("%s cannot be read: %v", c.LockFile, err)
	case !info.Mode().IsRegular():
		return nil, false, fmt.Sprintf("%s is not a regular file (%s)", c.LockFile, FileKind(info))
	}
	held, err := lockHeld(lockPath, info)
	switch {
	case err != nil:
		return nil, false, fmt.Sprintf("%s cannot be probed: %v", c.LockFile, err)
	case !held:
		return nil, false, "no process holds " + c.LockFile
	}
	return info, true, ""
}

// FileKind names what a file that should be a regular one is instead ("a
// symlink", "a named pipe", ...).
func FileKind(info os.FileInfo) string {
	switch m := info.Mode(); {
	case m&os.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// SamePath reports whether a and b name one folder, symlinks resolved where
// they exist.
func SamePath(a, b string) bool {
	ca, err1 := filepath.Abs(a)
	cb, err2 := filepath.Abs(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if ra, err := filepath.EvalSymlinks(ca); err == nil {
		ca = ra
	}
	if rb, err := filepath.EvalSymlinks(cb); err == nil {
		cb = rb
	}
	return filepath.Clean(ca) == filepath.Clean(cb)
}

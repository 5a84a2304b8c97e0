package s6

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openSuperviseStatus opens supervise/status below the slot held open as
// slot, for reading, in one call: no link followed on the way (supervise
// is the service user's), nothing outside the slot reached. Where openat2
// is refused it goes a name at a time (openSuperviseStatusWalk).
func openSuperviseStatus(slot int, path string) (int, error) {
	fd, err := unix.Openat2(slot, "supervise/status", &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		// No openat2 (an old kernel, a seccomp filter that refuses it).
		return openSuperviseStatusWalk(slot, path)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return -1, &unsafeError{Path: path, Reason: "a symbolic link is on its way"}
	}
	return -1, statusOpenError(path, err)
}

// openSuperviseControl opens supervise/control below the slot held open as
// slot for writing, without blocking (ENXIO: no reader), as
// openSuperviseStatus opens status.
func openSuperviseControl(slot int, path string) (int, error) {
	fd, err := unix.Openat2(slot, "supervise/control", &unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_NONBLOCK | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		return openSuperviseControlWalk(slot, path)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return -1, &unsafeError{Path: path, Reason: "a symbolic link is on its way"}
	}
	return -1, err
}

// slotStatusIn reads the status of the slot name in the scandir held open
// as scan (path names the slot): supervise/status opened in one call from
// the scandir, no link followed on the way, and the down file looked up;
// errNotSlot when no folder is there. Four calls a slot: status --all
// reads thousands.
func slotStatusIn(scan int, name, path string) (svStatus, error) {
	statusPath := filepath.Join(path, "supervise", "status")
	fd, err := unix.Openat2(scan, name+"/supervise/status", &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return slotStatusWalk(scan, name, path)
		}
		// Why it failed depends on what the slot's own name holds.
		var st unix.Stat_t
		if serr := unix.Fstatat(scan, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr != nil || !isType(st, unix.S_IFDIR) {
			return svStatus{}, errNotSlot
		}
		switch {
		case errors.Is(err, unix.ENOENT):
			return svStatus{}, errNoSupervisor
		case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
			return svStatus{}, &unsafeError{Path: statusPath, Reason: "a symbolic link is on its way"}
		}
		return svStatus{}, statusOpenError(statusPath, err)
	}
	sv, err := statusFrom(fd, statusPath)
	unix.Close(fd)
	if err != nil {
		return svStatus{}, err
	}
	var down unix.Stat_t
	sv.NormallyUp = unix.Fstatat(scan, name+"/down", &down, unix.AT_SYMLINK_NOFOLLOW) != nil
	return sv, nil
}

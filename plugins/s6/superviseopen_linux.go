package s6

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openInSupervise opens supervise/name below the slot held open as slot,
// with flags (O_RDONLY for status; O_WRONLY for control, ENXIO when no
// supervisor reads it), never blocking, in one call: no link followed on
// the way (supervise is the service user's), nothing outside the slot
// reached. Where openat2 is refused it goes a name at a time
// (openInSuperviseWalk). path names the file in errors.
func openInSupervise(slot int, name string, flags int, path string) (int, error) {
	fd, err := unix.Openat2(slot, "supervise/"+name, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_NONBLOCK | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		// No openat2 (an old kernel, a seccomp filter that refuses it).
		return openInSuperviseWalk(slot, name, flags, path)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return -1, &unsafeError{Path: path, Reason: "a symbolic link is on its way"}
	}
	return -1, statusOpenError(path, err)
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

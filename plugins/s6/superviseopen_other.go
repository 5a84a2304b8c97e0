//go:build !windows && !linux

package s6

// openInSupervise opens supervise/name below the slot held open as slot
// with flags, a name at a time, no link followed.
func openInSupervise(slot int, name string, flags int, path string) (int, error) {
	return openInSuperviseWalk(slot, name, flags, path)
}

// slotStatusIn reads the status of the slot name in the scandir held open
// as scan, a name at a time (slotStatusWalk).
func slotStatusIn(scan int, name, path string) (svStatus, error) {
	return slotStatusWalk(scan, name, path)
}

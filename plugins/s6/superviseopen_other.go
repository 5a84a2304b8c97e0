//go:build !windows && !linux

package s6

// openSuperviseStatus opens supervise/status below the slot held open as
// slot, a name at a time, no link followed.
func openSuperviseStatus(slot int, path string) (int, error) {
	return openSuperviseStatusWalk(slot, path)
}

// openSuperviseControl opens supervise/control for writing without
// blocking, a name at a time, no link followed.
func openSuperviseControl(slot int, path string) (int, error) {
	return openSuperviseControlWalk(slot, path)
}

// slotStatusIn reads the status of the slot name in the scandir held open
// as scan, a name at a time (slotStatusWalk).
func slotStatusIn(scan int, name, path string) (svStatus, error) {
	return slotStatusWalk(scan, name, path)
}

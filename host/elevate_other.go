//go:build !windows

package host

import "errors"

// elevatedRerun exists on Windows only (UAC); elsewhere root is sudo's job.
func elevatedRerun([]string) (int, error) {
	return 1, errors.New("elevated handoff is a Windows feature; on this system run the command with sudo")
}

//go:build !linux

package systemd

import "errors"

// makeFolders: systemd runs on Linux only.
func makeFolders(dir, home string, uid, gid int) ([]string, error) {
	return nil, errors.New("the systemd backend runs on Linux only")
}

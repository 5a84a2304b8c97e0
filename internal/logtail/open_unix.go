//go:build !windows

package logtail

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// open opens a log for reading without following a link in its place: a
// log lives in a folder the gateway's account may write, and hermes may
// read it as root (a link there would make root print any file).
func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("refusing to read %s: it is a symbolic link, and a log must be a file", path)
	}
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("refusing to read %s: not a regular file", path)
	}
	return f, nil
}

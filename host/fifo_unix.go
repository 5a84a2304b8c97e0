//go:build !windows

package host

import (
	"os"
	"syscall"
)

// fifoHasReader reports, by opening it for writing without blocking,
// whether a process reads the FIFO at path.
func fifoHasReader(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

//go:build windows

package host

import "errors"

func fifoHasReader(string) error { return errors.New("no FIFOs on Windows") }

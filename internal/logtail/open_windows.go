//go:build windows

package logtail

import "os"

func open(path string) (*os.File, error) { return os.Open(path) }

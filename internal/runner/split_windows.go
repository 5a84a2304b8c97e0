//go:build windows

package runner

import "golang.org/x/sys/windows"

// SplitCommandLine splits a gateway command line into words by Windows'
// own rules (CommandLineToArgv), so C:\paths keep their backslashes.
func SplitCommandLine(line string) ([]string, error) { return windows.DecomposeCommandLine(line) }

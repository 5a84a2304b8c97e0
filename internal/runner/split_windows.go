//go:build windows

package runner

import "golang.org/x/sys/windows"

// splitCommandLine splits the gateway command line into words by Windows'
// own rules (CommandLineToArgv), so C:\paths keep their backslashes.
func splitCommandLine(line string) ([]string, error) { return windows.DecomposeCommandLine(line) }

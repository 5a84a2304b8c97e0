//go:build windows

package host

import "golang.org/x/sys/windows"

// splitCommandLine splits HERMES_GATEWAY_COMMAND into words by Windows'
// own rules (CommandLineToArgv), so C:\paths keep their backslashes.
func splitCommandLine(line string) ([]string, error) { return windows.DecomposeCommandLine(line) }

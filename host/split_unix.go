//go:build !windows

package host

import "github.com/google/shlex"

// splitCommandLine splits HERMES_GATEWAY_COMMAND into words as a POSIX
// shell would (quotes, backslashes), without running a shell.
func splitCommandLine(line string) ([]string, error) { return shlex.Split(line) }

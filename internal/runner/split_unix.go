//go:build !windows

package runner

import "github.com/google/shlex"

// splitCommandLine splits the gateway command line into words as a POSIX
// shell would (quotes, backslashes), without running a shell.
func splitCommandLine(line string) ([]string, error) { return shlex.Split(line) }

//go:build !windows

package runner

import "github.com/google/shlex"

// SplitCommandLine splits a gateway command line into words as a POSIX
// shell would (quotes, backslashes), without running a shell.
func SplitCommandLine(line string) ([]string, error) { return shlex.Split(line) }

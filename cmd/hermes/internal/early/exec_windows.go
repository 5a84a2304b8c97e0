//go:build windows

package early

import "errors"

// execve has no Windows counterpart: front runs the Hermes CLI as a child.
func execve(string, []string, []string) error { return errors.New("no exec on Windows") }

//go:build !linux && !windows

package plugin

import "os/exec"

// configureCmd has nothing to add where the kernel offers no parent-death
// signal; the host's cleanup on exit ends the plugin.
func configureCmd(*exec.Cmd) {}

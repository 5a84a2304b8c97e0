//go:build windows

package plugin

import "os/exec"

// autoMTLS is on for Windows: go-plugin listens on loopback TCP there, which
// any local user can reach, so the connection needs its own authentication.
var autoMTLS = true

func privateSocketDir() (string, error) { return "", nil }

func configureCmd(*exec.Cmd) {}

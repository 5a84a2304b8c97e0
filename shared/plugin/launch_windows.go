//go:build windows

package plugin

import (
	"net"
	"os"
	"os/exec"
)

// autoMTLS is on for Windows: go-plugin listens on loopback TCP there, which
// any local user can reach, so the connection needs its own authentication.
var autoMTLS = true

func configureCmd(*exec.Cmd) {}

// killTree kills the plugin process (Windows has no process groups to
// signal).
func killTree(p *os.Process) error { return p.Kill() }

// execVia is the plugin's path.
func execVia(_ *os.File, path string) (string, []*os.File) { return path, nil }

// checkAddr accepts only a loopback TCP address: the plugin serves on this
// machine, and mTLS authenticates the connection.
func checkAddr(network, addr, _ string) error {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if network != "tcp" || err != nil || ip == nil || !ip.IsLoopback() {
		return &AddressError{Network: network, Address: addr, Want: "a loopback TCP address"}
	}
	return nil
}

func socketParent() string { return os.TempDir() }

func removeSocketParent() {}

// killedBySignal reports whether the process ended by killTree: on Windows
// TerminateProcess gives exit code 1, which a plugin's own failure can
// give too, so it is never assumed.
func killedBySignal(*os.ProcessState) bool { return false }

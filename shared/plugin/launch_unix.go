//go:build !windows

package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// autoMTLS is off where the socket lives in a private folder; see the
// package documentation.
var autoMTLS = false

// configureCmd puts the plugin in a process group of its own, so that
// killing it kills what it started too (a wrapper script that does not
// exec, its children), and adds the platform's settings.
func configureCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	platformAttr(cmd.SysProcAttr)
}

// killTree kills the plugin's process group. p must not have been waited
// for: its pid names the group only while the leader is unreaped or the
// group lives.
func killTree(p *os.Process) error {
	if p.Signal(syscall.Signal(0)) != nil {
		return nil // reaped: the pid may name another group by now
	}
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return p.Kill()
	}
	return nil
}

// checkAddr accepts only a Unix socket directly inside dir, the fresh
// folder (mode 0700) go-plugin made for this plugin: whatever else a
// handshake names (another program's socket, a TCP port) the host does not
// connect to.
func checkAddr(network, addr, dir string) error {
	want := "a socket in " + dir + ", the folder hermes made for this plugin"
	if network != "unix" || dir == "" || filepath.Dir(filepath.Clean(addr)) != filepath.Clean(dir) {
		return &AddressError{Network: network, Address: addr, Want: want}
	}
	info, err := os.Lstat(addr)
	if err != nil || info.Mode()&os.ModeSocket == 0 {
		return &AddressError{Network: network, Address: addr, Want: want + " (there is no socket there)"}
	}
	return nil
}

// socketParent is where the plugin's socket folder goes: the temporary
// folder, unless its path is so long that a socket path inside it would
// pass the kernel's limit (104 bytes on macOS, 108 on Linux); then /tmp.
// The folder itself is fresh and private wherever it is.
func socketParent() string {
	d := os.TempDir()
	const room = len("/plugin-dir0123456789/plugin0123456789")
	if len(d)+room > 100 {
		return "/tmp"
	}
	return d
}

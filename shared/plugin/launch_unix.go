//go:build !windows

package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// socketBase is where the plugins' socket folders go: the temporary
// folder, unless its path is so long that a socket path inside it would
// pass the kernel's limit (104 bytes on macOS, 108 on Linux); then /tmp.
func socketBase() string {
	d := os.TempDir()
	const room = len("/hermes-plugin-4194304-0123456789/plugin-dir0123456789/plugin0123456789")
	if len(d)+room > 100 {
		return "/tmp"
	}
	return d
}

// socketPrefix names this process's folder for plugin sockets:
// hermes-plugin-<pid>-<random>. The pid lets a later hermes tell a folder
// whose host is gone (killed, so it could not remove it) from one in use.
const socketPrefix = "hermes-plugin-"

var (
	socketMu sync.Mutex
	// socketDirs is this process's folder in each base it used (TMPDIR
	// may change between launches), made after that base was swept.
	socketDirs = map[string]string{}
)

// socketParent is this process's private folder (mode 0700) in which
// go-plugin makes each plugin's own socket folder, made on first use after
// removing the folders of hosts that are gone (see sweepSocketFolders).
// CleanupAll removes it. When it cannot be made, the plugins' folders go
// straight in the temporary folder.
func socketParent() string {
	socketMu.Lock()
	defer socketMu.Unlock()
	base := socketBase()
	if d, ok := socketDirs[base]; ok {
		return d
	}
	sweepSocketFolders(base)
	d, err := os.MkdirTemp(base, socketPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return base
	}
	socketDirs[base] = d
	return d
}

// removeSocketParent removes this process's folders once its plugins are
// ended.
func removeSocketParent() {
	socketMu.Lock()
	defer socketMu.Unlock()
	for base, d := range socketDirs {
		_ = os.RemoveAll(d)
		delete(socketDirs, base)
	}
}

// sweepSocketFolders removes from base the socket folders of hermes
// processes that are gone: hermes-plugin-<pid>-* folders (not symlinks)
// that this user owns, whose pid no process has. A host killed by SIGKILL
// leaves its folder behind; the next hermes run removes it. A pid reused
// meanwhile only keeps a folder until a later run.
func sweepSocketFolders(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), socketPrefix)
		if !ok || !e.IsDir() { // IsDir is false for a symlink
			continue
		}
		digits, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(digits)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			continue // alive (or not ours to signal, so alive)
		}
		path := filepath.Join(base, e.Name())
		info, err := os.Lstat(path)
		if err != nil || !info.IsDir() {
			continue
		}
		if st, ok := info.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
			continue
		}
		_ = os.RemoveAll(path)
	}
}

// killedBySignal reports whether the process ended by SIGKILL (killTree's).
func killedBySignal(ps *os.ProcessState) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

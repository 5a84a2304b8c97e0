//go:build !windows

package privatetree

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// spawnDetached starts a program in a session of its own, its output in
// out, and lets it go: it outlives this command.
func spawnDetached(path string, args []string, out *os.File) (int, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	// Reap it if it ends while this command still runs; otherwise init does.
	go func() { _ = cmd.Wait() }()
	return pid, nil
}

// raiseOpenFiles makes s6-svscan, which inherits it, start with at least n
// open files (at most the hard limit), so that it can hold a pipe per
// logged slot: a soft limit of 1024 would cap the tree near 500 gateways
// whatever its -c. Go runs with its soft limit raised but hands its
// children the one it started with (often 1024) unless Setrlimit is
// called, so it always is: the tree starts with this process's limit, or n
// when that is more.
func raiseOpenFiles(n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = max(lim.Cur, min(uint64(n), lim.Max))
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

func lookPath(name string) (string, error) { return exec.LookPath(name) }

func runTool(path string, args ...string) (string, error) {
	out, err := exec.Command(path, args...).CombinedOutput()
	return string(out), err
}

// notAnothersHome refuses root a tree in a home another user owns: its
// s6-svscan would run as root every service folder that user can put in
// the scandir.
func notAnothersHome(h *homefs.Home) error {
	uid, _ := h.Owner()
	if os.Geteuid() != 0 || uid == 0 {
		return nil
	}
	owner := strconv.Itoa(uid)
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	return &AnothersHomeError{Home: h.Root(), Owner: owner}
}

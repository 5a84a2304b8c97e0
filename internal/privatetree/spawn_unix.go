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

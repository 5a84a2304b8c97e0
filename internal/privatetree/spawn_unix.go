//go:build !windows

package privatetree

import (
	"os"
	"os/exec"
	"syscall"
)

// spawnDetached starts a program in a session of its own, its output in
// logFile, and lets it go: it outlives this command.
func spawnDetached(path string, args []string, logFile string) (int, error) {
	out, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer out.Close()
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

//go:build !windows

package plugin_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nousresearch/hermes-service/shared/plugin"
)

// TestSweepSocketFolders: a host killed by SIGKILL leaves its socket
// folder; the next one removes it, and only such folders.
func TestSweepSocketFolders(t *testing.T) {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := gone.Process.Pid
	base := t.TempDir()
	elsewhere := t.TempDir()
	path := func(pid int, suffix string) string {
		return filepath.Join(base, fmt.Sprintf("hermes-plugin-%d-%s", pid, suffix))
	}
	stale := path(dead, "1")
	for _, d := range []string{stale, path(os.Getpid(), "2"), path(1, "3"), filepath.Join(base, "hermes-plugin-other")} {
		if err := os.MkdirAll(filepath.Join(d, "plugin-dir9"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path(dead, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, path(dead, "link")); err != nil {
		t.Fatal(err)
	}
	plugin.SweepSocketFolders(base)
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("the folder of dead pid %d is still there: %v", dead, err)
	}
	for _, kept := range []string{path(os.Getpid(), "2"), path(1, "3"), filepath.Join(base, "hermes-plugin-other"),
		path(dead, "file"), path(dead, "link"), elsewhere} {
		if _, err := os.Lstat(kept); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
}

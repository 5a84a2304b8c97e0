package privatetree

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestStartSupervisesEveryLoggedSlot is the finding: a tree whose slots
// all have a logger took at most 500 of them (s6-svscan's default of 1000
// supervisors). 600 slots need 1200.
func TestStartSupervisesEveryLoggedSlot(t *testing.T) {
	if _, err := FindTool("s6-svscan"); err != nil {
		t.Skip(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Max < 1300 {
		t.Skip("s6-svscan needs about 1300 open files for 600 logged slots; the hard limit is lower")
	}
	if testing.Short() {
		t.Skip("starts 1200 supervisors")
	}
	const slots = 600
	root := t.TempDir()
	for i := range slots - 1 {
		mustMkdir(t, filepath.Join(root, "profiles", "p"+strconv.Itoa(i)))
	}
	for i := range slots {
		dir := filepath.Join(root, relScanDir, "g"+strconv.Itoa(i))
		for _, d := range []string{dir, filepath.Join(dir, "log")} {
			mustMkdir(t, d)
			mustWrite(t, filepath.Join(d, "run"), "#!/bin/sh\nexec sleep 1000\n")
			if err := os.Chmod(filepath.Join(d, "run"), 0o755); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, filepath.Join(d, "down"), "")
		}
	}
	tree := Of(root)
	ctx := context.Background()
	pid, started, err := tree.Start(ctx)
	if err != nil || !started {
		t.Fatalf("Start: pid %d started %v: %v", pid, started, err)
	}
	t.Cleanup(func() {
		if _, err := tree.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	supervised := func() (n int) {
		for i := range slots {
			dir := filepath.Join(root, relScanDir, "g"+strconv.Itoa(i))
			for _, d := range []string{dir, filepath.Join(dir, "log")} {
				if _, err := os.Stat(filepath.Join(d, "supervise", "status")); err == nil {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for supervised() < 2*slots && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := supervised(); n < 2*slots {
		log, _ := os.ReadFile(tree.LogFile)
		t.Fatalf("%d of %d supervisors started; s6-svscan's log:\n%.2000s", n, 2*slots, log)
	}
}

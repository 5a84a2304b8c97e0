//go:build linux

package s6

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// victim is a file outside a slot, with its content and mode, that a link
// in the slot leads to.
func victim(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(p, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func intact(t *testing.T, p string) {
	t.Helper()
	data, err := os.ReadFile(p)
	info, _ := os.Stat(p)
	if err != nil || string(data) != "secret\n" || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s was changed: %q %v %v", p, data, info.Mode(), err)
	}
}

func openT(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := openDirNoFollow(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestDownFileNeverFollowsALink(t *testing.T) {
	slot := t.TempDir()
	v := victim(t)
	if err := os.Symlink(v, filepath.Join(slot, "down")); err != nil {
		t.Fatal(err)
	}
	var unsafe *unsafeError
	if err := ensureDownAt(openT(t, slot)); !errors.As(err, &unsafe) {
		t.Fatalf("a linked down file: %v", err)
	}
	intact(t, v)
	// Removing it removes the link, not what it leads to.
	if err := removeDownAt(openT(t, slot)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(slot, "down")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the link is still there")
	}
	intact(t, v)
	// A fresh one is 0644 and empty; an existing regular one is left as it
	// is (it could be a hard link to a file elsewhere).
	if err := ensureDownAt(openT(t, slot)); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(filepath.Join(slot, "down")); err != nil || info.Mode() != 0o644 || info.Size() != 0 {
		t.Fatalf("down: %v %v", info, err)
	}
	if err := os.Remove(filepath.Join(slot, "down")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(v, filepath.Join(slot, "down")); err != nil {
		t.Fatal(err)
	}
	if err := ensureDownAt(openT(t, slot)); err != nil {
		t.Fatal(err)
	}
	intact(t, v)
}

func TestLockAndStatusRefuseLinksAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	v := victim(t)
	if err := os.Symlink(v, filepath.Join(dir, "linked.lock")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(v), "created"), filepath.Join(dir, "dangling.lock")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.lock"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range []string{"linked.lock", "dangling.lock", "fifo.lock"} {
		var unsafe *unsafeError
		if l, err := lockAt(ctx, openT(t, dir), name); !errors.As(err, &unsafe) {
			t.Errorf("%s: %v", name, err)
			if l != nil {
				l.Close()
			}
		}
	}
	intact(t, v)
	if _, err := os.Lstat(filepath.Join(filepath.Dir(v), "created")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a lock was created through a dangling link")
	}
	// A FIFO or a link at supervise/status is an error, at once.
	slot := t.TempDir()
	if err := os.MkdirAll(filepath.Join(slot, "supervise"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(slot, "supervise", "status"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := readStatusFile(slot); done <- err }()
	select {
	case err := <-done:
		var unsafe *unsafeError
		if !errors.As(err, &unsafe) {
			t.Errorf("a FIFO at supervise/status: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO at supervise/status hangs")
	}
	if err := statusReadable(openT(t, slot)); err == nil {
		t.Error("statusReadable took a FIFO")
	}
}

func TestSkeletonIsMadeThroughDescriptors(t *testing.T) {
	parent := openT(t, t.TempDir())
	s, err := newStaging(parent, "slot")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if err := s.mkdir("log", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := seedSkeleton(s, 0, 0, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range skeletonDirs {
		if bad := skeletonProblem(filepath.Join(s.path, d)); bad != "" {
			t.Fatal(bad)
		}
	}
	// A second seeding finds everything there: an error, nothing changed.
	if err := seedSkeleton(s, 0, 0, false); err == nil {
		t.Fatal("seeded over an existing skeleton")
	}
	// Staging where something is already is refused: a folder made before
	// (the caller removes what an interrupted registration left) or a link.
	if _, err := newStaging(parent, "slot"); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("staging over a folder: %v", err)
	}
	other := t.TempDir()
	if err := os.Symlink(other, filepath.Join(parent.Name(), "linked")); err != nil {
		t.Fatal(err)
	}
	if _, err := newStaging(parent, "linked"); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("staging over a link: %v", err)
	}
	dir := openT(t, s.path)
	// A folder replaced by someone else's link is refused, not followed.
	if err := os.Rename(filepath.Join(s.path, "log"), filepath.Join(s.path, "log.real")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(s.path, "log")); err != nil {
		t.Fatal(err)
	}
	var unsafe *unsafeError
	if _, err := openDirAt(dir, "log"); !errors.As(err, &unsafe) {
		t.Fatalf("a linked folder: %v", err)
	}
	if _, _, err := readFileAt(dir, "log/supervise/lock", 10); !errors.As(err, &unsafe) {
		t.Fatalf("a file below a linked folder: %v", err)
	}
}

// TestPinnedScanDirsOfDeadProcessesGo: a private folder a killed plugin
// left is removed by the next s6-svscanctl; a live process's is kept.
func TestPinnedScanDirsOfDeadProcessesGo(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	left, err := os.MkdirTemp("", pinnedPrefix+strconv.Itoa(dead.Process.Pid)+"-")
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.MkdirTemp("", pinnedPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	ctl := openT(t, t.TempDir())
	dir, _, cleanup, err := pinnedScanDir(ctl)
	if err != nil {
		t.Fatal(err)
	}
	cleanup()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup left %s", dir)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(left)
		t.Errorf("a dead process's folder stayed")
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's folder went: %v", err)
	}
}

//go:build unix

package homefs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// home is a fresh home with a folder beside it holding a victim: what a
// planted link points at.
func home(t *testing.T) (h *Home, root, outside, victim string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "home"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	victim = filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("victim"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, root, outside, victim
}

func untouched(t *testing.T, outside, victim string) {
	t.Helper()
	if data, err := os.ReadFile(victim); err != nil || string(data) != "victim" {
		t.Errorf("the victim was changed: %q %v", data, err)
	}
	if info, err := os.Stat(victim); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the victim's mode was changed: %v %v", info, err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("something was made outside the home: %v", entries)
	}
}

func wantSymlink(t *testing.T, err error, path string) {
	t.Helper()
	var se *SymlinkError
	if !errors.As(err, &se) || se.Path != path || !errors.Is(err, ErrUnsafe) {
		t.Fatalf("want a *SymlinkError for %s, got %T %v", path, err, err)
	}
	if !strings.Contains(se.Hint(), "rm "+path) {
		t.Fatalf("hint %q does not say what to remove", se.Hint())
	}
}

func TestWriteReadAndRewriteKeepsTheMode(t *testing.T) {
	h, root, _, _ := home(t)
	if err := h.WriteFileAtomic("profiles/work/gateway_state.json", []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "profiles", "work", "gateway_state.json")
	if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("a new file gets its mode exactly: %v %v", info, err)
	}
	if err := os.Chmod(p, 0o604); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteFileAtomic("profiles/work/gateway_state.json", []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := h.ReadFile("profiles/work/gateway_state.json", MaxFileSize)
	if err != nil || string(data) != `{"a":1}` {
		t.Fatalf("%q %v", data, err)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o604 {
		t.Fatalf("a rewrite keeps the mode: %v", info.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if _, err := h.ReadFile("nothing/here", MaxFileSize); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
	if err := h.WriteFileAtomic("../escape", nil, 0o644); err == nil {
		t.Fatal("a path out of the home was accepted")
	}
}

// TestSymlinksAreRefusedEverywhere: a link where a file, or a folder on
// the way to it, should be is refused by every operation that would go
// through it, and nothing outside the home changes.
func TestSymlinksAreRefusedEverywhere(t *testing.T) {
	for _, viaOpenat2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "openat2", false: "walk"}[viaOpenat2], func(t *testing.T) {
			if !viaOpenat2 {
				forceWalk(t)
			}
			h, root, outside, victim := home(t)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(os.Symlink(victim, filepath.Join(root, "gateway_state.json")))
			must(os.Symlink(outside, filepath.Join(root, "logs")))
			must(os.MkdirAll(filepath.Join(root, "profiles"), 0o755))
			must(os.Symlink(outside, filepath.Join(root, "profiles", "work")))
			must(os.Symlink(filepath.Join(outside, "new"), filepath.Join(root, "gateway.lock"))) // dangling

			state, logs, work, lock := filepath.Join(root, "gateway_state.json"), filepath.Join(root, "logs"),
				filepath.Join(root, "profiles", "work"), filepath.Join(root, "gateway.lock")
			wantSymlink(t, h.WriteFileAtomic("gateway_state.json", []byte("x"), 0o644), state)
			_, err := h.ReadFile("gateway_state.json", MaxFileSize)
			wantSymlink(t, err, state)
			_, err = h.Append("gateway_state.json", 0o644)
			wantSymlink(t, err, state)
			_, err = h.Append("logs/container-boot.log", 0o644)
			wantSymlink(t, err, logs)
			wantSymlink(t, h.MkdirAll("logs/gateways/default", 0o755), logs)
			wantSymlink(t, h.WriteFileAtomic("profiles/work/gateway_state.json", []byte("x"), 0o644), work)
			_, _, err = h.TryLockFile("gateway.lock", 0o644)
			wantSymlink(t, err, lock)
			_, _, err = h.TryLockFile("profiles/work/gateway.lock", 0o644)
			wantSymlink(t, err, work)
			_, err = h.LockDir(context.Background(), "profiles/work", time.Millisecond)
			wantSymlink(t, err, work)
			_, err = h.ReadDir("logs")
			wantSymlink(t, err, logs)
			if locked, err := h.FileLocked("gateway.lock"); locked || err == nil {
				t.Fatalf("a symlinked lock file: locked=%v %v", locked, err)
			}
			// Removing a link removes the link.
			must(h.Remove("gateway.lock"))
			if _, err := os.Lstat(lock); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the link is still there: %v", err)
			}
			untouched(t, outside, victim)
		})
	}
}

func TestPipesDevicesFoldersAndHardLinksAreRefused(t *testing.T) {
	h, root, outside, victim := home(t)
	if err := syscall.Mkfifo(filepath.Join(root, "gateway_state.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "gateway.pid"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(victim, filepath.Join(root, "container-boot.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "logs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var nr *NotRegularError
		if _, err := h.ReadFile("gateway_state.json", MaxFileSize); !errors.As(err, &nr) || nr.Found != "a named pipe" {
			t.Errorf("a pipe: %v", err)
		}
		if _, err := h.Append("gateway_state.json", 0o644); !errors.As(err, &nr) {
			t.Errorf("a pipe: %v", err)
		}
		if err := h.WriteFileAtomic("gateway.pid", nil, 0o644); !errors.As(err, &nr) || nr.Found != "a folder" {
			t.Errorf("a folder: %v", err)
		}
		if _, err := h.Append("container-boot.log", 0o644); !errors.As(err, &nr) || !strings.Contains(nr.Error(), "2 hard links") {
			t.Errorf("a hard link: %v", err)
		}
		if err := h.MkdirAll("logs/x", 0o755); !errors.As(err, &nr) || nr.Want != "a folder" {
			t.Errorf("a file where a folder should be: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("opening a named pipe blocked")
	}
	untouched(t, outside, victim)
}

// TestAnOversizedFileIsRefusedUnread: a 200 MB (sparse) state file is
// refused from its size, at once, with next to no memory: before the cap
// every command read all of it (200 MB allocated for a sparse file, over
// 900 MB for a JSON one).
func TestAnOversizedFileIsRefusedUnread(t *testing.T) {
	h, root, _, _ := home(t)
	p := filepath.Join(root, "gateway_state.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(200 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err = h.ReadFile("gateway_state.json", MaxFileSize)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) || tl.Size != 200<<20 {
		t.Fatalf("want a *TooLargeError, got %v", err)
	}
	if !strings.Contains(err.Error(), "200 MiB, more than the 1 MiB") || !strings.Contains(tl.Hint(), "rm "+p) {
		t.Fatalf("message: %v / %s", err, tl.Hint())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Fatalf("refusing it allocated %d bytes", alloc)
	}
	if took > time.Second {
		t.Fatalf("refusing it took %v", took)
	}
	t.Logf("200 MB state file refused in %v, %d bytes allocated", took, after.TotalAlloc-before.TotalAlloc)
}

// BenchmarkReadOversized: the cost of refusing a 200 MB file.
func BenchmarkReadOversized(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "gateway_state.json"))
	if err != nil {
		b.Fatal(err)
	}
	_ = f.Truncate(200 << 20)
	f.Close()
	h, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.ReadFile("gateway_state.json", MaxFileSize); !errors.Is(err, ErrTooLarge) {
			b.Fatal(err)
		}
	}
}

func TestLocks(t *testing.T) {
	h, root, _, _ := home(t)
	if locked, err := h.FileLocked("profiles/work/gateway.lock"); locked || err != nil {
		t.Fatalf("no lock file: %v %v", locked, err)
	}
	if _, err := os.Stat(filepath.Join(root, "profiles")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("looking at a lock made something")
	}
	l, ok, err := h.TryLockFile("profiles/work/gateway.lock", 0o644)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, err := h.TryLockFile("profiles/work/gateway.lock", 0o644); ok || err != nil {
		t.Fatalf("a held lock was taken again: %v %v", ok, err)
	}
	if locked, err := h.FileLocked("profiles/work/gateway.lock"); !locked || err != nil {
		t.Fatalf("held: %v %v", locked, err)
	}
	_ = l.Unlock()
	if locked, _ := h.FileLocked("profiles/work/gateway.lock"); locked {
		t.Fatal("released, still locked")
	}
	d, err := h.LockDir(context.Background(), "profiles/work", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.LockDir(ctx, "profiles/work", time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held folder lock: %v", err)
	}
	_ = d.Unlock()
}

// TestTheRootIsReachedThroughTrustedLinksOnly: a link on the way to the
// home that the user running hermes made is followed.
func TestTheRootIsReachedThroughTrustedLinksOnly(t *testing.T) {
	_, root, _, _ := home(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	h, err := Open(filepath.Join(link, "."))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.WriteFileAtomic("x", []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "x")); string(data) != "y" {
		t.Fatal("written elsewhere")
	}
	if _, err := Open(filepath.Join(root, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing home: %v", err)
	}
	made, err := OpenCreate(filepath.Join(root, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	made.Close()
	if os.Geteuid() != 0 {
		return
	}
	// Root never follows a link another user made, nor one in another
	// user's folder.
	if err := os.Lchown(link, 10000, 10000); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("another user's link on the way to the home: %v", err)
	}
	if err := os.Lchown(link, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Dir(link), 10000, 10000); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("a link in another user's folder on the way to the home: %v", err)
	}
}

// TestAWriterCrashingMidWriteLeavesTheOldFileWhole kills a writer between
// writing its temporary file and renaming it: the old file must still be
// whole, and the next writer undisturbed.
func TestAWriterCrashingMidWriteLeavesTheOldFileWhole(t *testing.T) {
	if dir := os.Getenv("HOMEFS_TEST_CRASH"); dir != "" {
		beforeReplace = func() { os.Exit(17) }
		h, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		_ = h.WriteFileAtomic("state.json", []byte(strings.Repeat("x", 1<<20)), 0o644)
		t.Fatal("survived the crash")
	}
	h, root, _, _ := home(t)
	path := filepath.Join(root, "state.json")
	old := `{"gateway_state":"running"}`
	if err := os.WriteFile(path, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAWriterCrashingMidWriteLeavesTheOldFileWhole$")
	cmd.Env = append(os.Environ(), "HOMEFS_TEST_CRASH="+root)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 17 {
		t.Fatalf("writer did not crash where planned: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != old {
		t.Fatalf("old file damaged: %q", data)
	}
	if err := h.WriteFileAtomic("state.json", []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if data, _ := os.ReadFile(path); err != nil || string(data) != "new" || info.Mode().Perm() != 0o640 {
		t.Fatalf("rewrite: %q, mode %v (want the old file's 0640), %v", data, info.Mode(), err)
	}
}

// TestRootGivesWhatItMakesToTheHomesOwner: run as root on a home another
// user owns, every file and folder made or rewritten is theirs; a file of
// a third user stays that user's.
func TestRootGivesWhatItMakesToTheHomesOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own files as another user")
	}
	const uid, gid = 10000, 10000 // the image's hermes user
	_, root, _, _ := home(t)
	if err := os.Chown(root, uid, gid); err != nil {
		t.Fatal(err)
	}
	h, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// An earlier hermes's root-owned file, and a third user's.
	if err := os.WriteFile(filepath.Join(root, "old.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "theirs.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(root, "theirs.json"), 10001, 10001); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"profiles/work/gateway_state.json", "old.json", "theirs.json"} {
		if err := h.WriteFileAtomic(rel, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := h.Append("logs/container-boot.log", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	l, _, err := h.TryLockFile("profiles/work/.hermes-runner.lock", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	d, err := h.LockDir(context.Background(), "profiles/other", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	d.Unlock()
	// A root-only file of an earlier hermes, renamed by the owner to where
	// a lock or the log goes: locked or appended to, it stays root's (and
	// what it holds with it).
	if err := os.WriteFile(filepath.Join(root, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l, _, err := h.TryLockFile("secret", 0o644); err != nil {
		t.Fatal(err)
	} else {
		l.Unlock()
	}
	if f, err := h.Append("secret", 0o644); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	_ = filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := os.Lstat(p)
		st := info.Sys().(*syscall.Stat_t)
		want := uint32(uid)
		switch filepath.Base(p) {
		case "theirs.json":
			want = 10001
		case "secret":
			want = 0
		}
		if st.Uid != want || st.Gid != want {
			t.Errorf("%s is %d:%d, want %d", p, st.Uid, st.Gid, want)
		}
		return nil
	})
}

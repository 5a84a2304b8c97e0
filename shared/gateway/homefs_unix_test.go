//go:build unix

package gateway

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// planted is a home with a named profile and a victim outside it.
func planted(t *testing.T) (root, work, outside, victim string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "home"), filepath.Join(base, "outside")
	work = filepath.Join(root, "profiles", "work")
	for _, d := range []string{work, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	victim = filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("victim"), 0o600); err != nil {
		t.Fatal(err)
	}
	return root, work, outside, victim
}

// TestEveryWriterRefusesASymlink: a link where the state, a marker, a pid
// record or a lock should be, or where the profile's folder should be, is
// refused, and what it points at is left alone.
func TestEveryWriterRefusesASymlink(t *testing.T) {
	root, work, outside, victim := planted(t)
	for _, name := range []string{StateFile, PlannedStopFile, RunnerTakeoverFile, RunnerPIDFile, RunnerLockFile, RunnerGroupFile, LockFile} {
		if err := os.Symlink(victim, filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(root, "profiles", "linked")); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(root, "profiles", "linked")
	for _, dir := range []string{work, linked} {
		for what, err := range map[string]error{
			"UpdateState":     UpdateState(dir, map[string]any{KeyDesiredState: "running"}),
			"WriteMarker":     WriteMarker(dir, os.Getpid()),
			"RunnerTakeover":  WriteRunnerTakeover(dir, os.Getpid()),
			"WritePIDRecord":  Runner.WritePIDRecord(dir, NewPIDRecord(dir)),
			"WriteChildGroup": WriteChildGroup(dir, NewChildGroup(os.Getpid())),
		} {
			if !errors.Is(err, homefs.ErrUnsafe) {
				t.Errorf("%s in %s: %v", what, dir, err)
			}
		}
		if _, _, err := Runner.TryLock(dir); !errors.Is(err, homefs.ErrUnsafe) {
			t.Errorf("TryLock in %s: %v", dir, err)
		}
		if _, err := Runner.ReadPIDRecord(dir); !errors.Is(err, homefs.ErrUnsafe) {
			t.Errorf("ReadPIDRecord in %s: %v", dir, err)
		}
		if _, err := ReadChildGroup(dir); !errors.Is(err, homefs.ErrUnsafe) {
			t.Errorf("ReadChildGroup in %s: %v", dir, err)
		}
		if _, err := ReadState(dir); !errors.Is(err, homefs.ErrUnsafe) {
			t.Errorf("ReadState in %s: %v", dir, err)
		}
		if Runner.Locked(dir) || ConsumeMarker(dir, os.Getpid()) {
			t.Errorf("a symlinked lock or marker in %s counted", dir)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "victim" {
		t.Fatalf("the victim was written: %q", data)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("something was made outside the home: %v", entries)
	}
	if got, err := (Home{Root: root}).Profiles(); err != nil || strings.Join(got, ",") != "default,work" {
		t.Fatalf("a symlinked profile folder is no profile: %v %v", got, err)
	}
}

// TestLockedMakesNothing: asking whether a runner holds the lock leaves
// no lock file (root asking used to leave a root-owned one).
func TestLockedMakesNothing(t *testing.T) {
	_, work, _, _ := planted(t)
	if Runner.Locked(work) || Locked(work) {
		t.Fatal("locked with no lock file")
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Fatalf("Locked made %v", entries)
	}
}

// TestOversizedFilesAreRefusedWithBoundedMemory: a 200 MB state file or
// pid record is an error that says so, read with next to no memory (before
// the cap: 200 MB allocated for a sparse state file, 1.1 GB for an update
// of a 200 MB JSON one), and an update leaves it alone.
func TestOversizedFilesAreRefusedWithBoundedMemory(t *testing.T) {
	_, work, _, _ := planted(t)
	for _, name := range []string{StateFile, RunnerPIDFile, PlannedStopFile} {
		f, err := os.Create(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(200 << 20); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, readErr := ReadState(work)
	updateErr := UpdateState(work, map[string]any{KeyDesiredState: "stopped"})
	_, pidErr := Runner.ReadPIDRecord(work)
	marked := ProbeMarker(work, os.Getpid())
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	for what, err := range map[string]error{"ReadState": readErr, "UpdateState": updateErr, "ReadPIDRecord": pidErr} {
		if !errors.Is(err, homefs.ErrTooLarge) || !strings.Contains(err.Error(), "200 MiB, more than the 1 MiB") {
			t.Errorf("%s: %v", what, err)
		}
	}
	if marked {
		t.Error("an oversized marker counted")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 || took > 2*time.Second {
		t.Fatalf("refusing them took %v and %d bytes", took, alloc)
	}
	if info, _ := os.Stat(filepath.Join(work, StateFile)); info.Size() != 200<<20 {
		t.Fatal("the update rewrote the oversized state")
	}
	t.Logf("three 200 MB files refused in %v, %d bytes allocated", took, after.TotalAlloc-before.TotalAlloc)
}

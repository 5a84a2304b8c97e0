package atomicfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWriterCrashingMidWriteLeavesTheOldFileWhole kills a writer between
// writing its temporary file and renaming it: the old file must still be
// whole, and the next writer undisturbed.
func TestAWriterCrashingMidWriteLeavesTheOldFileWhole(t *testing.T) {
	if path := os.Getenv("ATOMICFILE_TEST_CRASH"); path != "" {
		beforeReplace = func() { os.Exit(17) }
		_ = WriteFile(path, []byte(strings.Repeat("x", 1<<20)), 0o644)
		t.Fatal("survived the crash")
	}
	path := filepath.Join(t.TempDir(), "state.json")
	old := `{"gateway_state":"running"}`
	if err := os.WriteFile(path, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAWriterCrashingMidWriteLeavesTheOldFileWhole$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_TEST_CRASH="+path)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 17 {
		t.Fatalf("writer did not crash where planned: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != old {
		t.Fatalf("old file damaged: %q", data)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if data, _ := os.ReadFile(path); err != nil || string(data) != "new" || info.Mode().Perm() != 0o640 {
		t.Fatalf("rewrite: %q, mode %v (want the old file's 0640), %v", data, info.Mode(), err)
	}
}

func TestANewFileGetsExactlyItsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "unit.service")
	if err := WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Fatalf("%v %v", info, err)
	}
}

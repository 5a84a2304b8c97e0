package privatetree

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

func TestMaxServices(t *testing.T) {
	for _, c := range []struct{ slots, want int }{
		{0, 1000}, {1, 1000}, {250, 1000}, {251, 1004}, {300, 1200}, {600, 2400},
	} {
		if got := maxServices(c.slots); got != c.want {
			t.Errorf("maxServices(%d) = %d, want %d", c.slots, got, c.want)
		}
		// Every slot has a logger: two supervisors, with room to spare.
		if got := maxServices(c.slots); got < 2*c.slots {
			t.Errorf("maxServices(%d) = %d: fewer than the %d supervisors its slots need", c.slots, got, 2*c.slots)
		}
	}
}

func TestCountSlots(t *testing.T) {
	root := t.TempDir()
	count := func() int {
		t.Helper()
		h, err := homefs.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		return countSlots(h)
	}
	if got := count(); got != 1 {
		t.Errorf("a home without profiles: %d slots, want 1 (the default profile)", got)
	}
	for i := range 5 {
		mustMkdir(t, filepath.Join(root, "profiles", "p"+strconv.Itoa(i)))
	}
	mustWrite(t, filepath.Join(root, "profiles", "notes.txt"), "")
	if got := count(); got != 6 {
		t.Errorf("5 profiles: %d slots, want 6", got)
	}
	// Slots already in the scandir count when there are more of them.
	for i := range 8 {
		mustMkdir(t, filepath.Join(root, relScanDir, "s"+strconv.Itoa(i)))
	}
	mustMkdir(t, filepath.Join(root, relScanDir, ".s6-svscan"))
	if got := count(); got != 8 {
		t.Errorf("8 slots in the scandir: %d, want 8", got)
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

package homefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// forceWalk makes openDir walk component by component, as on darwin and
// on kernels older than openat2.
func forceWalk(t *testing.T) {
	was := noOpenat2.Load()
	noOpenat2.Store(true)
	t.Cleanup(func() { noOpenat2.Store(was) })
}

// TestOpenat2ResolvesBeneath: where the kernel has openat2 (5.6+), one
// call opens a folder and refuses a symlink on the way itself.
func TestOpenat2ResolvesBeneath(t *testing.T) {
	h, root, outside, _ := home(t)
	if err := h.MkdirAll("profiles/work", 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := openBeneath(h.fd, "profiles/work")
	if errors.Is(err, errNoOpenat2) {
		t.Skip("this kernel has no openat2")
	}
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if err := os.Symlink(outside, filepath.Join(root, "logs")); err != nil {
		t.Fatal(err)
	}
	if _, err := openBeneath(h.fd, "logs/gateways"); !errors.Is(err, unix.ELOOP) {
		t.Fatalf("openat2 through a symlink: %v", err)
	}
	if _, err := openBeneath(h.fd, "../"); !errors.Is(err, unix.EXDEV) {
		t.Fatalf("openat2 out of the home: %v", err)
	}
}

//go:build !windows

package host

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixOnHostileName: a file named with a newline and a terminal escape
// is named in a fix by its inode from the nearest printable folder, so
// neither the report nor the shell sees the name; the command finds it.
func TestFixOnHostileName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "x\n      fix: rm -rf ~\x1b[2K")
	if err := os.WriteFile(p, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	info, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	fix := fixOn("chmod go-w", p, info)
	want := "find " + shellQuote(dir) + " -xdev -inum "
	if !strings.HasPrefix(fix, want) || !strings.HasSuffix(fix, " -exec chmod go-w {} +") || !printable(fix) {
		t.Fatalf("fix %q, want %q... naming the inode", fix, want)
	}
	if s := shown(p); !printable(s) || !strings.Contains(s, `\n`) {
		t.Errorf("shown(%q) = %q", p, s)
	}
	if fixOn("rm", dir, info) != "rm "+shellQuote(dir) {
		t.Errorf("a printable path is named as it is: %q", fixOn("rm", dir, info))
	}
	// The fix works.
	if out, err := exec.Command("sh", "-c", fix).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", fix, err, out)
	}
	if after, err := os.Lstat(p); err != nil || after.Mode().Perm()&0o022 != 0 {
		t.Errorf("after %s: %v, %v", fix, after.Mode(), err)
	}
}

//go:build !windows

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestARewriteKeepsTheOwner: root rewriting a file the service user owns
// (a state file, a marker) leaves it theirs. Run as anyone else, the file
// is theirs already and the rewrite keeps it so.
func TestARewriteKeepsTheOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway_state.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	if os.Geteuid() == 0 {
		uid, gid = 10000, 10000 // the image's hermes user
		if err := os.Chown(path, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(path, []byte(`{"desired_state":"stopped"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid || info.Mode().Perm() != 0o644 {
		t.Fatalf("owner %d:%d mode %v, want %d:%d 0644", st.Uid, st.Gid, info.Mode().Perm(), uid, gid)
	}
}

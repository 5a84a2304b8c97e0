//go:build !windows

package discovery

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/plugin"
)

// otherUID is an account that is neither root nor the test's user.
const otherUID = 65534 // nobody

// TestTrust is the StrictModes rule: the plugin and every folder up to /
// belong to root or the user and are writable by nobody else; a sticky
// world-writable folder is no exception; links are followed and the
// folders they lead through are checked too.
func TestTrust(t *testing.T) {
	name := plugin.FileName("s6", runtime.GOOS)
	tests := []struct {
		name string
		// setup builds under base and returns the plugin's path.
		setup    func(t *testing.T, base string) string
		root     bool   // needs root (chown)
		refused  string // "" when trusted
		offender string // the path the reason names, relative to base
		fix      string
	}{
		{name: "a plugin in a safe folder", setup: func(t *testing.T, base string) string {
			return plugin1(t, filepath.Join(base, "plugins"), 0o755, 0o755)
		}},
		{name: "a group-writable folder", setup: func(t *testing.T, base string) string {
			return plugin1(t, filepath.Join(base, "plugins"), 0o775, 0o755)
		}, refused: "is writable by its group", offender: "plugins", fix: "chmod g-w "},
		{name: "a world-writable folder", setup: func(t *testing.T, base string) string {
			return plugin1(t, filepath.Join(base, "plugins"), 0o777, 0o755)
		}, refused: "is world-writable (owner ", offender: "plugins", fix: "chmod go-w "},
		{name: "a safe folder inside a sticky world-writable one", setup: func(t *testing.T, base string) string {
			chmod(t, base, os.ModeSticky|0o777)
			return plugin1(t, filepath.Join(base, "plugins"), 0o755, 0o755)
		}, refused: "the sticky bit notwithstanding", offender: "", fix: "move the plugin out of "},
		{name: "a group-writable grandparent", setup: func(t *testing.T, base string) string {
			p := plugin1(t, filepath.Join(base, "a", "b", "plugins"), 0o755, 0o755)
			chmod(t, filepath.Join(base, "a"), 0o770)
			return p
		}, refused: "is writable by its group", offender: "a"},
		{name: "a group-writable file", setup: func(t *testing.T, base string) string {
			return plugin1(t, filepath.Join(base, "plugins"), 0o755, 0o775)
		}, refused: "the file is writable by its group", fix: "chmod g-w "},
		{name: "a world-writable file", setup: func(t *testing.T, base string) string {
			return plugin1(t, filepath.Join(base, "plugins"), 0o755, 0o757)
		}, refused: "the file is world-writable", fix: "chmod go-w "},
		{name: "a link to a plugin in a world-writable folder", setup: func(t *testing.T, base string) string {
			real := plugin1(t, filepath.Join(base, "open"), 0o777, 0o755)
			return link(t, filepath.Join(base, "plugins"), name, real)
		}, refused: "is world-writable", offender: "open"},
		{name: "a relative link through .. to a safe plugin", setup: func(t *testing.T, base string) string {
			plugin1(t, filepath.Join(base, "lib"), 0o755, 0o755)
			return link(t, filepath.Join(base, "bin"), name, "../lib/./"+name)
		}},
		{name: "a link whose own folder is world-writable", setup: func(t *testing.T, base string) string {
			real := plugin1(t, filepath.Join(base, "lib"), 0o755, 0o755)
			mid := link(t, filepath.Join(base, "open"), "mid", real)
			chmod(t, filepath.Join(base, "open"), 0o777)
			return link(t, filepath.Join(base, "plugins"), name, mid)
		}, refused: "is world-writable", offender: "open"},
		{name: "a folder owned by another user", root: true, setup: func(t *testing.T, base string) string {
			p := plugin1(t, filepath.Join(base, "plugins"), 0o755, 0o755)
			chown(t, filepath.Join(base, "plugins"), otherUID)
			return p
		}, refused: "is owned by ", offender: "plugins", fix: "chown root "},
		{name: "a file owned by another user", root: true, setup: func(t *testing.T, base string) string {
			p := plugin1(t, filepath.Join(base, "plugins"), 0o755, 0o755)
			chown(t, p, otherUID)
			return p
		}, refused: "the file is owned by ", fix: "chown root "},
		{name: "an ancestor owned by another user", root: true, setup: func(t *testing.T, base string) string {
			p := plugin1(t, filepath.Join(base, "home", "plugins"), 0o755, 0o755)
			chown(t, filepath.Join(base, "home"), otherUID)
			return p
		}, refused: "is owned by ", offender: "home"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			base := filepath.Join(t.TempDir(), "base")
			if err := os.Mkdir(base, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(base, 0o755) })
			path := tt.setup(t, base)
			c, ok := Examine(path, "test")
			if !ok {
				t.Fatalf("not a plugin: %s", path)
			}
			if tt.refused == "" {
				if c.Refused != nil {
					t.Fatalf("refused: %v", c.Refused)
				}
				real, _ := filepath.EvalSymlinks(path)
				if c.Exec != real {
					t.Fatalf("Exec %s, want %s", c.Exec, real)
				}
				return
			}
			var r *RefusedError
			if !errors.As(c.Refused, &r) || !strings.Contains(r.Reason, tt.refused) {
				t.Fatalf("refused %v, want a reason with %q", c.Refused, tt.refused)
			}
			if r.Path != path || !strings.Contains(r.Reason, "mode ") || !strings.Contains(r.Reason, "owne") {
				t.Fatalf("the reason must name the plugin, the owner and the mode: %v", r)
			}
			if tt.offender != "" || strings.HasPrefix(tt.refused, "the sticky") {
				if off := filepath.Join(base, tt.offender); !strings.Contains(r.Reason, off+" ") || !strings.Contains(r.Hint(), off) {
					t.Fatalf("reason %q / hint %q do not name %s", r.Reason, r.Hint(), off)
				}
			}
			if !strings.Contains(r.Hint(), tt.fix) {
				t.Fatalf("hint %q, want %q", r.Hint(), tt.fix)
			}
		})
	}
}

// TestVerify: the file launched must be the file checked.
func TestVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plugins")
	path := plugin1(t, dir, 0o755, 0o755)
	c, ok := Examine(path, "test")
	if !ok || c.Refused != nil {
		t.Fatalf("%+v", c)
	}
	f, err := os.Open(c.Exec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := c.Verify(f); err != nil {
		t.Fatalf("the checked file: %v", err)
	}
	// Swapped: another file at the same path.
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	writeExe(t, path)
	g, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := c.Verify(g); err == nil || !strings.Contains(err.Error(), "changed between its checks and its launch") {
		t.Fatalf("a swapped file: %v", err)
	}
	// Made writable by others after the checks.
	chmod(t, path+".old", 0o777)
	if err := c.Verify(f); err == nil || !strings.Contains(err.Error(), "world-writable") {
		t.Fatalf("a file made world-writable: %v", err)
	}
}

// plugin1 makes dir (mode dirMode, its parents 0755) holding the s6 plugin
// (mode fileMode) and returns the plugin's path.
func plugin1(t *testing.T, dir string, dirMode, fileMode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, plugin.FileName("s6", runtime.GOOS))
	writeExe(t, path)
	chmod(t, path, fileMode)
	chmod(t, dir, dirMode)
	return path
}

// link makes dir/name a symbolic link to target and returns its path.
func link(t *testing.T, dir, name, target string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string, uid int) {
	t.Helper()
	if err := os.Lchown(p, uid, -1); err != nil {
		t.Fatal(err)
	}
}

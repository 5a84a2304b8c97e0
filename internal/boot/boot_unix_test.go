//go:build unix

package boot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/homefs"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

func fixture(t *testing.T) (home gateway.Home, outside, victim string) {
	t.Helper()
	base := t.TempDir()
	home, outside = gateway.Home{Root: filepath.Join(base, "home")}, filepath.Join(base, "outside")
	for _, d := range []string{home.Root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	victim = filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return home, outside, victim
}

// TestTheAuditLogIsNeverWrittenThroughASymlink: the attack, a
// symlinked container-boot.log (or logs/) that had root's reconcile append
// to a root-only file, is refused.
func TestTheAuditLogIsNeverWrittenThroughASymlink(t *testing.T) {
	for _, link := range []string{"logs/" + LogFile, "logs"} {
		t.Run(link, func(t *testing.T) {
			home, outside, victim := fixture(t)
			target := victim
			if link == "logs" {
				target = outside
			} else if err := os.Mkdir(filepath.Join(home.Root, "logs"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(home.Root, link)); err != nil {
				t.Fatal(err)
			}
			err := WriteLog(home, []string{"a line"}, &bytes.Buffer{})
			if !errors.Is(err, homefs.ErrUnsafe) || !strings.HasPrefix(err.Error(), "audit log: refusing to use ") {
				t.Fatalf("got %v", err)
			}
			if data, _ := os.ReadFile(victim); string(data) != "root only\n" {
				t.Fatalf("the victim was written: %q", data)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Fatalf("made outside the home: %v", entries)
			}
		})
	}
}

// TestTheAuditLogRotates: at 256 KiB the log moves to .1 (a symlink
// there is replaced, never followed) and a fresh one starts.
func TestTheAuditLogRotates(t *testing.T) {
	home, _, victim := fixture(t)
	logs := filepath.Join(home.Root, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, LogFile), bytes.Repeat([]byte("x"), logRotate), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(logs, LogFile+".1")); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	if err := WriteLog(home, []string{"one", "two"}, &warn); err != nil || warn.Len() > 0 {
		t.Fatal(err, warn.String())
	}
	if data, _ := os.ReadFile(filepath.Join(logs, LogFile)); string(data) != "one\ntwo\n" {
		t.Fatalf("fresh log: %q", data)
	}
	if info, err := os.Lstat(filepath.Join(logs, LogFile+".1")); err != nil || !info.Mode().IsRegular() || info.Size() != logRotate {
		t.Fatalf("rotated log: %v %v", info, err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "root only\n" {
		t.Fatalf("the victim was written: %q", data)
	}
}

// TestEntriesSkipSymlinks: a symlinked profile folder, or a symlinked
// profiles/, is skipped with a warning; an unreadable state is warned
// about and counts as no intent.
func TestEntriesSkipSymlinks(t *testing.T) {
	home, outside, _ := fixture(t)
	for _, d := range []string{"profiles/work", "profiles/real"} {
		if err := os.MkdirAll(filepath.Join(home.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"profiles/real/SOUL.md", filepath.Join(outside, "SOUL.md")} {
		if !filepath.IsAbs(p) {
			p = filepath.Join(home.Root, p)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(home.Root, "profiles", "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(home.Root, gateway.StateFile)); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	entries, err := Entries(home, &warn)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Profile+"="+e.Prior)
	}
	if strings.Join(names, ",") != "default=,real=" {
		t.Fatalf("entries %v", names)
	}
	for _, want := range []string{"skipping " + filepath.Join(home.Root, "profiles", "evil") + ": it is a symbolic link",
		"the default profile's recorded intent cannot be read", "hint: remove the link"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings lack %q:\n%s", want, warn.String())
		}
	}

	if err := os.Rename(filepath.Join(home.Root, "profiles"), filepath.Join(outside, "profiles")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "profiles"), filepath.Join(home.Root, "profiles")); err != nil {
		t.Fatal(err)
	}
	warn.Reset()
	if entries, err = Entries(home, &warn); err != nil || len(entries) != 1 || !strings.Contains(warn.String(), "skipping every named profile") {
		t.Fatalf("a symlinked profiles/: %v %v\n%s", entries, err, warn.String())
	}
}

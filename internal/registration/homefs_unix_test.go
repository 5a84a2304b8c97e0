//go:build unix

package registration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// TestASymlinkOrAHugeFileIsRefused: the settings are never written or read
// through a symlink, and never read past 1 MiB.
func TestASymlinkOrAHugeFileIsRefused(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "home", "profiles", "work")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte(`{"protocol":"plain"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, File)); err != nil {
		t.Fatal(err)
	}
	if _, err := Save(dir, Settings{Protocol: "hermes"}); !errors.Is(err, homefs.ErrUnsafe) {
		t.Fatalf("Save through a symlink: %v", err)
	}
	if _, _, err := Load(dir); !errors.Is(err, homefs.ErrUnsafe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Load through a symlink: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != `{"protocol":"plain"}` {
		t.Fatalf("the victim was written: %q", data)
	}
	if err := os.Remove(filepath.Join(dir, File)); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Truncate(200 << 20)
	f.Close()
	if _, _, err := Load(dir); !errors.Is(err, homefs.ErrTooLarge) {
		t.Fatalf("Load of 200 MB: %v", err)
	}
}

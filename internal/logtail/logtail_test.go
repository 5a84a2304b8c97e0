package logtail

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/service"
)

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "current")
	var b strings.Builder
	for i := range 5000 {
		b.WriteString(strings.Repeat("x", i%97) + "\n")
	}
	b.WriteString("unfinished")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	lines, end, err := tail(f, 3)
	if err != nil || len(lines) != 3 || lines[2] != strings.Repeat("x", 4999%97) {
		t.Fatalf("%q %v", lines, err)
	}
	if info, _ := f.Stat(); end != info.Size()-int64(len("unfinished")) {
		t.Fatalf("end %d", end)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, nil, 0o644)
	g, _ := os.Open(empty)
	defer g.Close()
	if lines, end, err := tail(g, 10); len(lines) != 0 || end != 0 || err != nil {
		t.Fatalf("empty: %q %d %v", lines, end, err)
	}
}

func TestFollowAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "current")
	if err := os.WriteFile(path, []byte("old 1\nold 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		got []string
	)
	lines := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	done := make(chan error, 1)
	go func() {
		done <- File(ctx, path, 1, true, Plain, func(l service.LogLine) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, l.Text)
			if len(got) == 4 {
				cancel()
			}
			return nil
		})
	}()
	// Each write waits until the follow has sent what came before it: the
	// last line first, then the appended one from the file before rotation.
	if err := wait.For(ctx, "the last line", 5*time.Second, func() bool { return lines() >= 1 }); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	f.WriteString("new 1\n")
	f.Close()
	if err := wait.For(ctx, "the appended line", 5*time.Second, func() bool { return lines() >= 2 }); err != nil {
		t.Fatal(err)
	}
	// Rotation: the current file moves away, a new one starts.
	_ = os.Rename(path, filepath.Join(dir, "@old.s"))
	_ = os.WriteFile(path, []byte("rotated 1\nrotated 2\n"), 0o644)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "old 2,new 1,rotated 1,rotated 2" {
		t.Fatalf("got %v", got)
	}
}

func TestALinkedLogIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no O_NOFOLLOW")
	}
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "current")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := File(context.Background(), link, 10, false, Plain, func(l service.LogLine) error { got = append(got, l.Text); return nil })
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || len(got) != 0 {
		t.Fatalf("a linked log: %v, read %q", err, got)
	}
}

//go:build !windows

package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// later is a clock far enough past any file made in a test that its
// changes are outside racyWindow.
func later() time.Time { return time.Now().Add(time.Hour) }

func identityT(t *testing.T, path string) fileIdentity {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	id, ok := identityOf(info)
	if !ok {
		t.Fatal("no identity")
	}
	return id
}

// TestSumCacheTrustsOnlyTheSameFile: a digest is reused only for the very
// file it was computed from, from a cache only this user can write.
func TestSumCacheTrustsOnlyTheSameFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		// change runs after the digest was remembered; true: the cache must
		// still vouch for the file.
		change func(t *testing.T, plugin, cache string)
		want   bool
	}{
		{"unchanged", func(*testing.T, string, string) {}, true},
		{"rewritten in place, same size, mtime put back", func(t *testing.T, plugin, _ string) {
			info, _ := os.Stat(plugin)
			writeT(t, plugin, "BBBBBBBB")
			if err := os.Chtimes(plugin, info.ModTime(), info.ModTime()); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"replaced by another file", func(t *testing.T, plugin, _ string) {
			writeT(t, plugin+".new", "AAAAAAAA")
			if err := os.Rename(plugin+".new", plugin); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"cache writable by others", func(t *testing.T, _, cache string) {
			if err := os.Chmod(cache, 0o666); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"cache folder writable by others", func(t *testing.T, _, cache string) {
			if err := os.Chmod(filepath.Dir(cache), 0o777); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"cache is a link", func(t *testing.T, _, cache string) {
			if err := os.Rename(cache, cache+".real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(cache+".real", cache); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			plugin := filepath.Join(dir, "hermes-service-x")
			writeT(t, plugin, "AAAAAAAA")
			sum := sha256.Sum256([]byte("AAAAAAAA"))
			c := sumCache{Path: filepath.Join(dir, "cache", sumCacheFile)}
			c.remember(identityT(t, plugin), sum[:], later())
			if !c.verified(identityT(t, plugin), sum[:]) {
				t.Fatal("a remembered digest is not found")
			}
			tc.change(t, plugin, c.Path)
			if got := c.verified(identityT(t, plugin), sum[:]); got != tc.want {
				t.Errorf("verified = %t, want %t", got, tc.want)
			}
		})
	}
}

// TestSumCacheKeepsNoRacyDigest: a file changed within racyWindow of the
// hash could change again with the same timestamps: its digest is not kept.
func TestSumCacheKeepsNoRacyDigest(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "p")
	writeT(t, plugin, "AAAA")
	sum := sha256.Sum256([]byte("AAAA"))
	c := sumCache{Path: filepath.Join(dir, sumCacheFile)}
	c.remember(identityT(t, plugin), sum[:], time.Now())
	if c.verified(identityT(t, plugin), sum[:]) {
		t.Error("a digest of a file changed a moment ago was kept")
	}
	if _, err := os.Stat(c.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cache file was written: %v", err)
	}
}

// TestSumCacheAnswersOnlyItsDigest: a cached digest other than the one the
// checksum file now records is no verification (the checksum file was
// upgraded, the plugin not).
func TestSumCacheAnswersOnlyItsDigest(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "p")
	writeT(t, plugin, "AAAA")
	sum := sha256.Sum256([]byte("AAAA"))
	other := sha256.Sum256([]byte("BBBB"))
	c := sumCache{Path: filepath.Join(dir, sumCacheFile)}
	c.remember(identityT(t, plugin), sum[:], later())
	if c.verified(identityT(t, plugin), other[:]) {
		t.Error("the cache vouched for a digest it never saw")
	}
}

// TestSumCacheIsBounded: the cache keeps the newest sumCacheLimit files,
// one entry each.
func TestSumCacheIsBounded(t *testing.T) {
	dir := t.TempDir()
	c := sumCache{Path: filepath.Join(dir, sumCacheFile)}
	var first fileIdentity
	for i := range sumCacheLimit + 5 {
		p := filepath.Join(dir, "p"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		writeT(t, p, "x")
		id := identityT(t, p)
		if i == 0 {
			first = id
		}
		sum := sha256.Sum256([]byte("x"))
		c.remember(id, sum[:], later())
		c.remember(id, sum[:], later()) // again: still one entry
	}
	entries := c.read()
	if len(entries) != sumCacheLimit {
		t.Fatalf("%d entries, want %d", len(entries), sumCacheLimit)
	}
	for _, e := range entries {
		if e.id == first {
			t.Error("the oldest entry was kept")
		}
	}
}

func writeT(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSumCacheKeepsKindAndDigest: the kind a file identified as and the
// digest it was hashed to live in one entry; either update keeps the other,
// and a changed file knows neither.
func TestSumCacheKeepsKindAndDigest(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "p")
	writeT(t, plugin, "AAAA")
	sum := sha256.Sum256([]byte("AAAA"))
	c := sumCache{Path: filepath.Join(dir, sumCacheFile)}
	id := identityT(t, plugin)
	if c.knownKind(id) != "" {
		t.Fatal("a kind known before any launch")
	}
	c.rememberKind(id, "s6", later())
	c.remember(id, sum[:], later())
	if c.knownKind(id) != "s6" || !c.verified(id, sum[:]) {
		t.Fatalf("kind %q, verified %t", c.knownKind(id), c.verified(id, sum[:]))
	}
	c.rememberKind(id, "s6", later())
	if !c.verified(id, sum[:]) {
		t.Error("remembering the kind again lost the digest")
	}
	writeT(t, plugin, "BBBB")
	if id2 := identityT(t, plugin); c.knownKind(id2) != "" || c.verified(id2, sum[:]) {
		t.Error("a rewritten file kept its kind or digest")
	}
	// A cache written before kinds were kept (six fields a line) still reads.
	old := filepath.Join(dir, "old")
	line := id.String() + " " + hex.EncodeToString(sum[:]) + "\n"
	if err := os.WriteFile(old, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if oc := (sumCache{Path: old}); !oc.verified(id, sum[:]) || oc.knownKind(id) != "" {
		t.Error("an entry without a kind is not read")
	}
}

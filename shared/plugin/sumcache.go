package plugin

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
)

// A plugin with a checksum file beside it is hashed before it runs: 13 MiB
// of SHA-256, 13 ms, on every command; and every launch asked the plugin
// its kind, a round trip. The digest cache remembers, per file identity, a
// digest that matched and the kind the file identified as, so that an
// unchanged file is hashed and asked once. DESIGN.md ("Plugin checksums") has the threat model; in
// short: a file's content cannot change without its identity changing (a
// write moves mtime and ctime, ctime cannot be set back but by changing
// the clock, a replaced file is a new inode), the cache belongs to the
// user who runs hermes and only that user's runs trust it, and a digest is
// remembered only for a file whose last change is older than racyWindow.

// fileIdentity is what changes whenever a file's content can have.
type fileIdentity struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // nanoseconds since the epoch
}

func (id fileIdentity) String() string {
	return fmt.Sprintf("%d %d %d %d %d", id.Dev, id.Ino, id.Size, id.Mtime, id.Ctime)
}

// racyWindow is how recent a change may be for a digest to be remembered:
// a file written again within the filesystem's timestamp granularity of
// the change hashed could keep its identity.
const racyWindow = 2 * time.Second

// sumCacheLimit bounds the entries kept (a machine has a few plugins; a
// few upgrades' worth is plenty).
const sumCacheLimit = 32

// sumCacheMax bounds what is read of the cache file.
const sumCacheMax = 64 << 10

// sumCacheFile is the digest cache's file name in its folder.
const sumCacheFile = "plugin-sums"

// sumCache is one user's digest cache: Path is where it is kept.
type sumCache struct {
	Path string
}

// defaultSumCache is the cache of the user this process runs as: root's
// under /var/cache/hermes, whatever the environment says (sudo keeps the
// caller's), anyone else's in their cache folder. Empty when there is none
// (no identity to key on, no cache folder).
func defaultSumCache() sumCache {
	if !identitiesKnown {
		return sumCache{}
	}
	if os.Geteuid() == 0 {
		return sumCache{Path: filepath.Join(rootCacheDir, sumCacheFile)}
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return sumCache{}
	}
	return sumCache{Path: filepath.Join(dir, "hermes", sumCacheFile)}
}

// rootCacheDir is root's cache folder for hermes.
const rootCacheDir = "/var/cache/hermes"

// verified reports whether the cache holds want as the digest of the file
// with identity id.
func (c sumCache) verified(id fileIdentity, want []byte) bool {
	e, ok := c.lookup(id)
	return ok && e.digest != nil && bytes.Equal(e.digest, want)
}

// knownKind is the kind the file with identity id identified as before,
// "" when the cache does not know.
func (c sumCache) knownKind(id fileIdentity) string {
	e, _ := c.lookup(id)
	return e.kind
}

func (c sumCache) lookup(id fileIdentity) (sumEntry, bool) {
	for _, e := range c.read() {
		if e.id == id {
			return e, true
		}
	}
	return sumEntry{}, false
}

// remember records digest for the file with identity id, unless its last
// change is too recent to be sure of; failures are ignored (the next run
// hashes again).
func (c sumCache) remember(id fileIdentity, digest []byte, now time.Time) {
	c.update(id, now, func(e *sumEntry) { e.digest = digest })
}

// rememberKind records that the file with identity id identified as kind
// (the launch's kind check), as remember records a digest.
func (c sumCache) rememberKind(id fileIdentity, kind string, now time.Time) {
	c.update(id, now, func(e *sumEntry) { e.kind = kind })
}

// update changes the entry of id (a new one when there is none) and writes
// the cache back, oldest entries dropped past sumCacheLimit.
func (c sumCache) update(id fileIdentity, now time.Time, change func(*sumEntry)) {
	if c.Path == "" || now.Sub(time.Unix(0, id.Ctime)) < racyWindow || now.Sub(time.Unix(0, id.Mtime)) < racyWindow {
		return
	}
	entry := sumEntry{id: id}
	var keep []sumEntry
	for _, e := range c.read() {
		switch {
		case e.id == id:
			entry = e
		case e.id.Dev != id.Dev || e.id.Ino != id.Ino:
			keep = append(keep, e)
		}
	}
	change(&entry)
	if len(keep) >= sumCacheLimit {
		keep = keep[len(keep)-sumCacheLimit+1:]
	}
	keep = append(keep, entry)
	var b strings.Builder
	for _, e := range keep {
		sum, kind := "-", "-"
		if e.digest != nil {
			sum = hex.EncodeToString(e.digest)
		}
		if e.kind != "" {
			kind = e.kind
		}
		fmt.Fprintf(&b, "%s %s %s\n", e.id, sum, kind)
	}
	dir := filepath.Dir(c.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil || !ownedSafely(dir, false) {
		return
	}
	_ = atomicfile.WriteFile(c.Path, []byte(b.String()), 0o600)
}

// sumEntry is what the cache knows of one file: the digest that matched
// its checksum file (nil: none checked), the kind it identified as ("":
// not asked).
type sumEntry struct {
	id     fileIdentity
	digest []byte
	kind   string
}

// read is the cache's entries, oldest first; none when the file or its
// folder could be written by anyone but this user (or root), or is not a
// regular file.
func (c sumCache) read() []sumEntry {
	if c.Path == "" || !ownedSafely(filepath.Dir(c.Path), true) {
		return nil
	}
	f, err := openNoFollow(c.Path)
	if err != nil {
		return nil
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || !ownedByMe(info) || info.Mode().Perm()&0o022 != 0 {
		return nil
	}
	var out []sumEntry
	sc := bufio.NewScanner(io.LimitReader(f, sumCacheMax))
	for sc.Scan() {
		var e sumEntry
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		if _, err := fmt.Sscan(strings.Join(f[:5], " "), &e.id.Dev, &e.id.Ino, &e.id.Size, &e.id.Mtime, &e.id.Ctime); err != nil {
			continue
		}
		if f[5] != "-" {
			if e.digest, err = hex.DecodeString(f[5]); err != nil || len(e.digest) != 32 {
				continue
			}
		}
		if len(f) > 6 && f[6] != "-" {
			e.kind = f[6]
		}
		out = append(out, e)
	}
	return out
}

// ownedSafely reports whether path (not followed if a link) is a folder
// this user or root owns that no one else may write to; a missing one is
// fine when missingOK.
func ownedSafely(path string, missingOK bool) bool {
	info, err := os.Lstat(path)
	if err != nil {
		return missingOK && os.IsNotExist(err)
	}
	return info.IsDir() && ownedByMe(info) && info.Mode().Perm()&0o022 == 0
}

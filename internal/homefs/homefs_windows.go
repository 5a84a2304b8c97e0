//go:build windows

package homefs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
)

// Home is a Hermes home. On Windows hermes reaches its files by path, as
// it always did: a home there is the user's own, and the service runs as
// that user or as LocalSystem on a folder the administrator chose.
type Home struct {
	root string
}

// Open opens the home whose root folder is root, which must exist.
func Open(root string) (*Home, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, &NotRegularError{Path: abs, Found: "a file", Want: "a folder"}
	}
	return &Home{root: abs}, nil
}

// OpenCreate opens the home at root, making it first when missing.
func OpenCreate(root string) (*Home, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	return Open(abs)
}

// Close does nothing on Windows.
func (h *Home) Close() error { return nil }

// Root is the home's root folder, absolute.
func (h *Home) Root() string { return h.root }

// Path is rel as a path on this machine.
func (h *Home) Path(rel string) string { return filepath.Join(h.root, filepath.FromSlash(rel)) }

func (h *Home) path(rel string) (string, error) {
	if _, err := components(rel); err != nil {
		return "", err
	}
	return h.Path(rel), nil
}

// MkdirAll makes the folder rel and any missing parents.
func (h *Home) MkdirAll(rel string, perm os.FileMode) error {
	p, err := h.path(rel)
	if err != nil {
		return err
	}
	return os.MkdirAll(p, perm)
}

// WriteFileAtomic replaces rel with data in one step (internal/atomicfile).
func (h *Home) WriteFileAtomic(rel string, data []byte, perm os.FileMode) error {
	p, err := h.path(rel)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, data, perm)
}

// Append opens rel for appending, made when missing along with its
// folders.
func (h *Home) Append(rel string, perm os.FileMode) (*os.File, error) {
	p, err := h.path(rel)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
}

// ReadFile reads rel, refusing a file larger than max.
func (h *Home) ReadFile(rel string, max int64) ([]byte, error) {
	p, err := h.path(rel)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{Path: p, Found: "not a regular file", Want: "a regular file"}
	}
	if info.Size() > max {
		return nil, &TooLargeError{Path: p, Size: info.Size(), Max: max}
	}
	var b bytes.Buffer
	b.Grow(int(info.Size()) + 1)
	n, err := b.ReadFrom(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, &TooLargeError{Path: p, Size: n, Max: max}
	}
	return b.Bytes(), nil
}

// Exists reports whether something is at rel.
func (h *Home) Exists(rel string) bool {
	p, err := h.path(rel)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

// ReadDir lists the folder rel, sorted by name.
func (h *Home) ReadDir(rel string) ([]fs.DirEntry, error) {
	p, err := h.path(rel)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(p)
}

// Remove removes the file rel.
func (h *Home) Remove(rel string) error {
	p, err := h.path(rel)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// Rename moves from to to.
func (h *Home) Rename(from, to string) error {
	a, err := h.path(from)
	if err != nil {
		return err
	}
	b, err := h.path(to)
	if err != nil {
		return err
	}
	return os.Rename(a, b)
}

// Lock is an exclusive lock hermes holds on a lock file of a home.
type Lock struct{ fl *flock.Flock }

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.fl.Close() }

// dirLockFile is the file LockDir locks in the folder: Windows cannot lock
// a folder.
const dirLockFile = ".gateway_state.lock"

// LockDir takes an exclusive lock for the folder rel (made when missing):
// on Windows, on the file .gateway_state.lock in it.
func (h *Home) LockDir(ctx context.Context, rel string, poll time.Duration) (*Lock, error) {
	if err := h.MkdirAll(rel, 0o755); err != nil {
		return nil, err
	}
	fl := flock.New(filepath.Join(h.Path(rel), dirLockFile))
	ok, err := fl.TryLockContext(ctx, poll)
	if err != nil || !ok {
		_ = fl.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
	}
	return &Lock{fl: fl}, nil
}

// TryLockFile takes the lock file rel without waiting; ok is false when
// another process holds it.
func (h *Home) TryLockFile(rel string, perm os.FileMode) (*Lock, bool, error) {
	p, err := h.path(rel)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, false, err
	}
	fl := flock.New(p, flock.SetPermissions(perm))
	ok, err := fl.TryLock()
	if err != nil || !ok {
		_ = fl.Close()
		return nil, false, err
	}
	return &Lock{fl: fl}, true, nil
}

// FileLocked reports whether another process holds the lock file rel; no
// file, no holder.
func (h *Home) FileLocked(rel string) (bool, error) {
	p, err := h.path(rel)
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	l, ok, err := h.TryLockFile(rel, 0o644)
	if ok {
		_ = l.Unlock()
	}
	return !ok && err == nil, err
}

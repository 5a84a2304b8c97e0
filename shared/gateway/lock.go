package gateway

import (
	"path/filepath"

	"github.com/gofrs/flock"
)

// Lock is a profile's gateway.lock, held by the one runner of its gateway.
// The kernel releases it when the holder dies, however it dies.
type Lock struct {
	fl *flock.Flock
}

// TryLock takes dir/gateway.lock without waiting; ok is false when another
// process holds it.
func TryLock(dir string) (l *Lock, ok bool, err error) {
	if err := ensureDir(dir); err != nil {
		return nil, false, err
	}
	fl := flock.New(filepath.Join(dir, LockFile), flock.SetPermissions(0o644))
	ok, err = fl.TryLock()
	if err != nil || !ok {
		_ = fl.Close() // the failed attempt's file must not stay open
		return nil, false, err
	}
	return &Lock{fl: fl}, true, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.fl.Close() }

// Locked reports whether some process holds dir/gateway.lock now.
func Locked(dir string) bool {
	l, ok, err := TryLock(dir)
	if err != nil || !ok {
		return err == nil
	}
	_ = l.Unlock()
	return false
}

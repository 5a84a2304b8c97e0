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

// Claim is a pair of files by which one process claims a profile's gateway:
// a pid record and a lock held while it runs. Upstream's gateway claims it
// with gateway.pid and gateway.lock (Upstream); a plain-protocol runner,
// which supervises a program that knows nothing of this, with names
// upstream never reads (Runner), so the two can never mistake each other
// for a gateway that is already running.
type Claim struct {
	PIDFile  string
	LockFile string
}

var (
	// Upstream is upstream's gateway's claim.
	Upstream = Claim{PIDFile: PIDFile, LockFile: LockFile}
	// Runner is a plain-protocol runner's claim.
	Runner = Claim{PIDFile: RunnerPIDFile, LockFile: RunnerLockFile}
)

// TryLock takes dir/gateway.lock without waiting; ok is false when another
// process holds it.
func TryLock(dir string) (l *Lock, ok bool, err error) { return Upstream.TryLock(dir) }

// TryLock takes the claim's lock in dir without waiting; ok is false when
// another process holds it.
func (c Claim) TryLock(dir string) (l *Lock, ok bool, err error) {
	if err := ensureDir(dir); err != nil {
		return nil, false, err
	}
	fl := flock.New(filepath.Join(dir, c.LockFile), flock.SetPermissions(0o644))
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
func Locked(dir string) bool { return Upstream.Locked(dir) }

// Locked reports whether some process holds the claim's lock in dir now.
func (c Claim) Locked(dir string) bool {
	l, ok, err := c.TryLock(dir)
	if err != nil || !ok {
		return err == nil
	}
	_ = l.Unlock()
	return false
}

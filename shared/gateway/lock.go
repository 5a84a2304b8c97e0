package gateway

import (
	"github.com/nousresearch/hermes-service/internal/homefs"
)

// Lock is a profile's gateway.lock, held by the one runner of its gateway.
// The kernel releases it when the holder dies, however it dies.
type Lock struct {
	l *homefs.Lock
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
// another process holds it. The folder and the lock file are made when
// missing (the home owner's, whoever runs hermes); a symlink at either is
// refused.
func (c Claim) TryLock(dir string) (l *Lock, ok bool, err error) {
	h, rel, err := openDir(dir, true)
	if err != nil {
		return nil, false, err
	}
	defer h.Close()
	hl, ok, err := h.TryLockFile(homefs.Join(rel, c.LockFile), 0o644)
	if err != nil || !ok {
		return nil, false, err
	}
	return &Lock{l: hl}, true, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.l.Unlock() }

// Locked reports whether some process holds dir/gateway.lock now.
func Locked(dir string) bool { return Upstream.Locked(dir) }

// Locked reports whether some process holds the claim's lock in dir now.
// It makes nothing: no lock file, no holder (a look from root leaves no
// root-owned lock file behind). A lock file that cannot be opened safely
// (a symlink) has no holder either.
func (c Claim) Locked(dir string) bool {
	h, rel, err := openDir(dir, false)
	if err != nil {
		return false
	}
	defer h.Close()
	locked, _ := h.FileLocked(homefs.Join(rel, c.LockFile))
	return locked
}

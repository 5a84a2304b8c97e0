//go:build !windows

package s6

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Backend keeps profile gateways as s6 slots.
type Backend struct {
	backend.Base
	cfg Config
}

// New returns the backend for cfg.
func New(cfg Config) *Backend { return &Backend{Base: cfg.Base(identity), cfg: cfg} }

// FromEnv is the plugin's factory: the backend configured from the
// environment the host passes.
var FromEnv = backend.FromConfig(ConfigFromEnv, New)

// Install is not how s6 containers work.
func (b *Backend) Install(context.Context, string, service.InstallOptions) error {
	return &service.UnsupportedError{Operation: "install", Backend: service.KindS6,
		HintText: "in an s6 container, register the gateway instead: hermes gateway register (reconcile brings it back at boot)"}
}

// Uninstall is not how s6 containers work.
func (b *Backend) Uninstall(context.Context, string) error {
	return &service.UnsupportedError{Operation: "uninstall", Backend: service.KindS6,
		HintText: "in an s6 container, unregister the gateway instead: hermes gateway unregister"}
}

func (b *Backend) notRegistered(profile string) error {
	return &service.NotRegisteredError{Profile: profile, Service: slotName(profile)}
}

// registered reports whether the profile's slot exists: a folder, not a
// symbolic link (hermes never makes one; whoever planted it, it is not a
// slot to work on).
func (b *Backend) registered(profile string) bool {
	info, err := os.Lstat(b.cfg.slot(profile))
	return err == nil && info.IsDir()
}

// lockProfile takes the profile's lock, .gateway-<p>.lock in the scandir
// (see lockAt: opened from the scandir held open, never through a link):
// every call that changes the profile's slot or its recorded intent holds
// it throughout, so that calls on one profile from several processes run
// one after another. Eight concurrent registers make one slot; concurrent
// starts, stops and restarts leave desired_state, the down file and what
// s6 wants all saying the last call's word, not a mix of two (issue 17).
// The wait is bounded (profileLockWait); past it the call fails with a
// *busyError.
func (b *Backend) lockProfile(ctx context.Context, profile string) (func(), error) {
	if err := os.MkdirAll(b.cfg.ScanDir, 0o755); err != nil {
		return nil, scanDirError(b.cfg.ScanDir, err)
	}
	scan, err := b.cfg.openScanDir()
	if err != nil {
		return nil, err
	}
	defer scan.Close()
	return b.lockProfileIn(ctx, scan, profile)
}

// lockProfileIn is lockProfile with the scandir held open (scan).
func (b *Backend) lockProfileIn(ctx context.Context, scan *os.File, profile string) (func(), error) {
	name := "." + slotName(profile) + ".lock"
	// One try first: a lock no one holds is the common case, and the bound
	// of the wait (which reads the slot's stop budget) is only needed when
	// someone does.
	tried, cancel := context.WithCancel(ctx)
	cancel()
	l, err := lockAt(tried, scan, name)
	if err == nil && same(l, scan, name) {
		return func() { _ = l.Close() }, nil
	}
	if l != nil {
		_ = l.Close()
	}
	limit := b.profileLockWait(profile)
	lockCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		l, err := lockAt(lockCtx, scan, name)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			return nil, &busyError{Profile: profile, Lock: filepath.Join(b.cfg.ScanDir, name), Waited: limit}
		case errors.Is(err, os.ErrPermission):
			return nil, &service.PermissionError{Path: filepath.Join(b.cfg.ScanDir, name), Operation: "open the profile's lock",
				HintText: "run as root or as the user that owns the scandir; a lock only root can read was made by an older hermes run as root: remove it, hermes makes it again"}
		default:
			return nil, fmt.Errorf("lock the %s slot: %w", profile, err)
		}
		// Whoever can write the scandir can replace the lock file while this
		// call waited on it: a lock on a file no longer under that name
		// excludes no one. Take the one that is there now.
		if same(l, scan, name) {
			return func() { _ = l.Close() }, nil
		}
		_ = l.Close()
	}
}

// same reports whether name in dir is still the file l holds.
func same(l *heldLock, dir *os.File, name string) bool {
	now, ok, err := lstatAt(dir, name)
	return ok && err == nil && uint64(now.Dev) == l.dev && uint64(now.Ino) == l.ino
}

// lockSlack is how much longer than the longest legitimate holder (a Stop:
// the slot's stop budget and stopMargin) a call waits for a profile's lock.
const lockSlack = time.Minute

// profileLockWait bounds the wait for the profile's lock: only a holder
// that hangs (or a lock held from outside hermes) makes it run out.
func (b *Backend) profileLockWait(profile string) time.Duration {
	return b.stopBudget(profile) + stopMargin + lockSlack
}

// busyError is a lifecycle call that gave up waiting for another call on
// the same profile to finish.
type busyError struct {
	Profile string
	Lock    string
	Waited  time.Duration
}

func (e *busyError) Error() string {
	return fmt.Sprintf("another call on the %s gateway still holds its lock %s after %s; nothing was changed", e.Profile, e.Lock, e.Waited)
}

// Hint says what to do.
func (e *busyError) Hint() string {
	return "wait for the other hermes gateway command on this profile to finish, then run this one again; " +
		"fuser -v " + e.Lock + " shows which process holds the lock"
}

func scanDirError(dir string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &service.PermissionError{Path: dir, Operation: "write the s6 scandir",
			HintText: "run as the user that owns the scandir, or point HERMES_S6_SCANDIR (--scandir) at one you can write"}
	}
	return fmt.Errorf("s6 scandir %s: %w", dir, err)
}

// publish builds the profile's slot in .gateway-<p>.tmp and moves it into
// place. With replace, an existing slot is swapped out in one step and
// left at .gateway-<p>.old, which the caller removes once s6-svscan has let
// go of it (see retire); displaced is that folder, "" when nothing was
// replaced.
func (b *Backend) publish(profile string, argv []string, opts service.RegisterOptions, replace bool) (displaced string, err error) {
	scan, err := b.cfg.openScanDir()
	if err != nil {
		return "", err
	}
	defer scan.Close()
	return b.publishIn(scan, profile, argv, opts, replace)
}

// publishIn is publish with the scandir held open (scan).
func (b *Backend) publishIn(scan *os.File, profile string, argv []string, opts service.RegisterOptions, replace bool) (displaced string, err error) {
	slot := b.cfg.slot(profile)
	tmpName := "." + slotName(profile) + ".tmp"
	tmp := filepath.Join(b.cfg.ScanDir, tmpName)
	s, err := newStaging(scan, tmpName)
	if errors.Is(err, unix.EEXIST) {
		// What an interrupted registration left. RemoveAll removes a link,
		// never what it points to.
		if err := os.RemoveAll(tmp); err != nil {
			return "", scanDirError(b.cfg.ScanDir, err)
		}
		s, err = newStaging(scan, tmpName)
	}
	if err != nil {
		var unsafe *unsafeError
		if errors.As(err, &unsafe) {
			return "", err
		}
		return "", scanDirError(b.cfg.ScanDir, err)
	}
	err = b.cfg.writeSlot(s, profile, argv, opts.Env, opts.StopTimeout, !opts.StartNow)
	if err == nil {
		err = s.publishable()
	}
	s.close()
	if err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if replace && b.registered(profile) {
		if err := exchange(tmp, slot); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("replace %s: %w", slot, err)
		}
		old := filepath.Join(b.cfg.ScanDir, "."+slotName(profile)+".old")
		_ = os.RemoveAll(old)
		if err := os.Rename(tmp, old); err != nil {
			return "", err
		}
		return old, nil
	}
	// Something that is no folder in the slot's place (a link someone
	// planted: hermes makes none) goes first, itself, never what it leads
	// to; a folder cannot be renamed over it.
	if st, ok, _ := lstatAt(scan, slotName(profile)); ok && !isType(st, unix.S_IFDIR) {
		b.Log().Warn("removing what is in the slot's place: no folder", "path", slot)
		if err := unix.Unlinkat(int(scan.Fd()), slotName(profile), 0); err != nil && !errors.Is(err, unix.ENOENT) {
			os.RemoveAll(tmp)
			return "", scanDirError(b.cfg.ScanDir, &os.PathError{Op: "remove", Path: slot, Err: err})
		}
	}
	if err := unix.Renameat(int(scan.Fd()), tmpName, int(scan.Fd()), slotName(profile)); err != nil {
		os.RemoveAll(tmp)
		if b.registered(profile) {
			return "", b.exists(profile)
		}
		return "", scanDirError(b.cfg.ScanDir, &os.PathError{Op: "rename", Path: tmp, Err: err})
	}
	return "", nil
}

// slotArgv is the run script's command line for a registration, checked
// with everything else the scripts will carry (checkValues): a refusal
// comes before anything is written.
func (b *Backend) slotArgv(profile string, opts service.RegisterOptions) ([]string, error) {
	argv, err := b.cfg.runnerArgv(profile, opts.Command)
	if err != nil {
		return nil, &service.InvalidOptionError{Option: "command", Value: strings.Join(opts.Command, " "), Reason: err.Error()}
	}
	if err := b.cfg.checkValues(argv, opts.Env); err != nil {
		return nil, err
	}
	return argv, nil
}

// retire removes a slot folder that s6-svscan no longer sees, once its
// supervisors (the service's and the logger's) have let go of it: each
// holds supervise/lock while it runs.
func (b *Backend) retire(ctx context.Context, dir string) {
	lockWait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The locks are opened from the folder held open, no link followed, no
	// file created: a link planted on the way is no lock to wait for.
	if d, err := openDirNoFollow(dir); err == nil {
		for _, lock := range []string{"supervise/lock", "log/supervise/lock"} {
			l, err := waitLockAt(lockWait, d, lock)
			if err != nil {
				b.Log().Warn("a supervisor still holds the old slot; removing it anyway", "lock", filepath.Join(dir, lock), "error", err)
			}
			if l != nil {
				_ = l.Close()
			}
		}
		d.Close()
	}
	// A supervisor exiting may still be closing files in it: retry briefly.
	err := wait.Poll{What: "the removal of " + dir, Timeout: time.Second}.Until(ctx, func() (bool, error) {
		return os.RemoveAll(dir) == nil, nil
	})
	if err != nil {
		b.Log().Warn("could not remove an old slot folder", "dir", dir, "error", err)
	}
}

func (b *Backend) exists(profile string) error {
	return &service.AlreadyExistsError{Profile: profile, Service: slotName(profile),
		HintText: "it is registered already: start it (" + gateway.CommandHint(profile, "start") + "), or change its settings with " +
			gateway.CommandHint(profile, "register") + " --force and the options it needs"}
}

// Register publishes the profile's slot and has s6-svscan pick it up. A
// failed rescan takes the slot away again: nothing half-registered stays.
// A registered profile is an *service.AlreadyExistsError, with two
// exceptions: with Force its slot is brought to this registration
// (update), and a slot that is already this registration but has no
// supervisor (a register killed between placing it and the rescan) is
// repaired: rescanned, and started when asked.
func (b *Backend) Register(ctx context.Context, profile string, opts service.RegisterOptions) error {
	if err := service.ValidateProfile(profile); err != nil {
		return err
	}
	argv, err := b.slotArgv(profile, opts)
	if err != nil {
		return err
	}
	unlock, err := b.lockProfile(ctx, profile)
	if err != nil {
		return err
	}
	defer unlock()
	if b.registered(profile) {
		return b.registerAgain(ctx, profile, argv, opts)
	}
	place := func() error {
		if _, err := b.publish(profile, argv, opts, false); err != nil {
			return err
		}
		// Registered means supervised: the lock is let go only once
		// s6-supervise runs on the slot, so a register that comes next finds
		// it registered, never a slot to repair.
		if err := b.svscanctl(ctx, slotName(profile), "-a"); err != nil {
			if rmErr := os.RemoveAll(b.cfg.slot(profile)); rmErr != nil {
				b.Log().Error("could not roll back the slot", "slot", b.cfg.slot(profile), "error", rmErr)
			}
			return err
		}
		return b.awaitSupervisor(ctx, profile) // on failure the slot stays: register or start again repairs it
	}
	if opts.StartNow {
		// The slot has no down file: s6 starts the gateway as soon as it
		// supervises it, so the intent goes first (OperatorStart).
		return b.OperatorStart(profile, place)
	}
	return place()
}

// registerAgain is Register of a profile whose slot exists (see Register).
func (b *Backend) registerAgain(ctx context.Context, profile string, argv []string, opts service.RegisterOptions) error {
	if !opts.Force {
		changed, err := b.changed(profile, argv, opts)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			return b.exists(profile)
		}
		if ok, err := b.supervised(ctx, profile); err != nil {
			return err
		} else if ok {
			return b.exists(profile)
		}
		b.Log().Info("repairing a slot s6-svscan never picked up", "slot", b.cfg.slot(profile))
	} else if displaced, err := b.update(ctx, profile, argv, opts); err != nil {
		return err
	} else if displaced != "" {
		defer b.retire(ctx, displaced)
		if err := b.svscanctl(ctx, slotName(profile), "-an"); err != nil {
			return err
		}
	}
	if err := b.ensureSupervised(ctx, profile); err != nil {
		return err
	}
	if opts.StartNow {
		return b.up(ctx, profile)
	}
	return nil
}

// changed is what of the registration's definition the profile's slot
// does not hold (changedFiles).
func (b *Backend) changed(profile string, argv []string, opts service.RegisterOptions) ([]slotFile, error) {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		return nil, err
	}
	defer slot.Close()
	return changedFiles(slot, b.cfg.definition(profile, argv, opts.Env, opts.StopTimeout))
}

// update brings the profile's existing slot to a registration: only the
// files that differ are rewritten, in place, and only what they belong to
// is restarted, when it runs: the gateway for its scripts, the logger for
// its own. A slot untouched keeps its supervisor and its gateway. One that
// cannot be rewritten in place (a folder missing from it) is swapped for
// a whole new one, left at displaced for the caller to retire once
// s6-svscan has rescanned.
func (b *Backend) update(ctx context.Context, profile string, argv []string, opts service.RegisterOptions) (displaced string, err error) {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		return "", err
	}
	defer slot.Close()
	return b.updateIn(ctx, slot, profile, argv, opts)
}

// updateIn is update with the slot held open.
func (b *Backend) updateIn(ctx context.Context, slot *os.File, profile string, argv []string, opts service.RegisterOptions) (displaced string, err error) {
	changed, err := changedFiles(slot, b.cfg.definition(profile, argv, opts.Env, opts.StopTimeout))
	if err != nil || len(changed) == 0 {
		return "", err
	}
	err = rewrite(slot, changed)
	var unsafe *unsafeError
	if errors.As(err, &unsafe) {
		return "", err
	}
	if err != nil {
		b.Log().Warn("could not update the slot in place; replacing it", "slot", b.cfg.slot(profile), "error", err)
		return b.publish(profile, argv, opts, true)
	}
	b.Log().Info("updated the slot", "slot", b.cfg.slot(profile), "files", len(changed))
	svc, logger := touches(changed)
	for _, sub := range []string{"", "log"} {
		if (sub == "" && !svc) || (sub == "log" && !logger) {
			continue
		}
		// s6-svc -t only acts on a service that is up: a down one reads
		// its new scripts when it next starts.
		if _, err := b.runInSlot(ctx, profile, sub, "s6-svc", "-t"); err != nil {
			b.Log().Debug("no restart after the update (no supervisor yet?)", "slot", b.cfg.slot(profile), "sub", sub, "error", err)
		}
	}
	return "", nil
}

// supervised reports whether an s6-supervise runs on the profile's slot
// (s6-svok: its control FIFO has a reader).
// A slot hermes will not work through (an *unsafeError: a link planted
// at supervise) is the error.
func (b *Backend) supervised(ctx context.Context, profile string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, svstatTimeout)
	defer cancel()
	_, err := b.runOnSlot(ctx, profile, "s6-svok")
	var unsafe *unsafeError
	if errors.As(err, &unsafe) {
		return false, err
	}
	return err == nil, nil
}

// superviseWait bounds the wait for s6-svscan to start a slot's
// supervisor after a rescan: it does at once.
const superviseWait = 10 * time.Second

// ensureSupervised gives a slot that sits in the scandir without a
// supervisor (a register killed between placing it and the rescan) one: a
// rescan, then the wait for s6-supervise.
func (b *Backend) ensureSupervised(ctx context.Context, profile string) error {
	if ok, err := b.supervised(ctx, profile); ok || err != nil {
		return err
	}
	b.Log().Info("the slot has no supervisor; asking s6-svscan to rescan", "slot", b.cfg.slot(profile))
	if err := b.svscanctl(ctx, slotName(profile), "-a"); err != nil {
		return err
	}
	return b.awaitSupervisor(ctx, profile)
}

// awaitSupervisor waits (superviseWait) for s6-supervise to run on the
// profile's slot after a rescan.
func (b *Backend) awaitSupervisor(ctx context.Context, profile string) error {
	return wait.Poll{What: "s6-supervise to take " + b.cfg.slot(profile), Timeout: superviseWait}.Until(ctx, func() (bool, error) {
		return b.supervised(ctx, profile)
	})
}

// up brings the gateway up and records the intent: no down file, s6
// wanting it up.
func (b *Backend) up(ctx context.Context, profile string) error {
	return b.OperatorStart(profile, func() error {
		if err := b.setDown(profile, false); err != nil {
			return err
		}
		_, err := b.runOnSlot(ctx, profile, "s6-svc", "-u")
		return err
	})
}

// Reconcile brings every entry's slot to its registration and has
// s6-svscan rescan once. A missing slot is made; an existing one is
// updated in place (update): a slot that already is its registration is
// left alone, its gateway running on, and one whose definition changed
// restarts only that gateway. The intent is applied: a profile that was
// running loses its down file and is brought up if s6 does not want it up
// already; one that was stopped gets its down file, and a gateway running
// anyway is not stopped. The staging folders interrupted registrations
// left go. Every entry is checked first: one the scripts cannot carry
// (its settings are read back from the home, which its owner may have
// edited) refuses the whole call before anything is touched.
func (b *Backend) Reconcile(ctx context.Context, entries []service.Registration) error {
	argvs := make([][]string, len(entries))
	for i, e := range entries {
		if err := service.ValidateProfile(e.Profile); err != nil {
			return err
		}
		argv, err := b.slotArgv(e.Profile, e.RegisterOptions)
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", e.Profile, err)
		}
		argvs[i] = argv
	}
	for _, pattern := range []string{".gateway-*.tmp", ".gateway-*.old", ".gateway-*.removing"} {
		stale, _ := filepath.Glob(filepath.Join(b.cfg.ScanDir, pattern))
		for _, dir := range stale {
			b.Log().Info("removing what an interrupted registration left", "dir", dir)
			b.retire(ctx, dir)
		}
	}
	var displaced []string
	defer func() {
		for _, dir := range displaced {
			b.retire(ctx, dir)
		}
	}()
	if err := os.MkdirAll(b.cfg.ScanDir, 0o755); err != nil {
		return scanDirError(b.cfg.ScanDir, err)
	}
	scan, err := b.cfg.openScanDir()
	if err != nil {
		return err
	}
	defer scan.Close()
	// Each profile's slot is its own (and its own lock's): they are
	// brought up to date side by side, which halves a thousand-profile boot.
	olds, ups := make([]string, len(entries)), make([]bool, len(entries))
	var g errgroup.Group
	g.SetLimit(reconcilers)
	for i, e := range entries {
		g.Go(func() error {
			var err error
			if olds[i], ups[i], err = b.reconcileOne(ctx, scan, e, argvs[i]); err != nil {
				return fmt.Errorf("reconcile %s: %w", e.Profile, err)
			}
			return nil
		})
	}
	err = g.Wait()
	var wantUp []string
	for i, e := range entries {
		if olds[i] != "" {
			displaced = append(displaced, olds[i])
		}
		if ups[i] {
			wantUp = append(wantUp, e.Profile)
		}
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	// -a picks up the new slots (and any a killed register left without a
	// supervisor); -n ends the supervisors of slots that were swapped out.
	if err := b.svscanctl(ctx, "", "-an"); err != nil {
		// At container start s6-svscan may not run yet; it will find the
		// slots when it does.
		b.Log().Warn("s6-svscan did not take the rescan; it will find the slots when it starts", "error", err)
		return nil
	}
	for _, p := range wantUp {
		if _, err := b.runOnSlot(ctx, p, "s6-svc", "-u"); err != nil {
			b.Log().Warn("could not bring the gateway up; its slot has no down file, so s6 starts it with its supervisor", "profile", p, "error", err)
		}
	}
	return nil
}

// reconcilers bounds how many slots Reconcile works on at once.
const reconcilers = 4

// reconcileOne brings one entry's slot to its registration under the
// profile's lock (see Reconcile): displaced is a swapped-out slot to
// retire, up that the gateway must be told to come up once s6-svscan has
// rescanned (an existing slot s6 does not want up).
func (b *Backend) reconcileOne(ctx context.Context, scan *os.File, e service.Registration, argv []string) (displaced string, up bool, err error) {
	if up, ok := b.alreadyRight(scan, e, argv); ok {
		return "", up, nil
	}
	unlock, err := b.lockProfileIn(ctx, scan, e.Profile)
	if err != nil {
		return "", false, err
	}
	defer unlock()
	// No slot, or something that is no folder in its place (publish
	// removes it): a new slot.
	slot, err := openDirAt(scan, slotName(e.Profile))
	var pe *os.PathError
	var unsafe *unsafeError
	if (errors.As(err, &pe) && errors.Is(pe.Err, unix.ENOENT)) || errors.As(err, &unsafe) {
		_, err := b.publishIn(scan, e.Profile, argv, e.RegisterOptions, false)
		return "", false, err
	}
	if err != nil {
		return "", false, err
	}
	defer slot.Close()
	if displaced, err = b.updateIn(ctx, slot, e.Profile, argv, e.RegisterOptions); err != nil || displaced != "" {
		return displaced, false, err
	}
	if err := b.setDownAt(slot, e.Profile, !e.StartNow); err != nil {
		return "", false, err
	}
	if !e.StartNow {
		return "", false, nil
	}
	// A slot with no supervisor yet needs no word: without a down file
	// its supervisor starts the gateway.
	st, err := readStatusAt(slot)
	return "", err == nil && !st.WantedUp, nil
}

// alreadyRight reports (ok) whether the entry's slot holds exactly its
// definition and the down file its intent asks for, looked at without the
// profile's lock: on a live tree that is every slot, and it changes nothing,
// so a call under way on the profile (which holds the lock) is neither
// waited for nor disturbed: reconcileOne under the lock would leave the
// same slot as it is. up is as reconcileOne's.
func (b *Backend) alreadyRight(scan *os.File, e service.Registration, argv []string) (up, ok bool) {
	slot, err := openDirAt(scan, slotName(e.Profile))
	if err != nil {
		return false, false
	}
	defer slot.Close()
	changed, err := changedFiles(slot, b.cfg.definition(e.Profile, argv, e.Env, e.StopTimeout))
	if err != nil || len(changed) > 0 || hasDownAt(slot) == e.StartNow {
		return false, false
	}
	if !e.StartNow {
		return false, true
	}
	st, err := readStatusAt(slot)
	return err == nil && !st.WantedUp, true
}

// Unregister stops the slot's gateway, waits for it (bounded), takes the
// slot out of s6-svscan's sight and removes it. A missing slot is a no-op.
func (b *Backend) Unregister(ctx context.Context, profile string) error {
	if err := service.ValidateProfile(profile); err != nil {
		return err
	}
	unlock, err := b.lockProfile(ctx, profile)
	if err != nil {
		return err
	}
	defer unlock()
	slot := b.cfg.slot(profile)
	if !b.registered(profile) {
		return nil
	}
	if pid := b.supervisedPID(ctx, profile); pid > 0 {
		b.MarkPlannedStop(profile, pid)
	}
	// A slot whose supervisor is not running cannot be told to go down;
	// that is no reason to keep it.
	waitCtx, cancel := context.WithTimeout(ctx, 15*time.Second) // s6-svwait's -t does not bound its read of the status
	defer cancel()
	if _, err := b.runOnSlot(ctx, profile, "s6-svc", "-d"); err != nil {
		b.Log().Debug("s6-svc -d before removal failed", "error", err)
	} else if _, err := b.runOnSlot(waitCtx, profile, "s6-svwait", "-D", "-t", "10000"); err != nil {
		b.Log().Warn("the gateway did not go down within 10 s; removing the slot anyway", "slot", slot, "error", err)
	}
	gone := filepath.Join(b.cfg.ScanDir, "."+slotName(profile)+".removing")
	_ = os.RemoveAll(gone)
	if err := os.Rename(slot, gone); err != nil {
		return scanDirError(b.cfg.ScanDir, err)
	}
	if err := b.svscanctl(ctx, slotName(profile), "-an"); err != nil {
		b.Log().Warn("s6-svscan did not take the rescan", "error", err)
	}
	b.retire(ctx, gone)
	return nil
}

// List is every gateway-* slot folder.
func (b *Backend) List(context.Context) ([]string, error) {
	entries, err := os.ReadDir(b.cfg.ScanDir)
	if errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, scanDirError(b.cfg.ScanDir, err)
	}
	out := []string{}
	for _, e := range entries {
		if name, ok := slotNames.Profile(e.Name()); ok && e.IsDir() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// setDown creates or removes the slot's down file, so that what s6 does on
// a supervisor restart matches the operator's last word; through the slot
// held open, never following a link (see ensureDownAt). A failure is
// logged, and the command goes on, but an entry hermes will not work
// through (an *unsafeError) is the command's error.
func (b *Backend) setDown(profile string, down bool) error {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		b.Log().Warn("could not update the down file", "slot", b.cfg.slot(profile), "error", err)
		var unsafe *unsafeError
		if errors.As(err, &unsafe) {
			return err
		}
		return nil
	}
	defer slot.Close()
	return b.setDownAt(slot, profile, down)
}

// setDownAt is setDown with the slot held open.
func (b *Backend) setDownAt(slot *os.File, profile string, down bool) error {
	var err error
	if down {
		err = ensureDownAt(slot)
	} else {
		err = removeDownAt(slot)
	}
	var unsafe *unsafeError
	if errors.As(err, &unsafe) {
		return err
	}
	if err != nil {
		b.Log().Warn("could not update the down file", "slot", b.cfg.slot(profile), "error", err)
	}
	return nil
}

// hasDown reports whether the slot holds a down file.
func (b *Backend) hasDown(profile string) bool {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		return false
	}
	defer slot.Close()
	return hasDownAt(slot)
}

// stopBudget is the stop budget of the profile's slot (slotStopBudget).
func (b *Backend) stopBudget(profile string) time.Duration {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		return gateway.StopBudget
	}
	defer slot.Close()
	return slotStopBudget(slot)
}

// svstatTimeout bounds an s6-svstat, which answers at once: the service
// user, who owns supervise, could otherwise make it wait for good (a FIFO
// put in place of supervise/status after statusReadable looked).
const svstatTimeout = 10 * time.Second

// supervisedPID is the pid s6 supervises for the slot (the runner), 0 when
// down or unknown.
func (b *Backend) supervisedPID(ctx context.Context, profile string) int {
	ctx, cancel := context.WithTimeout(ctx, svstatTimeout)
	defer cancel()
	out, err := b.runOnSlot(ctx, profile, "s6-svstat", "-o", "pid")
	if err != nil {
		return 0
	}
	var pid int
	if _, err := fmt.Sscan(out, &pid); err != nil {
		return 0
	}
	return pid
}

// lockRegistered takes the profile's lock (lockProfile) for a lifecycle
// call on its slot: a profile with no slot is a *service.NotRegisteredError,
// before the lock (nothing is created for it) and again once it is held
// (an unregister may have finished while this call waited).
func (b *Backend) lockRegistered(ctx context.Context, profile string) (func(), error) {
	if !b.registered(profile) {
		return nil, b.notRegistered(profile)
	}
	unlock, err := b.lockProfile(ctx, profile)
	if err != nil {
		return nil, err
	}
	if !b.registered(profile) {
		unlock()
		return nil, b.notRegistered(profile)
	}
	return unlock, nil
}

// Start brings the gateway up and records the intent.
func (b *Backend) Start(ctx context.Context, profile string) error {
	unlock, err := b.lockRegistered(ctx, profile)
	if err != nil {
		return err
	}
	defer unlock()
	if err := b.ensureSupervised(ctx, profile); err != nil {
		return err
	}
	return b.up(ctx, profile)
}

// stopMargin is how long Stop waits for the gateway to be down past the
// slot's stop budget, after which s6-supervise has sent its SIGKILL: time
// for the process to die and s6 to note it. Past it Stop says the
// operator's intent again and leaves the rest in s6's hands. With the
// default budget the wait is 2 minutes.
const stopMargin = 30 * time.Second

// Stop is the operator's stop (backend.OperatorStop: intent, marker for the
// supervised pid, then down); the down file keeps the slot down across a
// supervisor restart, and Stop returns once s6 says the gateway is down.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	unlock, err := b.lockRegistered(ctx, profile)
	if err != nil {
		return err
	}
	defer unlock()
	return b.OperatorStop(profile, b.supervisedPID(ctx, profile), func() error {
		hadDown := b.hasDown(profile)
		if err := b.setDown(profile, true); err != nil {
			return err
		}
		if _, err := b.runOnSlot(ctx, profile, "s6-svc", "-d"); err != nil {
			if !hadDown {
				_ = b.setDown(profile, false) // it was not there before this stop
			}
			return err
		}
		downCtx, cancel := context.WithTimeout(ctx, b.stopBudget(profile)+stopMargin)
		defer cancel()
		if _, err := b.runOnSlot(downCtx, profile, "s6-svwait", "-D"); err != nil {
			b.Log().Warn("the gateway is not down yet; its intent is recorded, s6 finishes the stop", "error", err)
		}
		return nil
	})
}

// Restart is the contract's: a planned stop (the marker names the
// supervised pid, so the gateway records an operator's stop, not one from
// outside), then a start; the intent stays running. s6-svc -d then -u, not
// -t: a planned stop exits 0, which the finish script turns into "do not
// restart", and -u then wants it up again.
func (b *Backend) Restart(ctx context.Context, profile string) error {
	unlock, err := b.lockRegistered(ctx, profile)
	if err != nil {
		return err
	}
	defer unlock()
	if err := b.ensureSupervised(ctx, profile); err != nil {
		return err
	}
	if err := b.setDown(profile, false); err != nil {
		return err
	}
	return b.OperatorRestart(profile, b.supervisedPID(ctx, profile), func() error {
		if _, err := b.runOnSlot(ctx, profile, "s6-svc", "-d"); err != nil {
			return err
		}
		downCtx, cancel := context.WithTimeout(ctx, b.stopBudget(profile)+stopMargin)
		defer cancel()
		_, err := b.runOnSlot(downCtx, profile, "s6-svwait", "-D")
		return err
	}, func() error {
		_, err := b.runOnSlot(ctx, profile, "s6-svc", "-u")
		return err
	})
}

func (b *Backend) svstat(ctx context.Context, profile string) (svStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, svstatTimeout)
	defer cancel()
	out, err := b.runOnSlot(ctx, profile, "s6-svstat", "-o", svstatFields)
	if err != nil {
		return svStatus{}, err
	}
	return parseSvstat(out)
}

// Status reads s6's own files, as s6-svstat does, without running it: the
// supervisor is running when its control FIFO has a reader, and then
// supervise/status is what it says. Where that cannot be told (the control
// FIFO is not this user's to open) it asks s6-svstat, never parsing its
// human line.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		// No slot, or a link or file in its place: not registered.
		return b.missingStatus(profile), nil
	}
	defer slot.Close()
	running, err := superviseRunning(int(slot.Fd()), slot.Name())
	switch {
	case err == nil && running:
		if st, err := readStatusAt(slot); err == nil {
			return b.toStatus(profile, st), nil
		}
	case err == nil:
		out := b.baseStatus(profile)
		out.Installed = true
		out.State = service.StateUnknown
		out.Detail = "s6-supervise is not running on this slot (is s6-svscan running on " + b.cfg.ScanDir + "?)"
		return out, nil
	}
	st, err := b.svstat(ctx, profile)
	if err != nil {
		if ctx.Err() != nil {
			return service.Status{}, ctx.Err()
		}
		out := b.baseStatus(profile)
		out.Installed = true
		out.State = service.StateUnknown
		var cf *service.CommandFailedError
		if errors.As(err, &cf) {
			out.Detail = "s6-svstat: " + cf.Stderr + " (is s6-svscan running on " + b.cfg.ScanDir + "?)"
		} else {
			out.Detail = err.Error()
		}
		return out, nil
	}
	return b.toStatus(profile, st), nil
}

// statusReaders bounds how many slots' status files are read at once.
const statusReaders = 4

// Statuses reads every slot's status straight from s6's files, from the
// scandir held open: a few calls per slot and nothing else, no process, no
// file of the profile's home (DESIRED is the slot's down file, which every
// lifecycle call keeps in step with desired_state under the profile's
// lock), so 5,000 slots take milliseconds.
func (b *Backend) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	if len(profiles) == 0 {
		var err error
		if profiles, err = b.List(ctx); err != nil {
			return nil, err
		}
	}
	scan, err := b.cfg.openScanDir()
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && errors.Is(pe.Err, os.ErrNotExist) {
			scan = nil // nothing registered yet
		} else {
			return nil, err
		}
	}
	if scan != nil {
		defer scan.Close()
	}
	out := make([]service.Status, len(profiles))
	var g errgroup.Group
	g.SetLimit(statusReaders)
	for i, p := range profiles {
		g.Go(func() error {
			out[i] = b.fileStatus(scan, p)
			return nil
		})
	}
	_ = g.Wait()
	return out, ctx.Err()
}

// fileStatus is one slot's status for Statuses (scan nil: no scandir).
func (b *Backend) fileStatus(scan *os.File, profile string) service.Status {
	base := service.Status{Profile: profile, Backend: identity.Kind, State: service.StateStopped, Unit: new(slotName(profile))}
	if scan == nil {
		base.Detail = "not registered"
		return base
	}
	st, err := slotStatusIn(int(scan.Fd()), slotName(profile), b.cfg.slot(profile))
	if errors.Is(err, errNotSlot) {
		// No slot, or a link or file in its place (registered says the
		// same): not registered.
		base.Detail = "not registered"
		return base
	}
	base.Installed = true
	if err != nil {
		base.State = service.StateUnknown
		base.Detail = err.Error()
		if errors.Is(err, errNoSupervisor) {
			base.State = service.StateStarting
		}
		return base
	}
	desired := service.DesiredRunning
	if !st.NormallyUp {
		desired = service.DesiredStopped
	}
	base.DesiredState = new(desired)
	return b.slotStatus(base, profile, st)
}

func (b *Backend) baseStatus(profile string) service.Status {
	return b.BaseStatus(profile, slotName(profile))
}

func (b *Backend) missingStatus(profile string) service.Status {
	st := b.baseStatus(profile)
	st.Detail = "not registered"
	return st
}

// toStatus maps s6's view to the shared shape: up is running; down but
// wanted up is starting (s6 is bringing it back); down after exit 78 is
// failed; otherwise stopped.
func (b *Backend) toStatus(profile string, sv svStatus) service.Status {
	st := b.baseStatus(profile)
	st.Installed = true
	return b.slotStatus(st, profile, sv)
}

// slotStatus fills st (the profile's base status) from s6's view.
func (b *Backend) slotStatus(st service.Status, profile string, sv svStatus) service.Status {
	st.Enabled = new(sv.NormallyUp)
	if !sv.Since.IsZero() {
		st.Since = new(sv.Since)
	}
	switch {
	case sv.Up:
		st.State = service.StateRunning
		st.PID = new(sv.PID)
		st.Detail = fmt.Sprintf("up (pid %d)", sv.PID)
		if !sv.WantedUp {
			st.Detail += ", going down"
		}
	case sv.ExitCode == gateway.ExitConfig:
		st.State = service.StateFailed
		st.LastExit = new(sv.ExitCode)
		st.Detail = fmt.Sprintf("down: fatal configuration (exit %d); fix it, then %s", sv.ExitCode, gateway.CommandHint(profile, "start"))
	case sv.WantedUp:
		st.State = service.StateStarting
		st.Detail = "down, wanted up: s6 is restarting it"
	default:
		st.State = service.StateStopped
		st.Detail = "down"
	}
	if !sv.Up && sv.ExitCode >= 0 {
		st.LastExit = new(sv.ExitCode)
		st.Detail += fmt.Sprintf(" (last exit %d)", sv.ExitCode)
	}
	return st
}

package systemd

import (
	"context"
	"os"
	"path/filepath"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
)

// transaction is one install's changes, each with its undo: until commit,
// rollback undoes them, newest first, so a failed install leaves the
// machine as it found it.
type transaction struct {
	b    *Backend
	s    scope
	undo []func(context.Context)
	done bool
}

func (t *transaction) add(undo func(context.Context)) { t.undo = append(t.undo, undo) }

func (t *transaction) commit() { t.done = true }

// rollback undoes what commit did not keep; it runs on a context of its
// own, so that a cancelled install still cleans up.
func (t *transaction) rollback(context.Context) {
	if t.done {
		return
	}
	ctx := context.Background()
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i](ctx)
	}
}

// linger makes sure the user's manager outlives their sessions (logind's
// linger), so the gateway runs after logout and starts at boot; it enables
// it when it can, and takes that back on rollback. When it cannot be
// confirmed the install goes on, with a warning saying what that means.
func (t *transaction) linger(ctx context.Context, user string) {
	yes, why := t.b.lingering(ctx, user)
	if yes {
		return
	}
	if _, err := t.b.tool(ctx, t.s, "", "loginctl", "enable-linger", user); err == nil {
		t.b.Log().Info("enabled lingering so the gateway runs without a login", "user", user)
		t.add(func(ctx context.Context) { _, _ = t.b.tool(ctx, t.s, "", "loginctl", "disable-linger", user) })
		return
	} else if why == "" || why == "logind says "+user+" does not linger" {
		why = "enabling it failed: " + oneLine(err)
	}
	t.b.Log().Warn("could not confirm that " + user + " lingers (" + why + "): the gateway stops when " + user +
		"'s last session ends (logout) and starts again only at their next login, not at boot; to keep it running, " +
		"run `sudo loginctl enable-linger " + user + "` (or install a system unit: sudo hermes gateway install --system --run-as-user " + user + ")")
}

// mkdirs makes the home and the profile's folder (the unit's
// WorkingDirectory=) where missing, owned by the gateway's account, and
// removes what it made on rollback. A folder that exists is left as it is.
func (t *transaction) mkdirs(dir, home string, a account) error {
	made, err := makeFolders(dir, home, a.uid, a.gid)
	for _, d := range made {
		t.add(func(context.Context) { _ = os.Remove(d) })
	}
	return err
}

// writeUnit writes the unit file (atomically); rollback puts back what was
// there, or removes it.
func (t *transaction) writeUnit(path string, old []byte, existed bool, data []byte) error {
	// The folders made for it go too (deepest first), once empty.
	var missing []string
	for d := filepath.Dir(path); d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return unitFileError(path, err)
	}
	t.add(func(context.Context) {
		for _, d := range missing {
			_ = os.Remove(d)
		}
	})
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return unitFileError(path, err)
	}
	t.add(func(ctx context.Context) {
		if existed {
			_ = atomicfile.WriteFile(path, old, 0o644)
		} else {
			_ = os.Remove(path)
		}
		_, _ = t.b.systemctl(ctx, t.s, "", "daemon-reload")
	})
	return nil
}

// enable enables the unit; rollback disables it again if it was not (a
// unit that did not exist was not).
func (t *transaction) enable(ctx context.Context, name string, existed bool) error {
	was := false
	if existed {
		_, was = t.b.unitState(ctx, t.s, name)
	}
	if _, err := t.b.systemctl(ctx, t.s, name, "enable", name); err != nil {
		return err
	}
	if !was {
		t.add(func(ctx context.Context) { _, _ = t.b.systemctl(ctx, t.s, name, "disable", name) })
	}
	return nil
}

// disable disables the unit (a reinstall with --no-start-on-login);
// rollback enables it again if it was.
func (t *transaction) disable(ctx context.Context, name string) error {
	_, was := t.b.unitState(ctx, t.s, name)
	if !was {
		return nil
	}
	if _, err := t.b.systemctl(ctx, t.s, name, "disable", name); err != nil {
		return err
	}
	t.add(func(ctx context.Context) { _, _ = t.b.systemctl(ctx, t.s, name, "enable", name) })
	return nil
}

// takeOverLegacy stops, disables and removes upstream's pre-rename unit,
// hermes.service, when it runs this home's default gateway: left beside
// the new unit, two gateways would fight over one bot token. Rollback puts
// it back, enabled and running as it was.
func (t *transaction) takeOverLegacy(ctx context.Context, home string) error {
	path := filepath.Join(t.s.dir, legacyUnit)
	data, err := os.ReadFile(path)
	if err != nil || !upstreamUnit(data) {
		return nil
	}
	if h := unitHome(data); h != "" && h != home {
		return nil
	}
	active := false
	if out, err := t.b.systemctl(ctx, t.s, legacyUnit, "is-active", legacyUnit); err == nil && out != "" {
		active = true
	}
	_, enabled := t.b.unitState(ctx, t.s, legacyUnit)
	t.b.Log().Warn("taking over " + path + ", the unit upstream's installer used before hermes-gateway.service: " +
		"stopped, disabled and removed (two gateways would fight over one bot token)")
	if _, err := t.b.systemctl(ctx, t.s, legacyUnit, "disable", "--now", legacyUnit); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return unitFileError(path, err)
	}
	t.add(func(ctx context.Context) {
		_ = atomicfile.WriteFile(path, data, 0o644)
		_, _ = t.b.systemctl(ctx, t.s, "", "daemon-reload")
		if enabled {
			_, _ = t.b.systemctl(ctx, t.s, legacyUnit, "enable", legacyUnit)
		}
		if active {
			_, _ = t.b.systemctl(ctx, t.s, legacyUnit, "start", legacyUnit)
		}
	})
	_, _ = t.b.systemctl(ctx, t.s, legacyUnit, "reset-failed", legacyUnit)
	return nil
}

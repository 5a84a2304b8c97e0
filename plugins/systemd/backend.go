package systemd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Backend keeps profile gateways as systemd units.
type Backend struct {
	backend.Base
	cfg Config
}

// New returns the backend for cfg.
func New(cfg Config) *Backend { return &Backend{Base: cfg.Base(identity), cfg: cfg} }

// FromEnv is the plugin's factory: the backend configured from the
// environment the host passes.
var FromEnv = backend.FromConfig(ConfigFromEnv, New)

// installStartWithin bounds install's wait for the gateway it starts: the
// unit stays installed either way, and start waits by the host's clock.
const installStartWithin = 30 * time.Second

// systemctl runs systemctl in the scope; a failure is a CommandFailedError
// whose hint names the journalctl command that shows why.
func (b *Backend) systemctl(ctx context.Context, s scope, unitName string, args ...string) (string, error) {
	return b.tool(ctx, s, unitName, "systemctl", append(s.flag(), args...)...)
}

func (b *Backend) tool(ctx context.Context, s scope, unitName, name string, args ...string) (string, error) {
	action := name + " " + strings.Join(args, " ")
	if unitName != "" {
		action = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(action, unitName)), " ")
	}
	hint := "see what systemd says: journalctl " + strings.Join(append(s.flag(), "-u", unitName, "-n", "50", "--no-pager"), " ")
	if unitName == "" {
		hint = "check that a systemd manager runs for this scope (systemctl " + strings.Join(append(s.flag(), "status"), " ") + ")"
	}
	res, err := b.RunTool(ctx, backend.Tool{Path: name, Args: args, Service: unitName, Action: action, Hint: hint})
	return res.Stdout, err
}

// installScope decides where an install goes: root installs system units,
// unless it asked for its own user manager (--user).
func (b *Backend) installScope(opts service.InstallOptions, profile string) (scope, error) {
	if b.cfg.UserScope && opts.System {
		return scope{}, &service.InvalidOptionError{Option: "user", Value: "true", Reason: "--user and --system ask for two scopes; choose one"}
	}
	if !opts.System && (!b.cfg.Root || b.cfg.UserScope) {
		return b.cfg.userScope(), nil
	}
	if !b.cfg.Root {
		cmd := "sudo " + gateway.CommandHint(profile, "install --system")
		if opts.RunAsUser != "" {
			cmd += " --run-as-user " + opts.RunAsUser
		}
		return scope{}, &service.PermissionError{Path: b.cfg.SystemUnitDir, Operation: "install a system-wide unit in",
			HintText: "system units need root: " + cmd}
	}
	return b.cfg.systemScope(), nil
}

// account is who a unit runs the gateway as.
type account struct {
	name, group, home string
	uid, gid          int
}

// nobodyUID is the overflow account's uid: files of every account mapped
// away (NFS root squash, user namespaces) are nobody's.
const nobodyUID = 65534

// runAs resolves the account a system unit runs the gateway as. Root must
// be asked for by name: a gateway has no need to run as root. nobody is
// refused: whatever it owns, every unmapped process owns too, and systemd
// warns against running services as it.
func (b *Backend) runAs(opts service.InstallOptions) (account, error) {
	name := opts.RunAsUser
	if name == "" {
		if sudoer := os.Getenv("SUDO_USER"); sudoer != "" && sudoer != "root" {
			name = sudoer
		} else {
			return account{}, &service.InvalidOptionError{Option: "run-as-user", Value: "",
				Reason: "a system unit would run the gateway as root; pass --run-as-user root to mean it, or --run-as-user NAME"}
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, &service.InvalidOptionError{Option: "run-as-user", Value: name, Reason: "no such user on this machine"}
	}
	a, err := accountOf(u)
	if err != nil {
		return account{}, err
	}
	if a.name == "nobody" || a.uid == nobodyUID {
		return account{}, &service.InvalidOptionError{Option: "run-as-user", Value: name,
			Reason: "nobody owns what every unmapped process owns, and systemd warns against running services as it; " +
				"make an account for the gateway (sudo useradd --system --create-home --home-dir /var/lib/hermes hermes) and pass --run-as-user hermes"}
	}
	return a, nil
}

func accountOf(u *user.User) (account, error) {
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return account{}, fmt.Errorf("the account %s has no numeric uid and gid (%s, %s)", u.Username, u.Uid, u.Gid)
	}
	a := account{name: u.Username, group: u.Gid, home: u.HomeDir, uid: uid, gid: gid}
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		a.group = g.Name
	}
	return a, nil
}

// Install writes the profile's unit and, as asked, enables and starts it.
// It is one transaction: the home's folders it needs (made with the
// gateway's account as owner), the unit, the linger it enabled, a unit of
// upstream's installer it took over: on any failure before the gateway's
// start, each is put back as it was. A gateway that then fails to start
// leaves the unit installed and says why.
func (b *Backend) Install(ctx context.Context, profile string, opts service.InstallOptions) error {
	if _, err := b.InstallDir(profile, opts); err != nil {
		return err
	}
	s, err := b.installScope(opts, profile)
	if err != nil {
		return err
	}
	acct, home := account{}, b.cfg.Home
	if s.system {
		if acct, err = b.runAs(opts); err != nil {
			return err
		}
		home = b.cfg.homeFor(acct.home)
	} else {
		acct = account{name: b.cfg.User, home: b.cfg.UserHome, uid: os.Getuid(), gid: os.Getgid()}
	}
	dir, err := gateway.Home{Root: home}.ProfileDir(profile)
	if err != nil {
		return err
	}
	spec := unitSpec{Profile: profile, Command: opts.Command, Home: home, ProfileDir: dir, Env: opts.Env,
		System: s.system, StopTimeout: opts.StopTimeout, StartAtBoot: opts.StartOnLogin}
	if s.system {
		spec.User, spec.Group, spec.UserHome = acct.name, acct.group, acct.home
	}
	data, err := spec.render()
	if err != nil {
		return err
	}
	name, path := UnitName(profile), s.path(profile)
	old, err := os.ReadFile(path)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return unitFileError(path, err)
	}
	if existed {
		if err := b.mayReplace(profile, path, old, home, opts.Force); err != nil {
			return err
		}
	}
	tx := &transaction{b: b, s: s}
	defer tx.rollback(ctx)
	if !s.system {
		tx.linger(ctx, acct.name)
	}
	if err := tx.mkdirs(dir, home, acct); err != nil {
		return err
	}
	if profile == service.DefaultProfile {
		if err := tx.takeOverLegacy(ctx, home); err != nil {
			return err
		}
	}
	changed := !existed || !bytes.Equal(old, data)
	if changed {
		if err := tx.writeUnit(path, old, existed, data); err != nil {
			return err
		}
	}
	if _, err := b.systemctl(ctx, s, name, "daemon-reload"); err != nil {
		var cf *service.CommandFailedError
		if !s.system && errors.As(err, &cf) {
			cf.HintText = "the user's systemd manager did not answer: log in as " + acct.name +
				" (a session starts it), or run `sudo loginctl enable-linger " + acct.name + "` and set XDG_RUNTIME_DIR=/run/user/$(id -u); " +
				"or install a system unit: sudo hermes gateway install --system --run-as-user " + acct.name
		}
		return err
	}
	if opts.StartOnLogin {
		if err := tx.enable(ctx, name, existed); err != nil {
			return err
		}
	} else if existed {
		if err := tx.disable(ctx, name); err != nil {
			return err
		}
	}
	tx.commit()
	if !opts.StartNow {
		return nil
	}
	verb := "start"
	if changed && existed {
		verb = "restart" // a running gateway picks up the rewritten unit
	}
	base := b.at(home)
	_ = base.RecordDesired(profile, service.DesiredRunning)
	sctx, cancel := context.WithTimeout(ctx, installStartWithin)
	defer cancel()
	if _, err := b.systemctl(sctx, s, name, verb, name); err != nil {
		if ctx.Err() == nil && sctx.Err() != nil {
			return &service.CommandFailedError{Service: name, Action: verb, ExitCode: -1,
				Stderr:   fmt.Sprintf("the unit is installed; the gateway was not up after %s", installStartWithin),
				HintText: "it may still come up: " + gateway.CommandHint(profile, "status") + "; see why in " + gateway.CommandHint(profile, "logs")}
		}
		var cf *service.CommandFailedError
		if errors.As(err, &cf) {
			cf.Stderr = "the unit is installed, but the gateway did not start: " + cf.Stderr
			cf.HintText = "see why in " + gateway.CommandHint(profile, "logs") + "; fix it, then " + gateway.CommandHint(profile, "start")
		}
		return err
	}
	return nil
}

// mayReplace says whether install may write over the unit at path: its
// own, for this home, when outdated; upstream's installer's, taken over
// with a word; anything else with --force only.
func (b *Backend) mayReplace(profile, path string, old []byte, home string, force bool) error {
	if force {
		return nil
	}
	if h := unitHome(old); h != "" && h != home {
		return &service.AlreadyExistsError{Profile: profile, Service: UnitName(profile),
			HintText: "it runs the gateway of another Hermes home (" + h + "); use --force to take it over, or --home " + h}
	}
	switch {
	case bytes.HasPrefix(old, []byte(header)):
		return nil
	case upstreamUnit(old):
		b.Log().Warn("taking over the unit upstream's installer wrote (hermes runs the gateway from now on; its ExecStart was " +
			strconv.Quote(unitValue(old, "Service", "ExecStart")) + ")")
		return nil
	}
	return &service.AlreadyExistsError{Profile: profile, Service: UnitName(profile),
		HintText: "a unit not written by hermes is in the way at " + path + "; use --force to replace it"}
}

// upstreamMarkers are what the ExecStart of a unit upstream's Python
// installer wrote contains: its gateway run, however started.
var upstreamMarkers = []string{"hermes_cli.main gateway", "hermes_cli/main.py gateway", "gateway/run.py", " hermes gateway ", "/hermes gateway "}

// upstreamUnit reports whether data is a unit of upstream's installer.
func upstreamUnit(data []byte) bool {
	if bytes.HasPrefix(data, []byte(header)) {
		return false
	}
	start := unitValue(data, "Service", "ExecStart") + " "
	for _, m := range upstreamMarkers {
		if strings.Contains(start, m) {
			return true
		}
	}
	return false
}

// legacyUnit is the unit upstream installed before it named its units
// hermes-gateway: it runs the default profile's gateway too, and two
// gateways fight over one bot token.
const legacyUnit = "hermes.service"

func unitFileError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &service.PermissionError{Path: path, Operation: "write",
			HintText: "system units need root (sudo); user units go in the user's own ~/.config/systemd/user"}
	}
	return fmt.Errorf("unit file %s: %w", path, err)
}

// lingering reports whether logind keeps user's manager running without a
// session, and why not when it cannot tell.
func (b *Backend) lingering(ctx context.Context, user string) (yes bool, why string) {
	if _, err := os.Stat(filepath.Join(b.cfg.LingerDir, user)); err == nil {
		return true, ""
	}
	out, err := b.tool(ctx, b.cfg.userScope(), "", "loginctl", "show-user", user, "-p", "Linger", "--value")
	switch v := strings.TrimSpace(out); {
	case err == nil && v == "yes":
		return true, ""
	case err == nil:
		return false, "logind says " + user + " does not linger"
	}
	return false, "logind cannot say (" + oneLine(err) + ")"
}

func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// locate finds the profile's unit or says it is not installed.
func (b *Backend) locate(profile string) (scope, error) {
	s, ok := b.cfg.find(profile)
	if !ok {
		return scope{}, &service.NotInstalledError{Profile: profile, Service: UnitName(profile)}
	}
	return s, nil
}

// installed is the profile's unit as found: its scope, bytes and the home
// it serves.
type installed struct {
	s    scope
	data []byte
	home string
}

// unitOf reads the profile's unit. Its home is what it says, for hermes's
// own units; else the home hermes serves, moved to the unit's account's
// home folder as install would have.
func (b *Backend) unitOf(profile string) (installed, error) {
	s, err := b.locate(profile)
	if err != nil {
		return installed{}, err
	}
	data, err := os.ReadFile(s.path(profile))
	if err != nil {
		return installed{}, unitFileError(s.path(profile), err)
	}
	in := installed{s: s, data: data, home: b.cfg.Home}
	if s.system {
		if u, err := user.Lookup(unitValue(data, "Service", "User")); err == nil {
			in.home = b.cfg.homeFor(u.HomeDir)
		}
	}
	if h := unitHome(data); h != "" && h == in.home {
		return in, nil
	}
	if h := unitHome(data); h != "" && h != b.cfg.Home {
		return in, &service.PermissionError{Path: s.path(profile), Operation: "act on the unit of another Hermes home (" + h + ") at",
			HintText: "run it with --home " + h}
	}
	return in, nil
}

// at is the backend's base for the home a unit serves.
func (b *Backend) at(home string) *backend.Base {
	if home == b.cfg.Home {
		return &b.Base
	}
	set := b.cfg.Settings
	set.Home = home
	base := set.Base(identity)
	return &base
}

// unitState is what stop and start need to know of a unit: its main pid
// (0 when not running) and whether it is enabled.
func (b *Backend) unitState(ctx context.Context, s scope, name string) (pid int, enabled bool) {
	out, err := b.systemctl(ctx, s, name, "show", "-p", "MainPID,UnitFileState", name)
	if err != nil {
		return 0, false
	}
	p := parseShow(out)
	if len(p) == 0 {
		return 0, false
	}
	pid, _ = atoi(p[0]["MainPID"])
	return pid, enabledState(p[0]["UnitFileState"])
}

func enabledState(v string) bool {
	switch v {
	case "enabled", "enabled-runtime", "linked", "alias":
		return true
	}
	return false
}

// Uninstall stops, disables and removes the unit, reloads systemd and
// forgets a failure it recorded (reset-failed), so the manager is not left
// "degraded" by a unit that no longer exists. A unit for another Hermes
// home is refused; a missing one is a no-op.
func (b *Backend) Uninstall(ctx context.Context, profile string) error {
	if _, ok := b.cfg.find(profile); !ok {
		return nil
	}
	in, err := b.unitOf(profile)
	if err != nil {
		return err
	}
	s, name, path := in.s, UnitName(profile), in.s.path(profile)
	if pid, _ := b.unitState(ctx, s, name); pid > 0 {
		b.at(in.home).MarkPlannedStop(profile, pid)
	}
	if _, err := b.systemctl(ctx, s, name, "disable", "--now", name); err != nil {
		b.Log().Warn("stop and disable before uninstall failed", "unit", name, "error", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return unitFileError(path, err)
	}
	if _, err := b.systemctl(ctx, s, name, "daemon-reload"); err != nil {
		return err
	}
	// Not loaded, not failed: nothing to forget, and systemctl says so.
	_, _ = b.systemctl(ctx, s, name, "reset-failed", name)
	return nil
}

// Start enables the unit again when install enabled it (an operator's stop
// disabled it), and starts it without waiting: the host watches it come
// up, and readiness (ExecStartPost) keeps it "starting" until then.
func (b *Backend) Start(ctx context.Context, profile string) error {
	in, err := b.unitOf(profile)
	if err != nil {
		return err
	}
	name := UnitName(profile)
	_ = b.at(in.home).RecordDesired(profile, service.DesiredRunning)
	args := []string{"start", "--no-block", name}
	if unitValue(in.data, "Unit", startAtBootKey) == "yes" {
		if _, enabled := b.unitState(ctx, in.s, name); !enabled {
			args = []string{"enable", "--now", "--no-block", name}
		}
	}
	_, err = b.systemctl(ctx, in.s, name, args...)
	return err
}

// Stop is an operator's stop, and lasts: the stop is marked as planned for
// the main pid, the unit stopped, and disabled, so that neither a reboot
// nor a login starts it again; start enables it again.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	in, err := b.unitOf(profile)
	if err != nil {
		return err
	}
	name := UnitName(profile)
	pid, enabled := b.unitState(ctx, in.s, name)
	// systemctl stop returns once the unit is down.
	return b.at(in.home).OperatorStop(profile, pid, func() error {
		args := []string{"stop", name}
		if enabled {
			args = []string{"disable", "--now", name}
		}
		_, err := b.systemctl(ctx, in.s, name, args...)
		return err
	})
}

// Restart restarts the unit (its ExecStop marks the stop, the new gateway
// records running again) without waiting, enabled again as start does.
func (b *Backend) Restart(ctx context.Context, profile string) error {
	in, err := b.unitOf(profile)
	if err != nil {
		return err
	}
	name := UnitName(profile)
	_ = b.at(in.home).RecordDesired(profile, service.DesiredRunning)
	if unitValue(in.data, "Unit", startAtBootKey) == "yes" {
		if _, enabled := b.unitState(ctx, in.s, name); !enabled {
			if _, err := b.systemctl(ctx, in.s, name, "enable", name); err != nil {
				return err
			}
		}
	}
	_, err = b.systemctl(ctx, in.s, name, "restart", "--no-block", name)
	return err
}

// Status asks systemctl show for machine-readable properties.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	sts, err := b.Statuses(ctx, []string{profile})
	if err != nil {
		return service.Status{}, err
	}
	return sts[0], nil
}

// Statuses asks one systemctl show per scope for all the units at once.
// No profiles means every installed hermes unit.
func (b *Backend) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	if len(profiles) == 0 {
		profiles = b.installed()
	}
	out := make([]service.Status, len(profiles))
	byScope := map[bool][]int{}
	scopes := map[bool]scope{}
	for i, p := range profiles {
		out[i] = b.base(p)
		if in, err := b.unitOf(p); err == nil || in.data != nil {
			out[i] = b.at(in.home).BaseStatus(p, UnitName(p))
			out[i].Installed = true
			byScope[in.s.system] = append(byScope[in.s.system], i)
			scopes[in.s.system] = in.s
		}
	}
	for system, idx := range byScope {
		s := scopes[system]
		names := make([]string, len(idx))
		for j, i := range idx {
			names[j] = UnitName(profiles[i])
		}
		res, err := b.show(ctx, s, names)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			for _, i := range idx {
				out[i].State = service.StateUnknown
				out[i].Detail = "systemctl show failed: " + err.Error()
			}
			continue
		}
		for j, i := range idx {
			if blk, ok := res[names[j]]; ok {
				fill(&out[i], blk)
			}
		}
	}
	return out, nil
}

func (b *Backend) base(profile string) service.Status {
	st := b.BaseStatus(profile, UnitName(profile))
	st.Detail = "not installed"
	return st
}

// installed lists the profiles with a unit file, in either scope.
func (b *Backend) installed() []string {
	seen := map[string]bool{}
	var out []string
	for _, dir := range []string{b.cfg.UserUnitDir, b.cfg.SystemUnitDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			p, ok := unitNames.Profile(e.Name())
			if ok && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// journalSocket is where systemd-journald listens; without it nothing
// keeps a unit's output.
const journalSocket = "/run/systemd/journal/socket"

// Logs reads the unit's journal. No line at all is an error saying why:
// no journald, or a journal this user cannot read (journalctl would print
// "-- No entries --" and succeed).
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	s, err := b.locate(profile)
	if err != nil {
		return err
	}
	name := UnitName(profile)
	args := append(s.flag(), "-q", "-u", name, "-n", fmt.Sprint(backend.LogLines(opts.Lines)), "--no-pager")
	if opts.Follow {
		args = append(args, "-f")
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, "journalctl", args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return &service.CommandFailedError{Service: name, Action: "journalctl", ExitCode: -1, Stderr: err.Error(),
			HintText: "install systemd's journalctl (Debian package systemd)"}
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var emitErr error
	lines := 0
	for sc.Scan() {
		lines++
		if emitErr = emit(service.LogLine{Text: sc.Text()}); emitErr != nil {
			cancel()
			break
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	action := strings.TrimSpace("journalctl " + strings.Join(s.flag(), " "))
	switch {
	case emitErr != nil:
		return emitErr
	case ctx.Err() != nil:
		return nil // the follow ended
	case werr != nil:
		code := -1
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			code = ee.ExitCode()
		}
		return &service.CommandFailedError{Service: name, Action: action, ExitCode: code, Stderr: strings.TrimSpace(stderr.String())}
	case lines == 0:
		return noJournalError(name, s, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// noJournalError says why journalctl found no line of the unit.
func noJournalError(name string, s scope, said string) error {
	e := &service.CommandFailedError{Service: name, Action: strings.TrimSpace("journalctl " + strings.Join(s.flag(), " ")), ExitCode: 0}
	if _, err := os.Stat(journalSocket); err != nil {
		e.Stderr = "no journal: systemd-journald is not running here (no " + journalSocket + "), so nothing keeps the gateway's output"
		e.HintText = "start it (systemctl start systemd-journald), or read the gateway's own log files in its home"
		return e
	}
	e.Stderr = "the journal holds no line of " + name + " that this user may read"
	if said != "" {
		e.Stderr += " (journalctl: " + said + ")"
	}
	e.HintText = "if it ran, read it as root (sudo journalctl " + strings.Join(append(s.flag(), "-u", name), " ") +
		"); a user reads their own journal only where it is kept on disk (mkdir /var/log/journal)"
	return e
}

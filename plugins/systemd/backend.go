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
	"strings"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
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

// installScope decides where an install goes: root installs system units.
func (b *Backend) installScope(opts service.InstallOptions, profile string) (scope, error) {
	if !opts.System && !b.cfg.Root {
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

// runAs resolves the account a system unit runs the gateway as. Root must
// be asked for by name: a gateway has no need to run as root.
func (b *Backend) runAs(opts service.InstallOptions) (name, group, home string, err error) {
	name = opts.RunAsUser
	if name == "" {
		if sudoer := os.Getenv("SUDO_USER"); sudoer != "" && sudoer != "root" {
			name = sudoer
		} else {
			return "", "", "", &service.InvalidOptionError{Option: "run-as-user", Value: "",
				Reason: "a system unit would run the gateway as root; pass --run-as-user root to mean it, or --run-as-user NAME"}
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", "", "", &service.InvalidOptionError{Option: "run-as-user", Value: name, Reason: "no such user on this machine"}
	}
	group = u.Gid
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		group = g.Name
	}
	return u.Username, group, u.HomeDir, nil
}

// Install writes the profile's unit (atomically; an identical one is left
// as it is), reloads systemd, and enables and starts it as asked.
func (b *Backend) Install(ctx context.Context, profile string, opts service.InstallOptions) error {
	dir, err := b.InstallDir(profile, opts)
	if err != nil {
		return err
	}
	s, err := b.installScope(opts, profile)
	if err != nil {
		return err
	}
	spec := unitSpec{Profile: profile, Command: opts.Command, Home: b.cfg.Home, ProfileDir: dir,
		Env: opts.Env, System: s.system, StopTimeout: opts.StopTimeout}
	if s.system {
		if spec.User, spec.Group, spec.UserHome, err = b.runAs(opts); err != nil {
			return err
		}
	}
	data, err := spec.render()
	if err != nil {
		return err
	}
	name, path := UnitName(profile), s.path(profile)
	_, statErr := os.Stat(path)
	existed := statErr == nil
	changed, err := b.writeUnit(profile, path, data, opts.Force)
	if err != nil {
		return err
	}
	if !s.system {
		if err := b.ensureLinger(ctx); err != nil {
			return err
		}
	}
	if _, err := b.systemctl(ctx, s, name, "daemon-reload"); err != nil {
		var cf *service.CommandFailedError
		if !s.system && errors.As(err, &cf) {
			cf.HintText = "the user's systemd manager did not answer: log in as " + b.cfg.User +
				" (a session starts it), or run `sudo loginctl enable-linger " + b.cfg.User + "` and set XDG_RUNTIME_DIR=/run/user/$(id -u); " +
				"or install a system unit: sudo hermes gateway install --system --run-as-user " + b.cfg.User
		}
		return err
	}
	if opts.StartOnLogin {
		if _, err := b.systemctl(ctx, s, name, "enable", name); err != nil {
			return err
		}
	}
	if opts.StartNow {
		verb := "start"
		if changed && existed {
			verb = "restart" // a running gateway picks up the rewritten unit
		}
		if _, err := b.systemctl(ctx, s, name, verb, name); err != nil {
			return err
		}
		_ = b.RecordDesired(profile, service.DesiredRunning)
	}
	return nil
}

// writeUnit writes data to path unless the same bytes are there. A
// different unit is replaced only with force, or when it is hermes's own,
// for this home, and merely outdated.
func (b *Backend) writeUnit(profile, path string, data []byte, force bool) (changed bool, err error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return false, nil
	case err == nil && !force:
		ours := bytes.HasPrefix(old, []byte(header))
		if home := unitHome(old); home != "" && home != b.cfg.Home {
			return false, &service.AlreadyExistsError{Profile: profile, Service: UnitName(profile),
				HintText: "it runs the gateway of another Hermes home (" + home + "); use --force to take it over, or --home " + home}
		}
		if !ours {
			return false, &service.AlreadyExistsError{Profile: profile, Service: UnitName(profile),
				HintText: "a unit not written by hermes is in the way at " + path + "; use --force to replace it"}
		}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return false, unitFileError(path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, unitFileError(path, err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return false, unitFileError(path, err)
	}
	return true, nil
}

func unitFileError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &service.PermissionError{Path: path, Operation: "write",
			HintText: "system units need root (sudo); user units go in the user's own ~/.config/systemd/user"}
	}
	return fmt.Errorf("unit file %s: %w", path, err)
}

// ensureLinger makes sure the user's manager outlives their login, so the
// gateway runs after logout and starts at boot: logind's linger flag,
// enabled here when it can be.
func (b *Backend) ensureLinger(ctx context.Context) error {
	u := b.cfg.User
	if _, err := os.Stat(filepath.Join(b.cfg.LingerDir, u)); err == nil {
		return nil
	}
	s := b.cfg.userScope()
	if out, err := b.tool(ctx, s, "", "loginctl", "show-user", u, "-p", "Linger", "--value"); err == nil && strings.TrimSpace(out) == "yes" {
		return nil
	}
	if _, err := b.tool(ctx, s, "", "loginctl", "enable-linger", u); err == nil {
		b.Log().Info("enabled lingering so the gateway runs without a login", "user", u)
		return nil
	}
	return &service.PermissionError{Operation: "keep " + u + "'s systemd manager running after logout (linger)",
		HintText: "run `sudo loginctl enable-linger " + u + "`, then `hermes gateway install` again; or install a system unit: sudo hermes gateway install --system --run-as-user " + u}
}

// locate finds the profile's unit or says it is not installed.
func (b *Backend) locate(profile string) (scope, error) {
	s, ok := b.cfg.find(profile)
	if !ok {
		return scope{}, &service.NotInstalledError{Profile: profile, Service: UnitName(profile)}
	}
	return s, nil
}

// mainPID is the runner's pid, 0 when not running.
func (b *Backend) mainPID(ctx context.Context, s scope, name string) int {
	out, err := b.systemctl(ctx, s, name, "show", "-p", "MainPID", "--value", name)
	if err != nil {
		return 0
	}
	pid, _ := atoi(out)
	return pid
}

// Uninstall stops, disables and removes the unit, then reloads systemd. A
// unit for another Hermes home is refused; a missing one is a no-op.
func (b *Backend) Uninstall(ctx context.Context, profile string) error {
	s, ok := b.cfg.find(profile)
	if !ok {
		return nil
	}
	name, path := UnitName(profile), s.path(profile)
	data, err := os.ReadFile(path)
	if err != nil {
		return unitFileError(path, err)
	}
	if home := unitHome(data); home != "" && home != b.cfg.Home {
		return &service.PermissionError{Path: path, Operation: "uninstall the unit of another Hermes home (" + home + ") at",
			HintText: "run it with --home " + home + ", or remove " + path + " yourself"}
	}
	if pid := b.mainPID(ctx, s, name); pid > 0 {
		b.MarkPlannedStop(profile, pid)
	}
	if _, err := b.systemctl(ctx, s, name, "stop", name); err != nil {
		b.Log().Warn("stop before uninstall failed", "unit", name, "error", err)
	}
	if _, err := b.systemctl(ctx, s, name, "disable", name); err != nil {
		b.Log().Warn("disable before uninstall failed", "unit", name, "error", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return unitFileError(path, err)
	}
	_, err = b.systemctl(ctx, s, name, "daemon-reload")
	return err
}

// Start starts the unit.
func (b *Backend) Start(ctx context.Context, profile string) error {
	s, err := b.locate(profile)
	if err != nil {
		return err
	}
	if _, err := b.systemctl(ctx, s, UnitName(profile), "start", UnitName(profile)); err != nil {
		return err
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	return nil
}

// Stop marks the stop as planned for the runner's pid, then stops the unit.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	s, err := b.locate(profile)
	if err != nil {
		return err
	}
	name := UnitName(profile)
	// systemctl stop returns once the unit is down.
	return b.OperatorStop(profile, b.mainPID(ctx, s, name), func() error {
		_, err := b.systemctl(ctx, s, name, "stop", name)
		return err
	})
}

// Restart restarts the unit (its ExecStop marks the stop, the new runner
// records running again).
func (b *Backend) Restart(ctx context.Context, profile string) error {
	s, err := b.locate(profile)
	if err != nil {
		return err
	}
	if _, err := b.systemctl(ctx, s, UnitName(profile), "restart", UnitName(profile)); err != nil {
		return err
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	return nil
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
		if s, ok := b.cfg.find(p); ok {
			out[i].Installed = true
			byScope[s.system] = append(byScope[s.system], i)
			scopes[s.system] = s
		}
	}
	for system, idx := range byScope {
		s := scopes[system]
		names := make([]string, len(idx))
		for j, i := range idx {
			names[j] = UnitName(profiles[i])
		}
		args := append([]string{"show", "-p", strings.Join(showProps, ",")}, names...)
		res, err := b.systemctl(ctx, s, "", args...)
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
		blocks := map[string]map[string]string{}
		for _, blk := range parseShow(res) {
			blocks[blk["Id"]] = blk
		}
		for j, i := range idx {
			if blk, ok := blocks[names[j]]; ok {
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

// fill maps systemctl show's properties onto the shared status.
func fill(st *service.Status, p map[string]string) {
	if p["LoadState"] == "not-found" {
		st.Installed = false
		st.Detail = "not loaded by systemd (run systemctl daemon-reload)"
		return
	}
	switch p["ActiveState"] {
	case "active", "reloading":
		st.State = service.StateRunning
	case "activating":
		st.State = service.StateStarting
	case "failed":
		st.State = service.StateFailed
	case "inactive", "deactivating":
		st.State = service.StateStopped
	default:
		st.State = service.StateUnknown
	}
	st.Detail = strings.TrimSpace(p["ActiveState"] + " (" + p["SubState"] + ")")
	if pid, ok := atoi(p["MainPID"]); ok && pid > 0 {
		st.PID = new(pid)
	}
	if code, ok := atoi(p["ExecMainStatus"]); ok && st.State != service.StateRunning {
		st.LastExit = new(code)
	}
	if n, ok := atoi(p["NRestarts"]); ok {
		st.Restarts = new(n)
	}
	switch p["UnitFileState"] {
	case "enabled", "enabled-runtime", "linked", "alias":
		st.Enabled = new(true)
	case "disabled", "static", "indirect", "masked":
		st.Enabled = new(false)
	}
	if t, ok := parseTimestamp(p["ActiveEnterTimestamp"]); ok {
		st.Since = &t
	}
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

// Logs reads the unit's journal.
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	s, err := b.locate(profile)
	if err != nil {
		return err
	}
	args := append(s.flag(), "-u", UnitName(profile), "-n", fmt.Sprint(backend.LogLines(opts.Lines)), "--no-pager")
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
		return &service.CommandFailedError{Service: UnitName(profile), Action: "journalctl", ExitCode: -1, Stderr: err.Error()}
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var emitErr error
	for sc.Scan() {
		if emitErr = emit(service.LogLine{Text: sc.Text()}); emitErr != nil {
			cancel()
			break
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
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
		return &service.CommandFailedError{Service: UnitName(profile), Action: "journalctl " + strings.Join(s.flag(), " "),
			ExitCode: code, Stderr: strings.TrimSpace(stderr.String())}
	}
	return nil
}

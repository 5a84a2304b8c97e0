package launchd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
	"github.com/nousresearch/hermes-service/internal/homefs"
	"github.com/nousresearch/hermes-service/internal/logtail"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Config is where plists go and who installs them.
type Config struct {
	backend.Settings
	AgentsDir  string // ~/Library/LaunchAgents
	DaemonsDir string // /Library/LaunchDaemons
	UID        int
	Root       bool
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv(log hclog.Logger) (Config, error) {
	set, err := backend.SettingsFromEnv(log)
	if err != nil {
		return Config{}, err
	}
	userHome, err := os.UserHomeDir()
	if err != nil {
		return Config{}, errors.New("cannot find the user's home for ~/Library/LaunchAgents: set HOME")
	}
	cfg := Config{Settings: set, AgentsDir: filepath.Join(userHome, "Library", "LaunchAgents"),
		DaemonsDir: os.Getenv(gateway.EnvLaunchdDaemonsDir), UID: os.Getuid(), Root: os.Geteuid() == 0}
	if cfg.DaemonsDir == "" {
		cfg.DaemonsDir = "/Library/LaunchDaemons"
	}
	return cfg, nil
}

// Backend keeps profile gateways as launchd jobs.
type Backend struct {
	backend.Base
	cfg Config

	domainOnce sync.Once
	userDomain string
}

// New returns the backend for cfg.
func New(cfg Config) *Backend { return &Backend{Base: cfg.Base(identity), cfg: cfg} }

// FromEnv is the plugin's factory: the backend configured from the
// environment the host passes.
var FromEnv = backend.FromConfig(ConfigFromEnv, New)

// notLoaded are launchctl's exits for "no such service here": ESRCH (3),
// "Could not find service" (113) and 125.
func notLoaded(code int) bool { return code == 3 || code == 113 || code == 125 }

// launchctl runs launchctl; a failure is a CommandFailedError (or a
// PermissionError when launchd refused the caller).
func (b *Backend) launchctl(ctx context.Context, label string, args ...string) (string, int, error) {
	res, err := b.RunTool(ctx, backend.Tool{Path: "launchctl", Args: args, Service: label, Action: "launchctl " + args[0],
		Hint: "see launchd's view: launchctl print " + strings.Join(args[1:], " ")})
	var cf *service.CommandFailedError
	if errors.As(err, &cf) && (strings.Contains(cf.Stderr, "Operation not permitted") || strings.Contains(cf.Stderr, "Permission denied")) {
		return res.Stdout, res.ExitCode, &service.PermissionError{Operation: "launchctl " + args[0] + " " + label,
			HintText: "launchd refused: system daemons need root (" + "sudo " + gateway.CommandHint(service.DefaultProfile, "install --system") +
				"), and agents belong to the logged-in user"}
	}
	if err != nil && ctx.Err() != nil {
		return "", -1, err
	}
	return res.Stdout, res.ExitCode, err
}

// target is where a job lives: its domain and plist.
type target struct {
	domain string
	plist  string
	system bool
}

func (t target) service(label string) string { return t.domain + "/" + label }

// domain is the user's launchd domain: gui/<uid> with a GUI (Aqua)
// session, else user/<uid>. Decided once per plugin run (one host command).
func (b *Backend) domain(ctx context.Context) string {
	b.domainOnce.Do(func() {
		gui := fmt.Sprintf("gui/%d", b.cfg.UID)
		b.userDomain = fmt.Sprintf("user/%d", b.cfg.UID)
		if out, _, err := b.launchctl(ctx, "", "managername"); err == nil && strings.TrimSpace(out) == "Aqua" {
			b.userDomain = gui
		} else if _, _, err := b.launchctl(ctx, "", "print", gui); err == nil {
			b.userDomain = gui
		}
	})
	return b.userDomain
}

func (b *Backend) agent(ctx context.Context, profile string) target {
	return target{domain: b.domain(ctx), plist: filepath.Join(b.cfg.AgentsDir, Label(profile)+".plist")}
}

func (b *Backend) daemon(profile string) target {
	return target{domain: "system", plist: filepath.Join(b.cfg.DaemonsDir, Label(profile)+".plist"), system: true}
}

// locate finds the profile's plist: the agent first, except for root,
// whose jobs are daemons.
func (b *Backend) locate(ctx context.Context, profile string) (target, error) {
	order := []func() target{func() target { return b.agent(ctx, profile) }, func() target { return b.daemon(profile) }}
	if b.cfg.Root {
		order[0], order[1] = order[1], order[0]
	}
	for _, t := range order {
		tt := t()
		if _, err := os.Stat(tt.plist); err == nil {
			return tt, nil
		}
		if b.cfg.Root {
			break // root's jobs are daemons; no user domain to ask about
		}
	}
	return target{}, &service.NotInstalledError{Profile: profile, Service: Label(profile)}
}

// logFile is where the job's stdout and stderr go.
func (b *Backend) logFile(dir string) string {
	return filepath.Join(dir, "logs", "gateway.log")
}

// loaded reports whether launchd knows the job; the print output with it.
func (b *Backend) loaded(ctx context.Context, t target, label string) (string, bool, error) {
	out, code, err := b.launchctl(ctx, label, "print", t.service(label))
	if err == nil {
		return out, true, nil
	}
	if notLoaded(code) {
		return "", false, nil
	}
	return "", false, err
}

// bootout unloads the job; not being loaded is fine.
func (b *Backend) bootout(ctx context.Context, t target, label string) error {
	_, code, err := b.launchctl(ctx, label, "bootout", t.service(label))
	if err != nil && notLoaded(code) {
		return nil
	}
	return err
}

// bootstrap loads the plist. EIO (5) is launchd's answer when a stale copy
// of the job lingers: boot it out and try once more.
func (b *Backend) bootstrap(ctx context.Context, t target, label string) error {
	_, code, err := b.launchctl(ctx, label, "bootstrap", t.domain, t.plist)
	if err != nil && code == 5 {
		b.Log().Debug("bootstrap said EIO; booting out and retrying once", "label", label)
		if err := b.bootout(ctx, t, label); err != nil {
			return err
		}
		_, _, err = b.launchctl(ctx, label, "bootstrap", t.domain, t.plist)
	}
	return err
}

// Install writes the plist and loads it as asked.
func (b *Backend) Install(ctx context.Context, profile string, opts service.InstallOptions) error {
	dir, err := b.InstallDir(profile, opts)
	if err != nil {
		return err
	}
	var t target
	switch {
	case opts.System && !b.cfg.Root:
		return &service.PermissionError{Path: b.cfg.DaemonsDir, Operation: "install a system daemon in",
			HintText: "daemons need root: sudo " + gateway.CommandHint(profile, "install --system")}
	case opts.System || b.cfg.Root:
		t = b.daemon(profile)
	default:
		t = b.agent(ctx, profile)
	}
	label := Label(profile)
	env := map[string]string{gateway.EnvHome: b.cfg.Home, gateway.EnvSupervisedChild: "1", "PATH": sanePath}
	maps.Copy(env, opts.Env)
	j := job{Label: label, ProgramArguments: programArguments(opts.Command), WorkingDirectory: dir,
		EnvironmentVariables: env, RunAtLoad: opts.StartOnLogin, KeepAlive: keepAlive{SuccessfulExit: false},
		ThrottleInterval: 30, ExitTimeOut: exitTimeOut(opts.StopTimeout), StandardOutPath: b.logFile(dir), StandardErrorPath: b.logFile(dir),
		ProcessType: "Background"}
	if t.system {
		j.UserName = opts.RunAsUser
	}
	data, err := j.encode()
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(t.plist); err == nil && !bytes.Equal(old, data) && !opts.Force {
		if prev, derr := decode(old); derr != nil || prev.EnvironmentVariables[gateway.EnvHome] != b.cfg.Home {
			return &service.AlreadyExistsError{Profile: profile, Service: label,
				HintText: "another job is at " + t.plist + "; use --force to replace it"}
		}
	}
	if err := os.MkdirAll(filepath.Dir(t.plist), 0o755); err != nil {
		return fileError(filepath.Dir(t.plist), err)
	}
	// The logs folder is the home owner's, made without following a
	// symlink (a daemon is installed by root).
	if err := mkdirHome(dir, "logs"); errors.Is(err, homefs.ErrUnsafe) {
		return err
	} else if err != nil {
		return fileError(filepath.Join(dir, "logs"), err)
	}
	if err := atomicfile.WriteFile(t.plist, data, 0o644); err != nil {
		return fileError(t.plist, err)
	}
	// A loaded job keeps its old definition until booted out.
	if _, isLoaded, err := b.loaded(ctx, t, label); err != nil {
		return err
	} else if isLoaded {
		if err := b.bootout(ctx, t, label); err != nil {
			return err
		}
	}
	// An operator's earlier stop disabled the job: an install is the
	// operator's word that it may run again, now or at the next login.
	if err := b.enable(ctx, t, label); err != nil {
		return err
	}
	if !opts.StartNow {
		return nil // launchd loads it from the folder at the next login or boot
	}
	if err := b.bootstrap(ctx, t, label); err != nil {
		return err
	}
	if !opts.StartOnLogin { // RunAtLoad would have started it
		if _, _, err := b.launchctl(ctx, label, "kickstart", t.service(label)); err != nil {
			return err
		}
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	return nil
}

func fileError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &service.PermissionError{Path: path, Operation: "write", HintText: "system daemons need root (sudo)"}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Uninstall boots the job out and removes its plist; a missing one is a
// no-op.
func (b *Backend) Uninstall(ctx context.Context, profile string) error {
	t, err := b.locate(ctx, profile)
	if err != nil {
		return nil
	}
	label := Label(profile)
	if out, isLoaded, _ := b.loaded(ctx, t, label); isLoaded {
		if pid := parsePrint(out).PID; pid > 0 {
			b.MarkPlannedStop(profile, pid)
		}
	}
	if err := b.bootout(ctx, t, label); err != nil {
		return err
	}
	if err := os.Remove(t.plist); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fileError(t.plist, err)
	}
	return nil
}

// ensureLoaded bootstraps the job when launchd does not know it.
func (b *Backend) ensureLoaded(ctx context.Context, t target, label string) error {
	_, isLoaded, err := b.loaded(ctx, t, label)
	if err != nil || isLoaded {
		return err
	}
	return b.bootstrap(ctx, t, label)
}

// Start loads the job when needed and kickstarts it.
func (b *Backend) Start(ctx context.Context, profile string) error { return b.kickstart(ctx, profile) }

// Restart kills and restarts the job (kickstart -k).
func (b *Backend) Restart(ctx context.Context, profile string) error {
	return b.kickstart(ctx, profile, "-k")
}

func (b *Backend) kickstart(ctx context.Context, profile string, flags ...string) error {
	t, err := b.locate(ctx, profile)
	if err != nil {
		return err
	}
	label := Label(profile)
	if err := b.enable(ctx, t, label); err != nil { // undo an operator's stop first: a disabled job does not load
		return err
	}
	if err := b.ensureLoaded(ctx, t, label); err != nil {
		return err
	}
	args := append(append([]string{"kickstart"}, flags...), t.service(label))
	if _, _, err := b.launchctl(ctx, label, args...); err != nil {
		return err
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	return nil
}

// Stop marks the stop as planned for the running pid, then boots the job
// out. bootout rather than `kill`: KeepAlive would restart a killed job
// (the runner exits 0 after a planned stop, but a job killed before it
// reads the marker would not), and bootout also keeps it down until the
// next start, which bootstraps it again.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	t, err := b.locate(ctx, profile)
	if err != nil {
		return err
	}
	label := Label(profile)
	out, isLoaded, err := b.loaded(ctx, t, label)
	if err != nil {
		return err
	}
	pid := 0
	if isLoaded {
		pid = parsePrint(out).PID
	}
	return b.OperatorStop(profile, pid, func() error {
		if isLoaded {
			if err := b.bootout(ctx, t, label); err != nil {
				return err
			}
		}
		// bootout alone is undone at the next login or boot, which loads
		// every plist in the folder again: disabled, it stays down.
		if _, _, err := b.launchctl(ctx, label, "disable", t.service(label)); err != nil {
			b.Log().Warn("the job is stopped but not disabled: it starts again at the next login", "error", err)
		}
		return nil
	})
}

// enable lets launchd load the job again after an operator's stop
// disabled it.
func (b *Backend) enable(ctx context.Context, t target, label string) error {
	_, _, err := b.launchctl(ctx, label, "enable", t.service(label))
	return err
}

// Status reads launchctl print.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	st := b.BaseStatus(profile, Label(profile))
	st.Detail = "not installed"
	var gs gateway.State
	if dir, err := b.ProfileDir(profile); err == nil {
		gs, _ = gateway.ReadState(dir)
	}
	t, err := b.locate(ctx, profile)
	if err != nil {
		return st, nil
	}
	st.Installed = true
	if data, err := os.ReadFile(t.plist); err == nil {
		if j, err := decode(data); err == nil {
			st.Enabled = new(j.RunAtLoad)
		}
	}
	label := Label(profile)
	out, isLoaded, err := b.loaded(ctx, t, label)
	if err != nil {
		st.State, st.Detail = service.StateUnknown, err.Error()
		return st, nil
	}
	if !isLoaded {
		st.Detail = "not loaded (" + t.service(label) + ")"
		return st, nil
	}
	info := parsePrint(out)
	st.LastExit, st.Restarts = info.LastExit, nil
	if info.Runs != nil && *info.Runs > 0 {
		st.Restarts = new(*info.Runs - 1)
	}
	switch {
	case info.State == "running":
		st.State = service.StateRunning
		st.PID = new(info.PID)
	case strings.HasPrefix(info.State, "spawn"):
		st.State = service.StateStarting
	case gs.GatewayState() == gateway.GatewayStartupFailed || (info.LastExit != nil && *info.LastExit == gateway.ExitConfig):
		st.State = service.StateFailed
	default:
		st.State = service.StateStopped
	}
	st.Detail = info.State + " in " + t.domain
	if info.LastExit != nil {
		st.Detail += ", last exit " + strconv.Itoa(*info.LastExit)
	}
	return st, nil
}

// Statuses is Status for each; all means every plist of ours.
func (b *Backend) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	if len(profiles) == 0 {
		for _, dir := range []string{b.cfg.AgentsDir, b.cfg.DaemonsDir} {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if p, ok := labels.Profile(strings.TrimSuffix(e.Name(), ".plist")); ok {
					profiles = append(profiles, p)
				}
			}
		}
	}
	return service.EachStatus(ctx, b.Status, profiles)
}

// Logs tails and follows the job's log file.
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	if _, err := b.locate(ctx, profile); err != nil {
		return err
	}
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return err
	}
	return logtail.File(ctx, b.logFile(dir), backend.LogLines(opts.Lines), opts.Follow, logtail.Plain, emit)
}

// mkdirHome makes the folder name in the profile folder dir through
// internal/homefs: the home owner's, no symlink followed.
func mkdirHome(dir, name string) error {
	h, rel, err := homefs.OpenProfile(dir, true)
	if err != nil {
		return err
	}
	defer h.Close()
	return h.MkdirAll(homefs.Join(rel, name), 0o755)
}

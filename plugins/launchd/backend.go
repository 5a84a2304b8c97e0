package launchd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
	"github.com/nousresearch/hermes-service/internal/logtail"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Config is where plists go and who installs them.
type Config struct {
	Home       string // the Hermes home's root
	AgentsDir  string // ~/Library/LaunchAgents
	DaemonsDir string // /Library/LaunchDaemons
	UID        int
	Root       bool
	Log        hclog.Logger
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv(log hclog.Logger) (Config, error) {
	home, err := gateway.DefaultRoot()
	if err != nil {
		return Config{}, err
	}
	userHome, err := os.UserHomeDir()
	if err != nil {
		return Config{}, errors.New("cannot find the user's home for ~/Library/LaunchAgents: set HOME")
	}
	cfg := Config{Home: home, AgentsDir: filepath.Join(userHome, "Library", "LaunchAgents"),
		DaemonsDir: os.Getenv("HERMES_LAUNCHD_DAEMONS_DIR"), UID: os.Getuid(), Root: os.Geteuid() == 0, Log: log}
	if cfg.DaemonsDir == "" {
		cfg.DaemonsDir = "/Library/LaunchDaemons"
	}
	return cfg, nil
}

// Backend keeps profile gateways as launchd jobs.
type Backend struct {
	service.Unimplemented
	cfg Config
	log hclog.Logger

	domainOnce sync.Once
	userDomain string
}

var _ service.Manager = (*Backend)(nil)

// New returns the backend for cfg.
func New(cfg Config) *Backend {
	log := cfg.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Backend{Unimplemented: service.Unimplemented{Kind: service.KindLaunchd}, cfg: cfg, log: log}
}

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""

// Identify reports launchd: install (agent or daemon) and logs.
func (b *Backend) Identify(context.Context) (service.Identity, error) {
	v := plugin.BuildVersion(Version)
	return service.Identity{Kind: service.KindLaunchd, Version: v, Capabilities: service.Capabilities{
		Install: true, Logs: true, FollowLogs: true, SystemScope: true}}, nil
}

// notLoaded are launchctl's exits for "no such service here": ESRCH (3),
// "Could not find service" (113) and 125.
func notLoaded(code int) bool { return code == 3 || code == 113 || code == 125 }

// launchctl runs launchctl; a failure is a CommandFailedError (or a
// PermissionError when launchd refused the caller).
func (b *Backend) launchctl(ctx context.Context, label string, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, "launchctl", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	b.log.Debug("launchctl", "args", args, "error", err, "stderr", strings.TrimSpace(stderr.String()))
	if err == nil {
		return stdout.String(), 0, nil
	}
	if ctx.Err() != nil {
		return "", -1, ctx.Err()
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	msg := strings.TrimSpace(stderr.String())
	if code == -1 {
		msg = err.Error()
	}
	if strings.Contains(msg, "Operation not permitted") || strings.Contains(msg, "Permission denied") {
		return stdout.String(), code, &service.PermissionError{Operation: "launchctl " + args[0] + " " + label,
			HintText: "launchd refused: system daemons need root (sudo hermes gateway install --system), and agents belong to the logged-in user"}
	}
	return stdout.String(), code, &service.CommandFailedError{Service: label, Action: "launchctl " + args[0], ExitCode: code, Stderr: msg,
		HintText: "see launchd's view: launchctl print " + strings.Join(args[1:], " ")}
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

func (b *Backend) profileDir(profile string) string {
	dir, _ := gateway.Home{Root: b.cfg.Home}.ProfileDir(profile)
	return dir
}

// logFile is where the job's stdout and stderr go.
func (b *Backend) logFile(profile string) string {
	return filepath.Join(b.profileDir(profile), "logs", "gateway.log")
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
		b.log.Debug("bootstrap said EIO; booting out and retrying once", "label", label)
		if err := b.bootout(ctx, t, label); err != nil {
			return err
		}
		_, _, err = b.launchctl(ctx, label, "bootstrap", t.domain, t.plist)
	}
	return err
}

// Install writes the plist and loads it as asked.
func (b *Backend) Install(ctx context.Context, profile string, opts service.InstallOptions) error {
	if err := service.ValidateProfile(profile); err != nil {
		return err
	}
	if err := service.ValidateEnv(opts.Env); err != nil {
		return err
	}
	if len(opts.Command) == 0 || !filepath.IsAbs(opts.Command[0]) {
		return &service.InvalidOptionError{Option: "command", Value: strings.Join(opts.Command, " "),
			Reason: "the job needs the absolute path of the hermes binary"}
	}
	var t target
	switch {
	case opts.System && !b.cfg.Root:
		return &service.PermissionError{Path: b.cfg.DaemonsDir, Operation: "install a system daemon in",
			HintText: "daemons need root: sudo hermes " + pflag(profile) + "gateway install --system"}
	case opts.System || b.cfg.Root:
		t = b.daemon(profile)
	default:
		t = b.agent(ctx, profile)
	}
	label := Label(profile)
	dir := b.profileDir(profile)
	args := []string{opts.Command[0]}
	if profile != service.DefaultProfile {
		args = append(args, "-p", profile)
	}
	env := map[string]string{"HERMES_HOME": b.cfg.Home, "HERMES_SUPERVISED_CHILD": "1",
		"HERMES_SERVICE_MANAGER": "launchd", "PATH": sanePath}
	for k, v := range opts.Env {
		env[k] = v
	}
	j := job{Label: label, ProgramArguments: append(args, "gateway", "run"), WorkingDirectory: dir,
		EnvironmentVariables: env, RunAtLoad: opts.StartOnLogin, KeepAlive: keepAlive{SuccessfulExit: false},
		ThrottleInterval: 30, ExitTimeOut: 60, StandardOutPath: b.logFile(profile), StandardErrorPath: b.logFile(profile),
		ProcessType: "Background"}
	if t.system {
		j.UserName = opts.RunAsUser
	}
	data, err := j.encode()
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(t.plist); err == nil && !bytes.Equal(old, data) && !opts.Force {
		if prev, derr := decode(old); derr != nil || prev.EnvironmentVariables["HERMES_HOME"] != b.cfg.Home {
			return &service.AlreadyExistsError{Profile: profile, Service: label,
				HintText: "another job is at " + t.plist + "; use --force to replace it"}
		}
	}
	for _, d := range []string{filepath.Dir(t.plist), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fileError(d, err)
		}
	}
	if err := atomicfile.WriteFile(t.plist, data); err != nil {
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
	b.recordDesired(profile, service.DesiredRunning)
	return nil
}

func pflag(profile string) string {
	if profile == service.DefaultProfile {
		return ""
	}
	return "-p " + profile + " "
}

func fileError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return &service.PermissionError{Path: path, Operation: "write", HintText: "system daemons need root (sudo)"}
	}
	return fmt.Errorf("%s: %w", path, err)
}

func (b *Backend) recordDesired(profile, desired string) {
	gateway.RecordDesired(b.log, b.profileDir(profile), desired)
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
			gateway.MarkPlannedStop(b.log, b.profileDir(profile), pid)
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
	if err := b.ensureLoaded(ctx, t, label); err != nil {
		return err
	}
	args := append(append([]string{"kickstart"}, flags...), t.service(label))
	if _, _, err := b.launchctl(ctx, label, args...); err != nil {
		return err
	}
	b.recordDesired(profile, service.DesiredRunning)
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
	if isLoaded {
		if pid := parsePrint(out).PID; pid > 0 {
			gateway.MarkPlannedStop(b.log, b.profileDir(profile), pid)
		}
		if err := b.bootout(ctx, t, label); err != nil {
			return err
		}
	}
	b.recordDesired(profile, service.DesiredStopped)
	return nil
}

// Status reads launchctl print.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	st := service.Status{Profile: profile, Backend: service.KindLaunchd, State: service.StateStopped,
		Unit: service.Ptr(Label(profile)), Detail: "not installed"}
	gs, _ := gateway.ReadState(b.profileDir(profile))
	if d := gs.DesiredState(); d != "" {
		st.DesiredState = service.Ptr(d)
	}
	t, err := b.locate(ctx, profile)
	if err != nil {
		return st, nil
	}
	st.Installed = true
	if data, err := os.ReadFile(t.plist); err == nil {
		if j, err := decode(data); err == nil {
			st.Enabled = service.Ptr(j.RunAtLoad)
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
		st.Restarts = service.Ptr(*info.Runs - 1)
	}
	switch {
	case info.State == "running":
		st.State = service.StateRunning
		st.PID = service.Ptr(info.PID)
	case strings.HasPrefix(info.State, "spawn"):
		st.State = service.StateStarting
	case gs.GatewayState() == gateway.GatewayStartupFailed || (info.LastExit != nil && *info.LastExit == 78):
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
				if p, ok := service.ProfileFromName(strings.TrimSuffix(e.Name(), ".plist"), "ai.hermes.gateway", "ai.hermes.gateway."); ok {
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
	n := opts.Lines
	if n <= 0 {
		n = 50
	}
	return logtail.File(ctx, b.logFile(profile), n, opts.Follow, logtail.Plain, emit)
}

// Package runit is a hermes backend for runit (smarden.org/runit), written
// out of tree against the SDK alone: the template to copy for a backend of
// your own. Each profile's gateway is a runit service,
// hermes-gateway-<profile>: its definition in HERMES_RUNIT_DIR (default
// /etc/sv), linked into the folder runsvdir watches, HERMES_RUNIT_SVDIR
// (default /etc/service). See docs/backend-guide.md in the SDK's repository
// for the contract this follows.
package runit

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Kind is the backend's name: the plugin is hermes-service-runit.
const Kind = "runit"

// Version is set at build time (-ldflags -X).
var Version string

// Its settings, from the environment hermes passes the plugin.
const (
	EnvDir   = "HERMES_RUNIT_DIR"
	EnvSvDir = "HERMES_RUNIT_SVDIR"
)

// Config is where the services live.
type Config struct {
	backend.Settings
	Dir   string // service definitions
	SvDir string // what runsvdir watches: links to them
}

// ConfigFromEnv reads the settings; a home that cannot be found is a
// configuration error, which the plugin reports with exit 78.
func ConfigFromEnv(log hclog.Logger) (Config, error) {
	s, err := backend.SettingsFromEnv(log)
	return Config{Settings: s, Dir: envOr(EnvDir, "/etc/sv"), SvDir: envOr(EnvSvDir, "/etc/service")}, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Backend is the runit backend.
type Backend struct {
	backend.Base
	cfg Config
}

// New builds the backend.
func New(cfg Config) *Backend {
	return &Backend{Base: cfg.Base(backend.Identity{Kind: Kind, Version: Version,
		Capabilities: service.Capabilities{Install: true, Logs: true}}), cfg: cfg}
}

// FromEnv is the plugin's factory.
var FromEnv = backend.FromConfig(ConfigFromEnv, New)

// Name is a profile's service name.
func Name(profile string) string { return "hermes-gateway-" + profile }

func (b *Backend) def(profile string) string  { return filepath.Join(b.cfg.Dir, Name(profile)) }
func (b *Backend) link(profile string) string { return filepath.Join(b.cfg.SvDir, Name(profile)) }

// budgetFile keeps the stop budget beside the scripts (runsv ignores it).
const budgetFile = "hermes-stop-budget"

// installed is the profile's definition, or a *NotInstalledError.
func (b *Backend) installed(profile string) (string, error) {
	dir := b.def(profile)
	if _, err := os.Stat(filepath.Join(dir, "run")); err != nil {
		return "", &service.NotInstalledError{Profile: profile, Service: Name(profile),
			HintText: "install it first: " + gateway.CommandHint(profile, "install")}
	}
	return dir, nil
}

// Install writes the service's definition and links it where runsvdir
// looks. The runner's argv is run as hermes gave it, with exec, so the pid
// runsv signals is the runner (and, under the hermes protocol, the gateway
// it execs): the pid a planned-stop marker names.
func (b *Backend) Install(ctx context.Context, profile string, opts service.InstallOptions) error {
	if _, err := b.InstallDir(profile, opts); err != nil {
		return err
	}
	dir := b.def(profile)
	if _, err := b.installed(profile); err == nil && !opts.Force {
		return &service.AlreadyExistsError{Profile: profile, Service: Name(profile), HintText: "add --force to replace it"}
	}
	svlogd, err := exec.LookPath("svlogd")
	if err != nil {
		return &service.CommandFailedError{Service: Name(profile), Action: "find svlogd", ExitCode: -1, Stderr: err.Error(),
			HintText: "install runit (apt-get install runit)"}
	}
	logs := filepath.Join(b.cfg.Home, "logs", "gateways", profile)
	files := map[string]string{
		"run":      b.runScript(profile, opts),
		"finish":   finishScript,
		"log/run":  fmt.Sprintf("#!/bin/sh\nmkdir -p %s\nexec %s -tt %s\n", quote(logs), quote(svlogd), quote(logs)),
		budgetFile: strconv.Itoa(int(gateway.StopBudgetOf(opts.StopTimeout)/time.Second)) + "\n",
	}
	if !opts.StartNow {
		files["down"] = ""
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path+".tmp", []byte(files[name]), 0o755); err != nil {
			return err
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return err
		}
	}
	if err := os.Symlink(dir, b.link(profile)); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("link %s into %s: %w", dir, b.cfg.SvDir, err)
	}
	if err := b.supervised(ctx, profile); err != nil {
		return err
	}
	if opts.StartNow {
		_ = b.RecordDesired(profile, service.DesiredRunning)
	}
	return nil
}

// runScript sets what the runner expects of every service: HERMES_HOME,
// the supervised-child variable, the operator's --env; then execs it.
func (b *Backend) runScript(profile string, opts service.InstallOptions) string {
	var s strings.Builder
	fmt.Fprintf(&s, "#!/bin/sh\n# hermes gateway for profile %s, written by hermes-service-runit\n", profile)
	fmt.Fprintf(&s, "export %s=%s %s=1\n", gateway.EnvHome, quote(b.cfg.Home), gateway.EnvSupervisedChild)
	for _, k := range slices.Sorted(maps.Keys(opts.Env)) {
		fmt.Fprintf(&s, "export %s=%s\n", k, quote(opts.Env[k]))
	}
	words := make([]string, len(opts.Command))
	for i, w := range opts.Command {
		words[i] = quote(w)
	}
	fmt.Fprintf(&s, "exec 2>&1\nexec %s\n", strings.Join(words, " "))
	return s.String()
}

// finishScript keeps a gateway down after exit 0 (a planned stop, a clean
// exit) or 78 (a fatal configuration): runsv restarts anything else.
var finishScript = fmt.Sprintf("#!/bin/sh\n# $1 is run's exit code\ncase \"$1\" in %d|%d) printf d > supervise/control ;; esac\n",
	gateway.ExitOK, gateway.ExitConfig)

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// supervised waits for runsv to take the service up: runsvdir looks for new
// services every few seconds. runsv holds supervise/ok open for reading.
func (b *Backend) supervised(ctx context.Context, profile string) error {
	ok := filepath.Join(b.def(profile), "supervise", "ok")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if f, err := os.OpenFile(ok, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			return f.Close()
		}
		if time.Now().After(deadline) {
			return &service.CommandFailedError{Service: Name(profile), Action: "wait for runsv", ExitCode: -1,
				Stderr: "no runsv took " + b.link(profile) + " up within 15s", HintText: "is runsvdir running on " + b.cfg.SvDir + "?"}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sv runs runit's sv on the profile's service.
func (b *Backend) sv(ctx context.Context, profile string, args ...string) error {
	_, err := b.RunTool(ctx, backend.Tool{Path: "sv", Args: append(args, b.def(profile)), Service: Name(profile),
		Hint: "see " + gateway.CommandHint(profile, "status"), MissingHint: "install runit (apt-get install runit)"})
	return err
}

// stopWait is sv's -w for a stop: the stop budget, after which force-stop
// kills what is left.
func (b *Backend) stopWait(profile string) string {
	data, _ := os.ReadFile(filepath.Join(b.def(profile), budgetFile))
	if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n > 0 {
		return strconv.Itoa(n)
	}
	return gateway.Seconds(gateway.StopBudget)
}

// Uninstall stops the gateway as an operator's stop, unlinks the service,
// lets runsv exit, and removes the definition.
func (b *Backend) Uninstall(ctx context.Context, profile string) error {
	if _, err := b.installed(profile); err != nil {
		return nil
	}
	if err := b.Stop(ctx, profile); err != nil {
		return err
	}
	if err := os.Remove(b.link(profile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_ = b.sv(ctx, profile, "exit")
	lock := filepath.Join(b.def(profile), "supervise", "lock")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && held(lock); {
		time.Sleep(50 * time.Millisecond) // runsv exits once its service is down
	}
	return os.RemoveAll(b.def(profile))
}

// held reports whether a runsv holds the service's supervise lock.
func held(lock string) bool {
	f, err := os.Open(lock)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// Start removes the down file (the operator wants it up, at boot too) and
// tells runsv.
func (b *Backend) Start(ctx context.Context, profile string) error {
	dir, err := b.installed(profile)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, "down")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := b.sv(ctx, profile, "up"); err != nil {
		return err
	}
	return b.RecordDesired(profile, service.DesiredRunning)
}

// Stop is the operator's: OperatorStop records the intent and marks the
// stop as planned for the supervised pid before sv signals it; the down
// file keeps it down across a reboot.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	dir, err := b.installed(profile)
	if err != nil {
		return err
	}
	return b.OperatorStop(profile, b.read(profile).running(), func() error {
		if err := os.WriteFile(filepath.Join(dir, "down"), nil, 0o644); err != nil {
			return err
		}
		return b.sv(ctx, profile, "-w", b.stopWait(profile), "force-stop")
	})
}

// Restart is a planned stop and a start, as the contract defines it.
func (b *Backend) Restart(ctx context.Context, profile string) error {
	dir, err := b.installed(profile)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, "down")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return b.OperatorRestart(profile, b.read(profile).running(),
		func() error { return b.sv(ctx, profile, "-w", b.stopWait(profile), "force-stop") },
		func() error { return b.sv(ctx, profile, "up") })
}

// svStatus is runsv's supervise/status: the daemontools layout.
type svStatus struct {
	ok     bool
	since  time.Time
	pid    int
	wantUp bool
	state  byte // 0 down, 1 run, 2 finish
}

// running is the pid runsv supervises now, 0 when ./run is not running.
func (s svStatus) running() int {
	if s.state != 1 {
		return 0
	}
	return s.pid
}

func (b *Backend) read(profile string) svStatus {
	data, err := os.ReadFile(filepath.Join(b.def(profile), "supervise", "status"))
	if err != nil || len(data) < 20 {
		return svStatus{}
	}
	// TAI64N: seconds since 1970 plus 2^62 and 10 leap seconds, then ns.
	sec := int64(binary.BigEndian.Uint64(data[0:8]) - (1<<62 + 10))
	return svStatus{ok: true, since: time.Unix(sec, int64(binary.BigEndian.Uint32(data[8:12]))),
		pid: int(binary.LittleEndian.Uint32(data[12:16])), wantUp: data[17] == 'u', state: data[19]}
}

// Status reads runsv's status file: no tool to run, so it costs a file read.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	st := b.BaseStatus(profile, Name(profile))
	dir, err := b.installed(profile)
	if err != nil {
		st.Detail = "not installed"
		return st, nil
	}
	st.Installed = true
	_, downErr := os.Stat(filepath.Join(dir, "down"))
	st.Enabled = new(errors.Is(downErr, os.ErrNotExist))
	s := b.read(profile)
	switch {
	case !s.ok:
		st.State, st.Detail = service.StateUnknown, "runsv has not taken it up yet"
	case s.running() > 0:
		st.State, st.PID = service.StateRunning, new(s.running())
	case s.wantUp:
		st.State, st.Detail = service.StateStarting, "runsv is restarting it"
	default:
		st.State = service.StateStopped
	}
	if s.ok {
		st.Since = &s.since
	}
	return st, nil
}

// Logs reads svlogd's current file: "<time> <line>" per line, -tt's time.
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	if _, err := b.installed(profile); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(b.cfg.Home, "logs", "gateways", profile, "current"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	var lines []service.LogLine
	s := bufio.NewScanner(f)
	for s.Scan() {
		stamp, text, _ := strings.Cut(s.Text(), " ")
		t, _ := time.Parse("2006-01-02_15:04:05.00000", stamp)
		lines = append(lines, service.LogLine{Time: t, Text: text})
	}
	for _, l := range lines[max(0, len(lines)-backend.LogLines(opts.Lines)):] {
		if err := emit(l); err != nil {
			return err
		}
	}
	return s.Err()
}

// Package testbackend is a hermes backend with no init system behind it,
// for tests only (it is never built into a release). Profiles live in
// memory, or in a JSON file when HERMES_TESTBACKEND_DIR is set so that state
// survives across launches. Some profile names trigger failures on every
// operation, so tests can drive each error path through a real plugin
// process:
//
//	hang     blocks until the call's context ends
//	panic    panics inside the backend
//	crash    the plugin process exits with status 3
//	cmdfail  a *CommandFailedError (exit 111, stderr "boom")
//	denied   a *PermissionError
//	exists   an *AlreadyExistsError from install and register
//	badopt   an *InvalidOptionError
//	plain    an untyped error
//
// HERMES_TESTBACKEND_CAPS restricts the capabilities: "none", or a comma
// list of install, registration, logs, follow, system, elevated.
// HERMES_TESTBACKEND_BROKEN=1 breaks the contract on purpose (lifecycle on a
// missing profile succeeds, list is never empty, status names another
// profile) so that tests can see the conformance kit catch it.
// Three more break the contract the way the conformance kit must catch:
// HERMES_TESTBACKEND_STATE=S makes every status report state S (one the
// contract does not name); HERMES_TESTBACKEND_SLOW_STATUS=D makes every
// status take D (a Go duration); HERMES_TESTBACKEND_HOLLOW=LIST keeps the
// declared capabilities but leaves those listed (logs, follow, install,
// registration) unimplemented: they answer "unsupported".
// HERMES_TESTBACKEND_DIAGNOSE=fail makes Diagnose find a problem and a
// warning besides its usual ok finding.
//
// A profile's gateway environment may set TESTBACKEND_GATEWAY to make its
// pretend gateway misbehave once started, so that tests can see start and
// restart catch a gateway that does not stay up:
//
//	exit=N     it exits with N at once: failed for 78 (as s6 and systemd
//	           leave EX_CONFIG), otherwise starting (being restarted)
//	crashloop  it runs, then dies with exit 1 and comes back under a new
//	           pid with one more restart, every 50 ms
//
// TESTBACKEND_TOOL=DIR in a profile's environment makes each of its
// lifecycle calls (start, stop, restart) run a tool that hangs, through the
// SDK's tool runner as a real backend runs s6-svc or systemctl: `sleep
// 300`, until the call's context ends. Before it does, the plugin writes
// into DIR its own pid (plugin.pid) and its host's (host.pid), and the tool
// its pid (tool.pid, last), so tests can see what a killed host leaves.
package testbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Kind is the test backend's kind.
const Kind = "test"

// Version is reported by Identify.
const Version = "v0.0.0-test"

type entry struct {
	Registered bool              `json:"registered"`
	Installed  bool              `json:"installed"`
	Running    bool              `json:"running"`
	Enabled    bool              `json:"enabled"`
	Desired    string            `json:"desired"`
	Env        map[string]string `json:"env,omitempty"`
	Command    []string          `json:"command,omitempty"`
	// StopTimeoutMS is the stop timeout the profile was installed or
	// registered with, in milliseconds as on the wire (0: the default).
	StopTimeoutMS int64     `json:"stop_timeout_ms,omitempty"`
	PID           int       `json:"pid,omitempty"`
	Since         time.Time `json:"since"`
	Restarts      int       `json:"restarts"`
	// StartedNS is when start last ran, in Unix nanoseconds (Since is
	// truncated to the second), for the misbehaving gateways.
	StartedNS int64 `json:"started_ns,omitempty"`
}

// GatewayFate is the environment variable a profile's gateway environment
// sets to make its pretend gateway misbehave (see the package comment).
const GatewayFate = "TESTBACKEND_GATEWAY"

// ToolFate is the environment variable a profile's gateway environment
// sets to make its lifecycle calls run a hanging tool (see the package
// comment); ToolPIDFile, PluginPIDFile and HostPIDFile are what it writes.
const (
	ToolFate      = "TESTBACKEND_TOOL"
	ToolPIDFile   = "tool.pid"
	PluginPIDFile = "plugin.pid"
	HostPIDFile   = "host.pid"
)

// CrashPeriod is how long a crashloop gateway lives before it dies and is
// brought back.
const CrashPeriod = 50 * time.Millisecond

// Backend is the test backend.
type Backend struct {
	caps   service.Capabilities
	broken bool
	dir    string // "" keeps state in memory
	mu     sync.Mutex
	state  map[string]*entry
}

var _ service.Manager = (*Backend)(nil)

// FreshState is a conformance Setup hook: each check gets an empty state
// folder of its own, the way a real backend's hook gives it a private
// scandir or unit folder.
func FreshState(context.Context) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "hermes-testbackend-state-")
	if err != nil {
		return nil, nil, err
	}
	return []string{"HERMES_TESTBACKEND_DIR=" + dir}, func() { os.RemoveAll(dir) }, nil
}

// Factory is New as a plugin.Factory.
func Factory(hclog.Logger) (service.Manager, error) { return New(), nil }

// New returns a backend configured from the environment.
func New() *Backend {
	return &Backend{
		caps:   capsFromEnv(os.Getenv("HERMES_TESTBACKEND_CAPS")),
		broken: os.Getenv("HERMES_TESTBACKEND_BROKEN") == "1",
		dir:    os.Getenv("HERMES_TESTBACKEND_DIR"),
		state:  map[string]*entry{},
	}
}

func capsFromEnv(v string) service.Capabilities {
	if v == "" {
		return service.Capabilities{Install: true, Registration: true, Logs: true, FollowLogs: true,
			SystemScope: true, ElevatedHandoff: true}
	}
	var c service.Capabilities
	for _, f := range strings.Split(v, ",") {
		switch strings.TrimSpace(f) {
		case "install":
			c.Install = true
		case "registration":
			c.Registration = true
		case "logs":
			c.Logs = true
		case "follow":
			c.FollowLogs = true
		case "system":
			c.SystemScope = true
		case "elevated":
			c.ElevatedHandoff = true
		}
	}
	return c
}

// trigger runs the failure a special profile name asks for.
func (b *Backend) trigger(ctx context.Context, op, profile string) error {
	switch profile {
	case "hang":
		<-ctx.Done()
		return ctx.Err()
	case "panic":
		panic("test backend told to panic during " + op)
	case "crash":
		// Straight to fd 2, as the Go runtime writes a fatal error: go-plugin
		// has swapped os.Stderr for a pipe that dies with the process.
		fmt.Fprintln(os.NewFile(2, "stderr"), "test backend: crashing on purpose during", op)
		os.Exit(3)
	case "cmdfail":
		return &service.CommandFailedError{Service: "test-" + profile, Action: "test-tool " + op, ExitCode: 111, Stderr: "boom\n"}
	case "denied":
		return &service.PermissionError{Path: "/forbidden/" + profile, Operation: op, HintText: "the test backend always refuses this profile"}
	case "badopt":
		return &service.InvalidOptionError{Option: "run-as-user", Value: "nobody-here", Reason: "no such user"}
	case "plain":
		return errors.New("an untyped failure from the test backend")
	}
	return nil
}

func (b *Backend) missing(profile string) error {
	if b.caps.Registration {
		return &service.NotRegisteredError{Profile: profile, Service: "test-" + profile}
	}
	return &service.NotInstalledError{Profile: profile, Service: "test-" + profile}
}

// with runs fn under the lock on a fresh view of the state, and saves it
// when fn succeeds and a state folder is set.
func (b *Backend) with(fn func(map[string]*entry) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir != "" {
		b.state = map[string]*entry{}
		data, err := os.ReadFile(filepath.Join(b.dir, "state.json"))
		if err == nil {
			if err := json.Unmarshal(data, &b.state); err != nil {
				return fmt.Errorf("test backend state: %w", err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := fn(b.state); err != nil {
		return err
	}
	if b.dir == "" {
		return nil
	}
	data, err := json.MarshalIndent(b.state, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(b.dir, ".state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(b.dir, "state.json"))
}

// Identify reports the test kind and the configured capabilities.
func (b *Backend) Identify(context.Context) (service.Identity, error) {
	return service.Identity{Kind: Kind, Version: Version, Capabilities: b.caps}, nil
}

// Install records the profile as installed.
func (b *Backend) Install(ctx context.Context, profile string, o service.InstallOptions) error {
	if err := b.trigger(ctx, "install", profile); err != nil {
		return err
	}
	if profile == "exists" {
		return &service.AlreadyExistsError{Profile: profile, Service: "test-" + profile}
	}
	return b.with(func(s map[string]*entry) error {
		if e := s[profile]; e != nil && e.Installed && !o.Force {
			return &service.AlreadyExistsError{Profile: profile, Service: "test-" + profile}
		}
		e := &entry{Installed: true, Enabled: o.StartOnLogin, Env: o.Env, Command: o.Command,
			StopTimeoutMS: o.StopTimeout.Milliseconds(), Desired: service.DesiredStopped}
		if o.StartNow {
			start(e)
		}
		s[profile] = e
		return nil
	})
}

// Uninstall forgets an installed profile.
func (b *Backend) Uninstall(ctx context.Context, profile string) error {
	if err := b.trigger(ctx, "uninstall", profile); err != nil {
		return err
	}
	if err := hollow("install", "uninstall"); err != nil {
		return err
	}
	return b.with(func(s map[string]*entry) error {
		if e := s[profile]; e != nil && e.Installed {
			delete(s, profile)
		}
		return nil
	})
}

func start(e *entry) {
	if !e.Running {
		e.Running = true
		e.PID = 40000 + int(time.Now().UnixNano()%10000)
		e.Since = time.Now().UTC().Truncate(time.Second)
		e.StartedNS = time.Now().UnixNano()
		if os.Getenv("HERMES_TESTBACKEND_FIXED") == "1" { // for golden files
			e.PID, e.Since = 4242, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		}
	}
	e.Desired = service.DesiredRunning
}

func (b *Backend) lifecycle(ctx context.Context, op, profile string, fn func(*entry)) error {
	if err := b.trigger(ctx, op, profile); err != nil {
		return err
	}
	if err := b.runTool(ctx, profile); err != nil {
		return err
	}
	return b.with(func(s map[string]*entry) error {
		e := s[profile]
		if e == nil && b.broken {
			return nil
		}
		if e == nil {
			return b.missing(profile)
		}
		fn(e)
		return nil
	})
}

// Start marks the profile running.
func (b *Backend) Start(ctx context.Context, profile string) error {
	return b.lifecycle(ctx, "start", profile, start)
}

// Stop marks the profile stopped.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	return b.lifecycle(ctx, "stop", profile, func(e *entry) {
		e.Running, e.PID, e.Since, e.Desired = false, 0, time.Now().UTC().Truncate(time.Second), service.DesiredStopped
	})
}

// Restart marks the profile running under a new pid.
func (b *Backend) Restart(ctx context.Context, profile string) error {
	return b.lifecycle(ctx, "restart", profile, func(e *entry) {
		e.Running = false
		e.Restarts++
		start(e)
	})
}

// Status reports the recorded entry. With HERMES_TESTBACKEND_CHATTY=1 it
// also prints to stdout and logs a warning, as a careless backend might.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	if err := b.trigger(ctx, "status", profile); err != nil {
		return service.Status{}, err
	}
	if d, err := time.ParseDuration(os.Getenv("HERMES_TESTBACKEND_SLOW_STATUS")); err == nil {
		select { // the slowness is the behaviour under test
		case <-time.After(d):
		case <-ctx.Done():
			return service.Status{}, ctx.Err()
		}
	}
	if os.Getenv("HERMES_TESTBACKEND_CHATTY") == "1" {
		fmt.Println("a stray line on the plugin's stdout")
		plugin.Logger().Warn("the test backend warns", "profile", profile)
		plugin.Logger().Debug("the test backend says something only --debug shows")
	}
	var st service.Status
	err := b.with(func(s map[string]*entry) error {
		st = statusOf(profile, s[profile])
		return nil
	})
	if b.broken {
		st.Profile = "someone-else"
	}
	if v := os.Getenv("HERMES_TESTBACKEND_STATE"); v != "" {
		st.State = service.State(v)
	}
	return st, err
}

// hollow is a declared capability left unimplemented
// (HERMES_TESTBACKEND_HOLLOW): its operation answers as service.Unimplemented
// would.
func hollow(capability, op string) error {
	for _, c := range strings.Split(os.Getenv("HERMES_TESTBACKEND_HOLLOW"), ",") {
		if strings.TrimSpace(c) == capability {
			return &service.UnsupportedError{Operation: op, Backend: Kind}
		}
	}
	return nil
}

func statusOf(profile string, e *entry) service.Status {
	st := service.Status{Profile: profile, Backend: Kind, State: service.StateStopped,
		Unit: new("test-" + profile)}
	if e == nil {
		st.Detail = "not installed"
		return st
	}
	st.Installed = true
	st.Enabled = new(e.Enabled)
	st.Restarts = new(e.Restarts)
	st.DesiredState = new(e.Desired)
	st.LastExit = new(0)
	if !e.Since.IsZero() {
		st.Since = new(e.Since)
	}
	if e.Running {
		st.State = service.StateRunning
		st.PID = new(e.PID)
		misbehave(&st, e)
	}
	return st
}

// misbehave makes a running entry's status what its TESTBACKEND_GATEWAY
// asks for.
func misbehave(st *service.Status, e *entry) {
	fate := e.Env[GatewayFate]
	switch {
	case fate == "crashloop":
		n := int(time.Since(time.Unix(0, e.StartedNS)) / CrashPeriod)
		st.PID = new(e.PID + n)
		st.Restarts = new(e.Restarts + n)
		if n > 0 {
			st.LastExit = new(1)
		}
	case strings.HasPrefix(fate, "exit="):
		code, err := strconv.Atoi(strings.TrimPrefix(fate, "exit="))
		if err != nil {
			return
		}
		st.PID = nil
		st.LastExit = new(code)
		st.State = service.StateStarting
		st.Detail = fmt.Sprintf("down, wanted up (last exit %d)", code)
		if code == 78 {
			st.State = service.StateFailed
			st.Detail = "down: fatal configuration (exit 78)"
		}
	}
}

// Statuses answers from one read of the state.
func (b *Backend) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	for _, p := range profiles {
		if err := b.trigger(ctx, "statuses", p); err != nil {
			return nil, err
		}
	}
	var out []service.Status
	err := b.with(func(s map[string]*entry) error {
		if len(profiles) == 0 {
			for p := range s {
				profiles = append(profiles, p)
			}
			sort.Strings(profiles)
		}
		out = make([]service.Status, len(profiles))
		for i, p := range profiles {
			out[i] = statusOf(p, s[p])
		}
		return nil
	})
	return out, err
}

// Register records the profile as registered.
func (b *Backend) Register(ctx context.Context, profile string, o service.RegisterOptions) error {
	if err := b.trigger(ctx, "register", profile); err != nil {
		return err
	}
	if profile == "exists" {
		return &service.AlreadyExistsError{Profile: profile, Service: "test-" + profile}
	}
	return b.with(func(s map[string]*entry) error {
		old := s[profile]
		if old != nil && !o.Force {
			return &service.AlreadyExistsError{Profile: profile, Service: "test-" + profile,
				HintText: "change its settings with hermes -p " + profile + " gateway register --force"}
		}
		e := &entry{Registered: true, Env: o.Env, Command: o.Command, StopTimeoutMS: o.StopTimeout.Milliseconds(),
			Desired: service.DesiredStopped}
		if old != nil { // --force keeps what runs running
			e.Running, e.Desired, e.PID, e.Since = old.Running, old.Desired, old.PID, old.Since
		}
		if o.StartNow {
			start(e)
		}
		s[profile] = e
		return nil
	})
}

// Unregister forgets a registered profile; a missing one is a no-op.
func (b *Backend) Unregister(ctx context.Context, profile string) error {
	if err := b.trigger(ctx, "unregister", profile); err != nil {
		return err
	}
	if err := hollow("registration", "unregister"); err != nil {
		return err
	}
	return b.with(func(s map[string]*entry) error {
		delete(s, profile)
		return nil
	})
}

// Reconcile registers every entry, replacing what exists.
func (b *Backend) Reconcile(ctx context.Context, entries []service.Registration) error {
	for _, e := range entries {
		if err := b.trigger(ctx, "reconcile", e.Profile); err != nil {
			return err
		}
	}
	return b.with(func(s map[string]*entry) error {
		for _, e := range entries {
			n := &entry{Registered: true, Env: e.Env, Command: e.Command, StopTimeoutMS: e.StopTimeout.Milliseconds(),
				Desired: service.DesiredStopped}
			if e.StartNow {
				start(n)
			}
			s[e.Profile] = n
		}
		return nil
	})
}

// Options is what the profile was installed or registered with, for tests
// that check what a command passed; ok is false for an unknown profile.
func (b *Backend) Options(profile string) (command []string, env map[string]string, ok bool) {
	_ = b.with(func(s map[string]*entry) error {
		if e := s[profile]; e != nil {
			command, env, ok = e.Command, e.Env, true
		}
		return nil
	})
	return command, env, ok
}

// StopTimeout is the stop timeout the profile was installed or registered
// with (0: none chosen, or an unknown profile).
func (b *Backend) StopTimeout(profile string) time.Duration {
	var d time.Duration
	_ = b.with(func(s map[string]*entry) error {
		if e := s[profile]; e != nil {
			d = time.Duration(e.StopTimeoutMS) * time.Millisecond
		}
		return nil
	})
	return d
}

// List returns the registered profiles.
func (b *Backend) List(ctx context.Context) ([]string, error) {
	out := []string{}
	if b.broken {
		out = append(out, "ghost")
	}
	err := b.with(func(s map[string]*entry) error {
		for p, e := range s {
			if e.Registered {
				out = append(out, p)
			}
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// Logs sends numbered lines; with Follow, a new one every 10 ms.
func (b *Backend) Logs(ctx context.Context, profile string, o service.LogOptions, emit func(service.LogLine) error) error {
	if err := b.trigger(ctx, "logs", profile); err != nil {
		return err
	}
	if err := hollow("logs", "logs"); err != nil {
		return err
	}
	if o.Follow {
		if err := hollow("follow", "logs --follow"); err != nil {
			return err
		}
	}
	if err := b.with(func(s map[string]*entry) error {
		if s[profile] == nil {
			return b.missing(profile)
		}
		return nil
	}); err != nil {
		return err
	}
	const total = 100
	n := o.Lines
	if n <= 0 || n > total {
		n = min(total, 50)
		if o.Lines > total {
			n = total
		}
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := total - n + 1; i <= total; i++ {
		if err := emit(service.LogLine{Time: base.Add(time.Duration(i) * time.Second), Text: fmt.Sprintf("%s line %d", profile, i)}); err != nil {
			return err
		}
	}
	if !o.Follow {
		return nil
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := total + 1; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			if err := emit(service.LogLine{Time: now, Text: fmt.Sprintf("%s line %d", profile, i)}); err != nil {
				return err
			}
		}
	}
}

// Diagnose reports the options it was given as an ok finding, runs the
// failure triggers on the profiles asked about, and, with
// HERMES_TESTBACKEND_DIAGNOSE=fail, finds a problem and a warning.
func (b *Backend) Diagnose(ctx context.Context, o service.DiagnoseOptions) ([]service.Finding, error) {
	for _, p := range o.Profiles {
		if err := b.trigger(ctx, "diagnose", p); err != nil {
			return nil, err
		}
	}
	out := []service.Finding{{Check: "test backend", Severity: service.SeverityOK,
		Detail: fmt.Sprintf("home %s, hermes %s, profiles %v", o.Home, o.Hermes, o.Profiles)}}
	if os.Getenv("HERMES_TESTBACKEND_DIAGNOSE") == "fail" {
		out = append(out,
			service.Finding{Check: "test tool", Severity: service.SeverityError,
				Detail: "missing on purpose", Fix: "unset HERMES_TESTBACKEND_DIAGNOSE"},
			service.Finding{Check: "test tool version", Severity: service.SeverityWarning,
				Detail: "old on purpose", Fix: "nothing to do: it still works"})
	}
	return out, nil
}

// runTool runs the hanging tool of a profile whose environment sets
// ToolFate: through backend.Base.RunTool, so it starts as every backend's
// tools do (on Linux, killed by the kernel when the plugin dies).
func (b *Backend) runTool(ctx context.Context, profile string) error {
	var dir string
	if err := b.with(func(s map[string]*entry) error {
		if e := s[profile]; e != nil {
			dir = e.Env[ToolFate]
		}
		return nil
	}); err != nil || dir == "" {
		return err
	}
	for name, pid := range map[string]int{PluginPIDFile: os.Getpid(), HostPIDFile: os.Getppid()} {
		if err := writePID(filepath.Join(dir, name), pid); err != nil {
			return err
		}
	}
	tools := backend.NewBaseFor(backend.Identity{Kind: Kind}, "", plugin.Logger())
	// The tool writes its pid as writePID does (a whole file or none),
	// then becomes sleep under that pid.
	script := `echo $$ > "$1/.` + ToolPIDFile + `" && mv "$1/.` + ToolPIDFile + `" "$1/` + ToolPIDFile + `" && exec sleep 300`
	_, err := tools.RunTool(ctx, backend.Tool{Path: "/bin/sh", Args: []string{"-c", script, "sh", dir}, Service: "test-" + profile,
		Action: "the test backend's hanging tool"})
	return err
}

// writePID writes pid to path whole: a reader never sees half of it.
func writePID(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

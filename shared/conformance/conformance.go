package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Config says which plugin to check and how to give it a world of its own.
type Config struct {
	// Binary is the plugin executable.
	Binary string
	// Env is extra environment for every launch.
	Env []string
	// Setup, when set, prepares a fresh, empty environment for one check and
	// returns the variables that point the plugin at it, and a cleanup.
	Setup func(ctx context.Context) (env []string, cleanup func(), err error)
	// Checksum, when set, is the SHA-256 the binary must have.
	Checksum []byte
	// Logger receives the plugin's log; default: silent.
	Logger hclog.Logger
	// Timeout bounds each check; default 30 s.
	Timeout time.Duration
	// StatusBudget bounds every Status call; default DefaultStatusBudget.
	StatusBudget time.Duration
	// Lifecycle, when set, opts into the lifecycle tier (CheckLifecycle):
	// a real supervisor, the author's, driven through the whole life of a
	// gateway.
	Lifecycle *Lifecycle
}

func (c Config) statusBudget() time.Duration {
	if c.StatusBudget > 0 {
		return c.StatusBudget
	}
	return DefaultStatusBudget
}

// Result is one check's outcome.
type Result struct {
	Name string
	// Err is nil when the check passed.
	Err error
	// Skipped, when not empty, says why the check did not apply.
	Skipped string
	Elapsed time.Duration
}

// Passed reports whether the check passed or did not apply.
func (r Result) Passed() bool { return r.Err == nil }

type skip string

func (s skip) Error() string { return string(s) }

// session is one launched plugin under check.
type session struct {
	client *plugin.Client
	id     service.Identity
	cfg    Config
}

type check struct {
	name string
	run  func(ctx context.Context, s *session) error
}

var checks = []check{
	{"handshake and identity", checkIdentity},
	{"invalid profile names are refused", checkInvalidNames},
	{"a missing profile is not found", checkMissing},
	{"unsupported operations say so", checkUnsupported},
	{"declared capabilities are implemented", checkDeclared},
	{"list is empty on an empty backend", checkEmptyList},
	{"status comes back complete", checkStatus},
	{"removing a missing profile is a no-op", checkRemoveMissing},
	{"16 concurrent calls", checkConcurrent},
	{"a cancelled call returns promptly", checkCancel},
	{"status answers within its budget", checkStatusBudget},
}

// Check runs every check against cfg.Binary and returns their results in
// order. It never fails as a whole: each result says what it found.
func Check(ctx context.Context, cfg Config) []Result {
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		out = append(out, runOne(ctx, cfg, c))
	}
	return out
}

// CheckOne runs the one check called name (one of Checks), so that a test
// framework can give each check a test of its own. An unknown name is a
// failed result, not a panic.
func CheckOne(ctx context.Context, cfg Config, name string) Result {
	for _, c := range checks {
		if c.name == name {
			return runOne(ctx, cfg, c)
		}
	}
	return Result{Name: name, Err: fmt.Errorf("no conformance check is called %q; see conformance.Checks", name)}
}

// Checks lists the names of the checks, in the order they run.
func Checks() []string {
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

func runOne(ctx context.Context, cfg Config, c check) (r Result) {
	r.Name = c.name
	start := time.Now()
	defer func() { r.Elapsed = time.Since(start) }()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	env := append([]string(nil), cfg.Env...)
	if cfg.Setup != nil {
		extra, cleanup, err := cfg.Setup(ctx)
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			r.Err = fmt.Errorf("setup: %w", err)
			return r
		}
		env = append(env, extra...)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	client, err := plugin.Launch(ctx, plugin.LaunchConfig{
		Path: cfg.Binary, Env: env, Logger: logger, Checksum: cfg.Checksum,
	})
	if err != nil {
		r.Err = err
		return r
	}
	defer client.Close()
	id, err := client.Identify(ctx)
	if err != nil {
		r.Err = fmt.Errorf("identify: %w", err)
		return r
	}
	err = c.run(ctx, &session{client: client, id: id, cfg: cfg})
	var s skip
	if errors.As(err, &s) {
		r.Skipped = string(s)
		return r
	}
	r.Err = err
	return r
}

func checkIdentity(ctx context.Context, s *session) error {
	var errs []error
	if s.client.Protocol() != plugin.ProtocolVersion {
		errs = append(errs, fmt.Errorf("negotiated protocol %d, want %d", s.client.Protocol(), plugin.ProtocolVersion))
	}
	if err := service.ValidateProfile(s.id.Kind); err != nil {
		errs = append(errs, fmt.Errorf("kind %q is not a valid backend name: it must follow the profile-name rules", s.id.Kind))
	}
	if s.id.Version == "" {
		errs = append(errs, errors.New("identify returned no version"))
	}
	if kind, ok := plugin.KindFromFileName(filepath.Base(s.client.Path()), runtime.GOOS); ok && kind != s.id.Kind {
		errs = append(errs, fmt.Errorf("the binary is named for kind %q but identifies as %q", kind, s.id.Kind))
	}
	pid := s.client.Pid()
	if pid <= 0 {
		errs = append(errs, errors.New("no plugin process after the handshake"))
	}
	s.client.Close()
	if !s.client.Exited() {
		errs = append(errs, fmt.Errorf("plugin process %d still running after Close", pid))
	}
	return errors.Join(errs...)
}

// profileOps are every operation that takes a profile, called with name.
func profileOps(m service.Manager) map[string]func(ctx context.Context, name string) error {
	return map[string]func(ctx context.Context, name string) error{
		"install": func(ctx context.Context, n string) error {
			return m.Install(ctx, n, service.InstallOptions{Command: []string{"/bin/false"}})
		},
		"uninstall": m.Uninstall,
		"start":     m.Start,
		"stop":      m.Stop,
		"restart":   m.Restart,
		"status": func(ctx context.Context, n string) error {
			_, err := m.Status(ctx, n)
			return err
		},
		"statuses": func(ctx context.Context, n string) error {
			_, err := m.Statuses(ctx, []string{MissingProfile, n})
			return err
		},
		"register": func(ctx context.Context, n string) error {
			return m.Register(ctx, n, service.RegisterOptions{Command: []string{"/bin/false"}})
		},
		"unregister": m.Unregister,
		"reconcile": func(ctx context.Context, n string) error {
			return m.Reconcile(ctx, []service.Registration{{Profile: n}})
		},
		"logs": func(ctx context.Context, n string) error {
			return m.Logs(ctx, n, service.LogOptions{Lines: 1}, func(service.LogLine) error { return nil })
		},
	}
}

func checkInvalidNames(ctx context.Context, s *session) error {
	var errs []error
	for op, call := range profileOps(s.client) {
		for _, name := range InvalidProfileNames {
			err := call(ctx, name)
			var invalid *service.InvalidProfileError
			switch {
			case err == nil:
				errs = append(errs, fmt.Errorf("%s(%q) succeeded, want an invalid profile name error", op, name))
			case !errors.As(err, &invalid):
				errs = append(errs, fmt.Errorf("%s(%q): got %T %v, want *service.InvalidProfileError", op, name, err, err))
			case invalid.Name != name || invalid.Reason == "":
				errs = append(errs, fmt.Errorf("%s(%q): the error names %q with reason %q", op, name, invalid.Name, invalid.Reason))
			}
		}
	}
	return errors.Join(errs...)
}

func checkMissing(ctx context.Context, s *session) error {
	var errs []error
	m := s.client
	for op, call := range map[string]func(context.Context, string) error{"start": m.Start, "stop": m.Stop, "restart": m.Restart} {
		err := call(ctx, MissingProfile)
		var notReg *service.NotRegisteredError
		var notInst *service.NotInstalledError
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("%s of a missing profile succeeded", op))
		case errors.As(err, &notReg):
			if notReg.Profile != MissingProfile {
				errs = append(errs, fmt.Errorf("%s: the not-registered error names profile %q", op, notReg.Profile))
			}
		case errors.As(err, &notInst):
			if notInst.Profile != MissingProfile {
				errs = append(errs, fmt.Errorf("%s: the not-installed error names profile %q", op, notInst.Profile))
			}
		default:
			errs = append(errs, fmt.Errorf("%s of a missing profile: got %T %v, want a not-registered or not-installed error", op, err, err))
		}
		if err != nil && !errors.Is(err, service.ErrNotFound) {
			errs = append(errs, fmt.Errorf("%s: errors.Is(err, service.ErrNotFound) is false", op))
		}
	}
	return errors.Join(errs...)
}

func checkUnsupported(ctx context.Context, s *session) error {
	m, caps := s.client, s.id.Capabilities
	type probe struct {
		name string
		call func() error
	}
	var probes []probe
	if !caps.Install {
		probes = append(probes,
			probe{"install", func() error {
				return m.Install(ctx, MissingProfile, service.InstallOptions{Command: []string{"/bin/false"}})
			}},
			probe{"uninstall", func() error { return m.Uninstall(ctx, MissingProfile) }})
	} else if !caps.SystemScope {
		probes = append(probes, probe{"system-scope install", func() error {
			return m.Install(ctx, MissingProfile, service.InstallOptions{System: true, Command: []string{"/bin/false"}})
		}})
	}
	if !caps.Registration {
		probes = append(probes,
			probe{"register", func() error {
				return m.Register(ctx, MissingProfile, service.RegisterOptions{Command: []string{"/bin/false"}})
			}},
			probe{"unregister", func() error { return m.Unregister(ctx, MissingProfile) }},
			probe{"reconcile", func() error { return m.Reconcile(ctx, []service.Registration{{Profile: MissingProfile}}) }})
	}
	if !caps.Logs {
		probes = append(probes, probe{"logs", func() error {
			return m.Logs(ctx, MissingProfile, service.LogOptions{}, func(service.LogLine) error { return nil })
		}})
	} else if !caps.FollowLogs {
		probes = append(probes, probe{"logs --follow", func() error {
			fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			return m.Logs(fctx, MissingProfile, service.LogOptions{Follow: true}, func(service.LogLine) error { return nil })
		}})
	}
	if len(probes) == 0 {
		return skip("the backend declares every optional capability")
	}
	var errs []error
	for _, p := range probes {
		err := p.call()
		var u *service.UnsupportedError
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("%s succeeded although the backend does not declare it", p.name))
		case !errors.As(err, &u):
			errs = append(errs, fmt.Errorf("%s: got %T %v, want *service.UnsupportedError", p.name, err, err))
		case u.Backend != s.id.Kind || u.Operation == "":
			errs = append(errs, fmt.Errorf("%s: the unsupported error names operation %q of backend %q", p.name, u.Operation, u.Backend))
		case !errors.Is(err, service.ErrUnsupported):
			errs = append(errs, fmt.Errorf("%s: errors.Is(err, service.ErrUnsupported) is false", p.name))
		}
	}
	return errors.Join(errs...)
}

func checkEmptyList(ctx context.Context, s *session) error {
	got, err := s.client.List(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if got == nil || len(got) != 0 {
		return fmt.Errorf("list on an empty backend returned %#v, want an empty list", got)
	}
	return nil
}

// statusKeys are the JSON keys every status has, on every backend.
var statusKeys = []string{"profile", "backend", "installed", "state", "pid", "since", "last_exit",
	"restarts", "enabled", "desired_state", "unit", "detail"}

func completeStatus(st service.Status, profile, kind string) error {
	var errs []error
	if st.Profile != profile {
		errs = append(errs, fmt.Errorf("status names profile %q, want %q", st.Profile, profile))
	}
	if st.Backend != kind {
		errs = append(errs, fmt.Errorf("status names backend %q, want %q", st.Backend, kind))
	}
	if !st.State.Valid() {
		errs = append(errs, fmt.Errorf("status state %q is not one of running, stopped, starting, failed, unknown", st.State))
	}
	if st.Installed {
		errs = append(errs, fmt.Errorf("a missing profile reports installed"))
	}
	if st.State == service.StateRunning || st.PID != nil {
		errs = append(errs, fmt.Errorf("a missing profile reports state %q pid %v", st.State, st.PID))
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("status JSON: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("status JSON: %w", err)
	}
	for _, k := range statusKeys {
		if _, ok := keys[k]; !ok {
			errs = append(errs, fmt.Errorf("status JSON lacks key %q", k))
		}
	}
	return errors.Join(errs...)
}

func checkStatus(ctx context.Context, s *session) error {
	st, err := s.client.Status(ctx, MissingProfile)
	if err != nil {
		return fmt.Errorf("status of a missing profile: %w (want a status with installed false)", err)
	}
	errs := []error{completeStatus(st, MissingProfile, s.id.Kind)}
	other := MissingProfile + "-2"
	sts, err := s.client.Statuses(ctx, []string{MissingProfile, other})
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("statuses: %w", err))
	case len(sts) != 2:
		errs = append(errs, fmt.Errorf("statuses of 2 profiles returned %d", len(sts)))
	default:
		errs = append(errs, completeStatus(sts[0], MissingProfile, s.id.Kind), completeStatus(sts[1], other, s.id.Kind))
	}
	all, err := s.client.Statuses(ctx, nil)
	if err != nil {
		errs = append(errs, fmt.Errorf("statuses of all profiles: %w", err))
	} else if len(all) != 0 {
		errs = append(errs, fmt.Errorf("statuses of all profiles on an empty backend returned %d", len(all)))
	}
	return errors.Join(errs...)
}

func checkRemoveMissing(ctx context.Context, s *session) error {
	var errs []error
	ran := false
	if s.id.Capabilities.Install {
		ran = true
		if err := s.client.Uninstall(ctx, MissingProfile); err != nil {
			errs = append(errs, fmt.Errorf("uninstall of a missing profile: %w", err))
		}
	}
	if s.id.Capabilities.Registration {
		ran = true
		if err := s.client.Unregister(ctx, MissingProfile); err != nil {
			errs = append(errs, fmt.Errorf("unregister of a missing profile: %w", err))
		}
	}
	if !ran {
		return skip("the backend neither installs nor registers")
	}
	return errors.Join(errs...)
}

func checkConcurrent(ctx context.Context, s *session) error {
	const n = 16
	m := s.client
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				id, err := m.Identify(ctx)
				if err == nil && id.Kind != s.id.Kind {
					err = fmt.Errorf("identify returned kind %q, then %q", s.id.Kind, id.Kind)
				}
				errs[i] = err
			case 1:
				st, err := m.Status(ctx, MissingProfile)
				if err == nil {
					err = completeStatus(st, MissingProfile, s.id.Kind)
				}
				errs[i] = err
			case 2:
				_, errs[i] = m.List(ctx)
			case 3:
				if err := m.Start(ctx, MissingProfile); !errors.Is(err, service.ErrNotFound) {
					errs[i] = fmt.Errorf("start of a missing profile: got %v, want not found", err)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func checkCancel(ctx context.Context, s *session) error {
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	_, err := s.client.Status(cctx, MissingProfile)
	took := time.Since(start)
	var errs []error
	if !errors.Is(err, context.Canceled) {
		errs = append(errs, fmt.Errorf("status with a cancelled context: got %v, want context.Canceled", err))
	}
	if took > 2*time.Second {
		errs = append(errs, fmt.Errorf("status with a cancelled context took %s", took))
	}
	// The plugin must still answer afterwards.
	if _, err := s.client.Identify(ctx); err != nil {
		errs = append(errs, fmt.Errorf("identify after a cancelled call: %w", err))
	}
	return errors.Join(errs...)
}

// checkDeclared calls, on the missing profile, each optional operation the
// backend declares and that changes nothing there: none may answer
// "unsupported" (a capability declared but left to service.Unimplemented).
func checkDeclared(ctx context.Context, s *session) error {
	m, caps := s.client, s.id.Capabilities
	var probes []struct {
		name string
		call func() error
	}
	add := func(on bool, name string, call func() error) {
		if on {
			probes = append(probes, struct {
				name string
				call func() error
			}{name, call})
		}
	}
	add(caps.Install, "install (uninstall of a missing profile)", func() error { return m.Uninstall(ctx, MissingProfile) })
	add(caps.Registration, "registration (unregister of a missing profile)", func() error { return m.Unregister(ctx, MissingProfile) })
	add(caps.Logs, "logs", func() error {
		return m.Logs(ctx, MissingProfile, service.LogOptions{Lines: 1}, func(service.LogLine) error { return nil })
	})
	add(caps.FollowLogs, "follow-logs", func() error {
		fctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		return m.Logs(fctx, MissingProfile, service.LogOptions{Lines: 1, Follow: true}, func(service.LogLine) error { return nil })
	})
	if len(probes) == 0 {
		return skip("the backend declares no optional capability")
	}
	var errs []error
	for _, p := range probes {
		if err := p.call(); errors.Is(err, service.ErrUnsupported) {
			errs = append(errs, fmt.Errorf("the backend declares %s, but it answers: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// checkStatusBudget times a status: the host asks for one on every status,
// start and stop, and polls it while it waits.
func checkStatusBudget(ctx context.Context, s *session) error {
	budget := s.cfg.statusBudget()
	start := time.Now()
	_, err := s.client.Status(ctx, MissingProfile)
	if took := time.Since(start); took > budget {
		return fmt.Errorf("status took %s, over the budget of %s", took.Round(time.Millisecond), budget)
	}
	return err
}

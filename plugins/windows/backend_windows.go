//go:build windows

package windows

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/hashicorp/go-hclog"
	win "golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/nousresearch/hermes-service/internal/logtail"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Config is what the backend works with.
type Config struct {
	backend.Settings
	// ServiceExe is the binary the service runs in service mode: this
	// plugin's own, unless a test says otherwise.
	ServiceExe string
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv(log hclog.Logger) (Config, error) {
	set, err := backend.SettingsFromEnv(log)
	if err != nil {
		return Config{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return Config{}, err
	}
	return Config{Settings: set, ServiceExe: exe}, nil
}

// Backend keeps profile gateways as Windows services.
type Backend struct {
	backend.Base
	cfg Config
}

// New returns the backend for cfg.
func New(cfg Config) *Backend { return &Backend{Base: cfg.Base(identity), cfg: cfg} }

// FromEnv is the plugin's factory: the backend configured from the
// environment the host passes.
var FromEnv = backend.FromConfig(ConfigFromEnv, New)

// scmError turns an SCM failure into the contract's errors: access denied
// is a permission error with the way out, a missing service not-installed,
// anything else command-failed with the Win32 code and its text.
func scmError(profile, action string, err error) error {
	var errno win.Errno
	if !errors.As(err, &errno) {
		return &service.CommandFailedError{Service: ServiceName(profile), Action: action, ExitCode: -1, Stderr: err.Error()}
	}
	switch errno {
	case win.ERROR_ACCESS_DENIED:
		return &service.PermissionError{Operation: action + " " + ServiceName(profile),
			HintText: "open an elevated prompt (Run as administrator) and run the command again, or add --elevated-handoff"}
	case win.ERROR_SERVICE_DOES_NOT_EXIST:
		return &service.NotInstalledError{Profile: profile, Service: ServiceName(profile)}
	case win.ERROR_SERVICE_EXISTS:
		return &service.AlreadyExistsError{Profile: profile, Service: ServiceName(profile),
			HintText: "uninstall it first (" + gateway.CommandHint(profile, "uninstall") + "), or install with --force"}
	}
	return &service.CommandFailedError{Service: ServiceName(profile), Action: action, ExitCode: int(errno), Stderr: errno.Error(),
		HintText: "see the Windows event log (source " + ServiceName(profile) + ") and " + filepath.Join("<profile home>", "logs", "gateway.log")}
}

func (b *Backend) connect(profile, action string) (*mgr.Mgr, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, scmError(profile, action, err)
	}
	return m, nil
}

func (b *Backend) open(profile, action string) (*mgr.Mgr, *mgr.Service, error) {
	m, err := b.connect(profile, action)
	if err != nil {
		return nil, nil, err
	}
	s, err := m.OpenService(ServiceName(profile))
	if err != nil {
		m.Disconnect()
		return nil, nil, scmError(profile, action, err)
	}
	return m, s, nil
}

// logFile is where the service wrapper appends the gateway's output.
func logFile(dir string) string { return filepath.Join(dir, "logs", "gateway.log") }

// waitFor polls the service until it reaches want (bounded).
func waitFor(ctx context.Context, s *mgr.Service, want svc.State, timeout time.Duration) error {
	return wait.Poll{What: fmt.Sprintf("SCM state %d", want), Timeout: timeout, Interval: 100 * time.Millisecond}.
		Until(ctx, func() (bool, error) {
			st, err := s.Query()
			return err == nil && st.State == want, err
		})
}

const waitTimeout = 30 * time.Second

// waitRunning waits for a service just started to run. One that stops
// instead (its service process refused to run the gateway: a fatal
// configuration) fails at once, with the exit code it reported, rather
// than after the whole wait.
func waitRunning(ctx context.Context, profile string, s *mgr.Service) error {
	var q svc.Status
	err := wait.Poll{What: "the service running", Timeout: waitTimeout, Interval: 100 * time.Millisecond}.
		Until(ctx, func() (bool, error) {
			var err error
			q, err = s.Query()
			return err == nil && (q.State == svc.Running || q.State == svc.Stopped), err
		})
	if err != nil {
		return scmError(profile, "start", err)
	}
	if q.State == svc.Stopped {
		code := int(q.Win32ExitCode)
		if q.Win32ExitCode == uint32(win.ERROR_SERVICE_SPECIFIC_ERROR) {
			code = int(q.ServiceSpecificExitCode)
		}
		return &service.CommandFailedError{Service: ServiceName(profile), Action: "start", ExitCode: code,
			Stderr:   fmt.Sprintf("the service stopped as it started (exit %d)", code),
			HintText: "see the Windows event log (source " + ServiceName(profile) + ") and " + filepath.Join("<profile home>", "logs", "gateway.log")}
	}
	return nil
}

// eventLog writes to the Windows event log under the service's source,
// best effort.
func (b *Backend) eventLog(profile string, failure bool, msg string) {
	l, err := eventlog.Open(ServiceName(profile))
	if err != nil {
		return
	}
	defer l.Close()
	if failure {
		_ = l.Error(1, msg)
	} else {
		_ = l.Info(1, msg)
	}
}

// Install creates the service; see the package doc for how it runs.
func (b *Backend) Install(ctx context.Context, profile string, opts service.InstallOptions) (err error) {
	dir, err := b.InstallDir(profile, opts)
	if err != nil {
		return err
	}
	spec := Spec{Profile: profile, Home: b.cfg.Home, Command: opts.Command, Env: opts.Env,
		StopTimeout: gateway.StopBudgetOf(opts.StopTimeout), StartAtBoot: opts.StartOnLogin}
	if err := spec.Check(b.cfg.ServiceExe); err != nil {
		return err // before the SCM or the event log is asked anything: nothing half made
	}
	defer func() {
		if err != nil {
			b.eventLog(profile, true, "install failed: "+err.Error())
		}
	}()
	m, err := b.connect(profile, "install")
	if err != nil {
		return err
	}
	defer m.Disconnect()
	name := ServiceName(profile)
	if old, err := m.OpenService(name); err == nil {
		if !opts.Force {
			old.Close()
			return scmError(profile, "install", win.ERROR_SERVICE_EXISTS)
		}
		if err := b.remove(ctx, profile, old); err != nil {
			return err
		}
		if err := waitGone(ctx, m, name); err != nil {
			return scmError(profile, "delete the old service", err)
		}
	}
	kind, delayed := startType(opts.StartOnLogin)
	// The environment goes to its own file before the service exists, so
	// the service never starts without it; a failed creation takes it back.
	if err := writeEnvFile(dir, spec.Env); err != nil {
		return fmt.Errorf("keep the gateway's environment for the service: %w", err)
	}
	// Description and delayed start are set apart from the creation: Wine's
	// SCM refuses some config levels, and a refusal must not leave a half
	// made service.
	s, err := m.CreateService(name, b.cfg.ServiceExe, mgr.Config{DisplayName: DisplayName(profile), StartType: kind,
		ErrorControl: mgr.ErrorNormal}, spec.ServiceArgs()...)
	if err != nil {
		_ = removeEnvFile(dir)
		return scmError(profile, "create", err)
	}
	defer s.Close()
	setDescription(s, Description)
	if delayed {
		if err := setDelayedStart(s); err != nil {
			b.Log().Warn("delayed automatic start not set; the service starts automatically without the delay", "error", err)
		}
	}
	if err := s.SetRecoveryActions([]mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
	}, 24*60*60); err != nil {
		b.Log().Warn("recovery actions not set", "error", err)
	}
	_ = eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info)
	_ = os.MkdirAll(filepath.Dir(logFile(dir)), 0o755)
	b.eventLog(profile, false, "installed by hermes")
	if opts.StartNow {
		if err := startService(ctx, s); err != nil {
			return scmError(profile, "start", err)
		}
		if err := waitRunning(ctx, profile, s); err != nil {
			return err
		}
		_ = b.RecordDesired(profile, service.DesiredRunning)
	}
	return nil
}

// startService starts s, riding out a service database that is briefly
// locked (Wine's SCM locks it right after a service's creation; Windows'
// while another configuration change is in flight).
func startService(ctx context.Context, s *mgr.Service) error {
	var err error
	werr := wait.Poll{What: "an unlocked service database", Timeout: 60 * time.Second, Interval: 200 * time.Millisecond}.
		Until(ctx, func() (bool, error) {
			err = s.Start()
			return !errors.Is(err, win.ERROR_SERVICE_DATABASE_LOCKED), nil
		})
	if werr != nil && !errors.Is(werr, wait.ErrTimeout) {
		return werr
	}
	return err
}

func setDescription(s *mgr.Service, text string) {
	p, err := win.UTF16PtrFromString(text)
	if err != nil {
		return
	}
	d := win.SERVICE_DESCRIPTION{Description: p}
	_ = win.ChangeServiceConfig2(s.Handle, win.SERVICE_CONFIG_DESCRIPTION, (*byte)(unsafe.Pointer(&d)))
}

func setDelayedStart(s *mgr.Service) error {
	info := win.SERVICE_DELAYED_AUTO_START_INFO{IsDelayedAutoStartUp: 1}
	return win.ChangeServiceConfig2(s.Handle, win.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (*byte)(unsafe.Pointer(&info)))
}

// waitGone waits until the SCM has really deleted a service (it marks it
// for deletion while handles are open).
func waitGone(ctx context.Context, m *mgr.Mgr, name string) error {
	return wait.Poll{What: "the deletion of service " + name, Timeout: waitTimeout, Interval: 100 * time.Millisecond}.
		Until(ctx, func() (bool, error) {
			s, err := m.OpenService(name)
			if err != nil {
				return true, nil
			}
			s.Close()
			return false, nil
		})
}

// remove stops (waiting) and deletes s, then closes it.
func (b *Backend) remove(ctx context.Context, profile string, s *mgr.Service) error {
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		b.markRunner(profile)
		if _, err := s.Control(svc.Stop); err == nil {
			_ = waitFor(ctx, s, svc.Stopped, waitTimeout)
		}
	}
	if err := s.Delete(); err != nil {
		return scmError(profile, "delete", err)
	}
	return nil
}

// Uninstall stops and deletes the service; a missing one is a no-op.
func (b *Backend) Uninstall(ctx context.Context, profile string) error {
	m, s, err := b.open(profile, "uninstall")
	if errors.Is(err, service.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer m.Disconnect()
	if err := b.remove(ctx, profile, s); err != nil {
		return err
	}
	if err := waitGone(ctx, m, ServiceName(profile)); err != nil {
		return scmError(profile, "delete", err)
	}
	_ = eventlog.Remove(ServiceName(profile))
	if dir, err := b.ProfileDir(profile); err == nil {
		if err := removeEnvFile(dir); err != nil {
			b.Log().Warn("the service is gone but its environment file stays", "file", filepath.Join(dir, EnvFile), "error", err)
		}
	}
	return nil
}

// markRunner writes the planned-stop marker for the profile's runner (the
// service wrapper marks it too, on the SCM's Stop), best effort.
func (b *Backend) markRunner(profile string) {
	if pid := b.runnerPID(profile); pid > 0 {
		b.MarkPlannedStop(profile, pid)
	}
}

// runnerPID is the profile's runner from its pid record, 0 when none runs.
func (b *Backend) runnerPID(profile string) int {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return 0
	}
	if rec, _ := gateway.Runner.ReadPIDRecord(dir); rec != nil {
		return rec.PID
	}
	return 0
}

// Start starts the service and waits for Running. The start type goes
// back to the operator's choice first (automatic when installed to start
// at boot), which an operator's stop had made manual.
func (b *Backend) Start(ctx context.Context, profile string) error {
	m, s, err := b.open(profile, "start")
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	if err := persistStartType(s, false); err != nil {
		return scmError(profile, "start", err)
	}
	if err := startService(ctx, s); err != nil && !errors.Is(err, win.ERROR_SERVICE_ALREADY_RUNNING) {
		return scmError(profile, "start", err)
	}
	if err := waitRunning(ctx, profile, s); err != nil {
		return err
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	return nil
}

// Stop marks the stop as planned and stops the service, waiting for it.
// The service is made manual first, so the stop holds across a reboot
// (Windows starts automatic services at boot whatever the gateway's
// recorded intent); Start makes it automatic again.
func (b *Backend) Stop(ctx context.Context, profile string) error {
	m, s, err := b.open(profile, "stop")
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	return b.OperatorStop(profile, b.runnerPID(profile), func() error {
		if err := persistStartType(s, true); err != nil {
			return scmError(profile, "stop", err)
		}
		if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, win.ERROR_SERVICE_NOT_ACTIVE) {
			_ = persistStartType(s, false)
			return scmError(profile, "stop", err)
		}
		if err := waitFor(ctx, s, svc.Stopped, stopBudget(s)+stopMargin); err != nil {
			return scmError(profile, "stop", err)
		}
		return nil
	})
}

// stopMargin is how long Stop waits for Stopped past the service's stop
// budget, after which the wrapper has ended the runner: time for it to
// report.
const stopMargin = 30 * time.Second

// stopBudget is the stop budget in the service's command line (the
// wrapper's --stop-timeout); gateway.StopBudget when it cannot be read.
func stopBudget(s *mgr.Service) time.Duration {
	spec, err := serviceSpec(s)
	if err != nil {
		return gateway.StopBudget
	}
	return spec.StopTimeout
}

// serviceSpec reads the Spec back from the service's command line.
func serviceSpec(s *mgr.Service) (Spec, error) {
	cfg, err := queryConfig(s)
	if err != nil {
		return Spec{}, err
	}
	line := win.UTF16PtrToString(cfg.BinaryPathName)
	args, err := win.DecomposeCommandLine(line)
	if err != nil || len(args) < 2 || args[1] != ServiceModeName {
		return Spec{}, fmt.Errorf("the service's command line is not hermes's service mode: %s", line)
	}
	return ParseServiceArgs(args[2:])
}

// persistStartType sets the start type that keeps the operator's intent
// across a reboot (PersistedStartType) when it is not already set: stopped
// for an operator's stop, else a start. A command line hermes cannot read
// (not its service mode) is left as it is.
func persistStartType(s *mgr.Service, stopped bool) error {
	spec, err := serviceSpec(s)
	if err != nil {
		return nil
	}
	want := PersistedStartType(spec.StartAtBoot, stopped)
	if cur, err := queryStartType(s); err == nil && cur == want {
		return nil
	}
	return setStartType(s.Handle, want)
}

// setStartType changes the start type alone (mgr.Service.UpdateConfig
// would also set config levels Wine's SCM refuses).
func setStartType(h win.Handle, kind uint32) error {
	return win.ChangeServiceConfig(h, win.SERVICE_NO_CHANGE, kind, win.SERVICE_NO_CHANGE, nil, nil, nil, nil, nil, nil, nil)
}

// Restart stops the service (a planned stop) and starts it again.
func (b *Backend) Restart(ctx context.Context, profile string) error {
	if err := b.Stop(ctx, profile); err != nil {
		return err
	}
	return b.Start(ctx, profile)
}

// Status asks the SCM.
func (b *Backend) Status(ctx context.Context, profile string) (service.Status, error) {
	st := b.BaseStatus(profile, ServiceName(profile))
	st.Detail = "not installed"
	m, s, err := b.open(profile, "status")
	if errors.Is(err, service.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	defer m.Disconnect()
	defer s.Close()
	st.Installed = true
	q, err := s.Query()
	if err != nil {
		st.State, st.Detail = service.StateUnknown, err.Error()
		return st, nil
	}
	st.Detail = "the Service Control Manager says: " + stateWords(q.State)
	switch q.State {
	case svc.Running, svc.StopPending:
		// The service process is hermes's wrapper; the pid that matters is
		// the gateway's, proven from its own files.
		st.State = service.StateRunning
		if pid := b.gatewayPID(profile); pid > 0 {
			st.PID = new(pid)
			st.Detail += fmt.Sprintf("; gateway PID %d under the service process (PID %d)", pid, q.ProcessId)
		} else if q.State == svc.Running {
			st.State = service.StateStarting
			st.Detail += fmt.Sprintf("; the service process (PID %d) runs, its gateway has not claimed the profile yet", q.ProcessId)
		}
	case svc.StartPending, svc.ContinuePending:
		st.State = service.StateStarting
	case svc.Stopped:
		st.State = service.StateStopped
		code := int(q.Win32ExitCode)
		if q.Win32ExitCode == uint32(win.ERROR_SERVICE_SPECIFIC_ERROR) {
			code = int(q.ServiceSpecificExitCode)
		}
		st.LastExit = new(code)
		if code == gateway.ExitConfig {
			st.State = service.StateFailed
		}
	default:
		st.State = service.StateStopped
	}
	if kind, err := queryStartType(s); err == nil {
		st.Enabled = new(kind == startAutomatic)
	}
	return st, nil
}

// stateWords is an SCM state as services.msc names it.
func stateWords(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "start pending"
	case svc.StopPending:
		return "stop pending"
	case svc.Running:
		return "running"
	case svc.ContinuePending:
		return "continue pending"
	case svc.PausePending:
		return "pause pending"
	case svc.Paused:
		return "paused"
	}
	return fmt.Sprintf("state %d (unknown)", s)
}

// gatewayPID is the profile's gateway as its own files prove it (a
// hermes-protocol gateway's gateway.pid, else a plain runner's record), 0
// when none does.
func (b *Backend) gatewayPID(profile string) int {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return 0
	}
	for _, c := range []gateway.Claim{gateway.Upstream, gateway.Runner} {
		if rec, err := c.Prove(dir); err == nil {
			return rec.PID
		}
	}
	return 0
}

// queryConfig reads the service's configuration with QueryServiceConfig
// alone: mgr.Service.Config also asks for levels Wine's SCM refuses.
func queryConfig(s *mgr.Service) (*win.QUERY_SERVICE_CONFIG, error) {
	var needed uint32
	buf := make([]byte, 1024)
	for {
		cfg := (*win.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
		err := win.QueryServiceConfig(s.Handle, cfg, uint32(len(buf)), &needed)
		if err == nil {
			return cfg, nil
		}
		if !errors.Is(err, win.ERROR_INSUFFICIENT_BUFFER) || needed <= uint32(len(buf)) {
			return nil, err
		}
		buf = make([]byte, needed)
	}
}

// queryStartType reads the start type.
func queryStartType(s *mgr.Service) (uint32, error) {
	cfg, err := queryConfig(s)
	if err != nil {
		return 0, err
	}
	return cfg.StartType, nil
}

// Statuses is Status for each profile asked about; none asked means every
// hermes-gateway service the SCM knows.
func (b *Backend) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	if len(profiles) == 0 {
		m, err := b.connect(service.DefaultProfile, "list services")
		if err != nil {
			return nil, err
		}
		names, err := m.ListServices()
		m.Disconnect()
		if err != nil {
			return nil, scmError(service.DefaultProfile, "list services", err)
		}
		for _, n := range names {
			if p, ok := serviceNames.Profile(n); ok {
				profiles = append(profiles, p)
			}
		}
	}
	return service.EachStatus(ctx, b.Status, profiles)
}

// Logs tails the gateway's log file under the profile home.
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return err
	}
	if _, err := os.Stat(logFile(dir)); err != nil {
		m, s, err := b.open(profile, "logs")
		if err != nil {
			return err
		}
		s.Close()
		m.Disconnect()
	}
	return logtail.File(ctx, logFile(dir), backend.LogLines(opts.Lines), opts.Follow, logtail.Plain, emit)
}

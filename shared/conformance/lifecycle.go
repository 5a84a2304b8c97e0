package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Lifecycle configures the lifecycle tier (Config.Lifecycle): opt-in,
// because it needs the backend's real supervisor, which the author's Hook
// starts privately. The tier installs (or registers) a profile per protocol
// running the kit's witness gateway under hermes's real runner, and drives
// it as an operator and a machine would: restart, stop, start, a restart of
// the supervisor itself, uninstall; each step checks what the contract
// promises (see LifecycleChecks and docs/backend-guide.md).
type Lifecycle struct {
	// Hook starts, restarts and tears down the private supervisor.
	Hook Hook
	// Hermes is the hermes binary (an absolute path): every service the
	// tier installs runs its `gateway run`, with the witness gateway
	// (`hermes gateway conformance-gateway`) as the program.
	Hermes string
	// Settle is how long a change (a start, a stop, a supervisor restart)
	// may take to show; default DefaultSettle.
	Settle time.Duration
}

// DefaultStatusBudget is how long a Status call may take. The host asks for
// a status on every `hermes gateway status`, `start` and `stop` (and polls
// it while it waits), and the whole `hermes gateway status` aims at tens
// of milliseconds: a second is a backend doing something wrong.
const DefaultStatusBudget = time.Second

// DefaultSettle is how long a change may take to show in Status.
const DefaultSettle = 30 * time.Second

// The profiles the lifecycle tier runs, one per protocol, and one for the
// capabilities that need another install (system scope, elevated handoff).
const (
	HermesProfile = "conformance-hermes"
	PlainProfile  = "conformance-plain"
	scopeProfile  = "conformance-scope"
)

// The lifecycle tier's checks, in the order they run.
const (
	lcSetup     = "lifecycle: the supervisor comes up and the plugin answers"
	lcInstall   = "lifecycle: install or register runs the gateway, under both protocols"
	lcLogs      = "lifecycle: logs return what the gateway printed"
	lcRestart   = "lifecycle: restart is a planned stop, then a start"
	lcStop      = "lifecycle: stop records stopped, is planned, and the gateway is down"
	lcStart     = "lifecycle: start brings a stopped gateway back"
	lcReboot    = "lifecycle: after a supervisor restart, stopped stays down and running comes back"
	lcCaps      = "lifecycle: every declared capability works"
	lcRemove    = "lifecycle: uninstall or unregister removes the gateway"
	lcStates    = "lifecycle: every status state is valid and truthful"
	lcLatency   = "lifecycle: status answers within its budget"
	lcTeardown  = "lifecycle: the supervisor tears down, nothing left running"
	notRunYet   = "not run: "
	stopTimeout = gateway.MinStopBudget
)

// LifecycleChecks lists the lifecycle tier's checks, in the order they run.
func LifecycleChecks() []string {
	return []string{lcSetup, lcInstall, lcLogs, lcRestart, lcStop, lcStart, lcReboot, lcCaps, lcRemove,
		lcStates, lcLatency, lcTeardown}
}

// CheckLifecycle runs the lifecycle tier against cfg.Binary with
// cfg.Lifecycle's supervisor, and returns one result per check of
// LifecycleChecks, in order. Its steps build on each other (a stop needs a
// running gateway), so it runs as one sequence: a step that cannot run
// because an earlier one failed says so. The hook's Teardown runs at the
// end whatever happened.
func CheckLifecycle(ctx context.Context, cfg Config) []Result {
	r := &lifeRun{cfg: cfg, results: map[string]*Result{}}
	if cfg.Lifecycle == nil {
		return r.failAll(errors.New("no lifecycle configuration: set Config.Lifecycle (a Hook and the hermes binary)"))
	}
	r.lc = *cfg.Lifecycle
	if r.lc.Settle <= 0 {
		r.lc.Settle = DefaultSettle
	}
	if r.logger = cfg.Logger; r.logger == nil {
		r.logger = hclog.NewNullLogger()
	}
	switch {
	case r.lc.Hook.check() != nil:
		return r.failAll(r.lc.Hook.check())
	case !filepath.IsAbs(r.lc.Hermes):
		return r.failAll(fmt.Errorf("the hermes binary %q must be an absolute path: services run it at boot, with no PATH", r.lc.Hermes))
	}
	dir, err := os.MkdirTemp("", "hermes-lifecycle-")
	if err != nil {
		return r.failAll(err)
	}
	defer os.RemoveAll(dir)
	r.dir = dir

	steps := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{lcSetup, r.setup}, {lcInstall, r.install}, {lcLogs, r.logs}, {lcRestart, r.restart}, {lcStop, r.stop},
		{lcStart, r.start}, {lcReboot, r.reboot}, {lcCaps, r.capabilities}, {lcRemove, r.remove},
	}
	var broken string // the first failed step every later one needs
	for _, s := range steps {
		res := &Result{Name: s.name}
		r.results[s.name] = res
		if broken != "" {
			res.Err = errors.New(notRunYet + "\"" + broken + "\" failed")
			continue
		}
		start := time.Now()
		err := s.run(ctx)
		res.Elapsed = time.Since(start)
		var sk skip
		if errors.As(err, &sk) {
			res.Skipped = string(sk)
			continue
		}
		res.Err = err
		// Logs and capabilities leave the gateways as they found them; any
		// other step's failure leaves them in no state the next one knows.
		if err != nil && s.name != lcLogs && s.name != lcCaps {
			broken = s.name
		}
	}
	r.results[lcStates] = &Result{Name: lcStates, Err: errors.Join(r.stateErrs...)}
	lat := &Result{Name: lcLatency}
	if budget := cfg.statusBudget(); r.slowest > budget {
		lat.Err = fmt.Errorf("%s took %s, over the budget of %s: Status runs on every hermes gateway status, start and stop", r.slowestCall,
			r.slowest.Round(time.Millisecond), budget)
	}
	r.results[lcLatency] = lat
	start := time.Now()
	r.results[lcTeardown] = &Result{Name: lcTeardown, Err: r.teardown(ctx), Elapsed: time.Since(start)}
	out := make([]Result, 0, len(r.results))
	for _, name := range LifecycleChecks() {
		out = append(out, *r.results[name])
	}
	return out
}

// lifeRun is one run of the lifecycle tier.
type lifeRun struct {
	cfg      Config
	lc       Lifecycle
	logger   hclog.Logger
	results  map[string]*Result
	dir      string   // the tier's scratch folder
	home     string   // the Hermes home the plugin serves
	env      []string // the plugin's environment
	setUp    bool     // the hook's Setup ran
	id       service.Identity
	profiles []*lifeProfile

	mu          sync.Mutex
	stateErrs   []error
	slowest     time.Duration
	slowestCall string
	pids        []int // every gateway pid seen, for teardown's check
}

// lifeProfile is one profile the tier runs.
type lifeProfile struct {
	name, protocol string
	dir            string
	say            string
	command        []string
	pid            int // the supervised pid while it runs
}

func (r *lifeRun) failAll(err error) []Result {
	out := make([]Result, 0, len(LifecycleChecks()))
	for _, name := range LifecycleChecks() {
		out = append(out, Result{Name: name, Err: err})
	}
	return out
}

// client launches the plugin as the host does for each command: a step
// is one or more commands of an operator's.
func (r *lifeRun) client(ctx context.Context) (*plugin.Client, error) {
	c, err := plugin.Launch(ctx, plugin.LaunchConfig{Path: r.cfg.Binary, Env: r.env, Logger: r.logger, Checksum: r.cfg.Checksum})
	if err != nil {
		return nil, fmt.Errorf("launch the plugin: %w", err)
	}
	return c, nil
}

// with runs fn against a freshly launched plugin.
func (r *lifeRun) with(ctx context.Context, fn func(m *plugin.Client) error) error {
	m, err := r.client(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(m)
}

func (r *lifeRun) setup(ctx context.Context) error {
	r.home = filepath.Join(r.dir, "home")
	sup := filepath.Join(r.dir, "supervisor")
	for _, d := range []string{r.home, sup} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	token := make([]byte, 4)
	_, _ = rand.Read(token)
	for _, p := range []struct{ name, protocol string }{{HermesProfile, gateway.ProtocolHermes}, {PlainProfile, gateway.ProtocolPlain}} {
		lp, err := r.profile(p.name, p.protocol, hex.EncodeToString(token))
		if err != nil {
			return err
		}
		r.profiles = append(r.profiles, lp)
	}
	r.setUp = true
	extra, err := r.lc.Hook.Setup(ctx, sup)
	if err != nil {
		return fmt.Errorf("the hook's setup: %w", err)
	}
	r.env = slices.Concat(r.cfg.Env, []string{gateway.EnvPair(gateway.EnvHome, r.home)}, extra)
	return r.with(ctx, func(m *plugin.Client) error {
		id, err := m.Identify(ctx)
		if err != nil {
			return fmt.Errorf("identify: %w", err)
		}
		r.id = id
		if !id.Capabilities.Install && !id.Capabilities.Registration {
			return errors.New("the backend declares neither install nor registration: nothing can run a gateway under it")
		}
		return nil
	})
}

// profile makes a profile's folder in the home and its runner line: the
// runner under protocol, the witness as its program.
func (r *lifeRun) profile(name, protocol, token string) (*lifeProfile, error) {
	dir, err := gateway.Home{Root: r.home}.ProfileDir(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &lifeProfile{name: name, protocol: protocol, dir: dir, say: name + "-" + token}
	witness := []string{r.lc.Hermes, gateway.CommandGateway, WitnessCommand, "--say", p.say}
	var flags []string
	if protocol == gateway.ProtocolPlain {
		witness = append(witness, "--plain")
		flags = []string{gateway.FlagStopTimeout, gateway.DurationText(gateway.DrainWithin(stopTimeout))}
	} else {
		witness = append(witness, gateway.FlagProfile, name)
	}
	flags = append(flags, gateway.FlagProtocol, protocol, gateway.ProgramSeparator)
	p.command = gateway.RunnerArgv(r.lc.Hermes, name, append(flags, witness...)...)
	return p, nil
}

func (r *lifeRun) canInstall() bool { return r.id.Capabilities.Install }

func (r *lifeRun) install(ctx context.Context) error {
	return r.with(ctx, func(m *plugin.Client) error {
		for _, p := range r.profiles {
			var err error
			if r.canInstall() {
				err = m.Install(ctx, p.name, service.InstallOptions{Command: p.command, StartNow: true, StartOnLogin: true,
					StopTimeout: stopTimeout})
			} else {
				err = m.Register(ctx, p.name, service.RegisterOptions{Command: p.command, StartNow: true, StopTimeout: stopTimeout})
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", r.installVerb(), p.name, err)
			}
		}
		var errs []error
		for _, p := range r.profiles {
			if err := r.waitRunning(ctx, m, p, 0); err != nil {
				errs = append(errs, err)
			}
		}
		if r.id.Capabilities.Registration {
			errs = append(errs, r.listed(ctx, m, true))
		}
		return errors.Join(errs...)
	})
}

func (r *lifeRun) installVerb() string {
	if r.canInstall() {
		return "install"
	}
	return "register"
}

// listed checks that List names the tier's profiles (want) or none of them.
func (r *lifeRun) listed(ctx context.Context, m *plugin.Client, want bool) error {
	names, err := m.List(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, p := range r.profiles {
		if slices.Contains(names, p.name) != want {
			return fmt.Errorf("list returned %q: want %s %s in it", names, p.name, map[bool]string{true: "", false: "not"}[want])
		}
	}
	return nil
}

// claim is the pair of files by which the process the service runs claims
// the profile: the witness itself under hermes, the runner under plain.
func (p *lifeProfile) claim() gateway.Claim {
	if p.protocol == gateway.ProtocolPlain {
		return gateway.Runner
	}
	return gateway.Upstream
}

// waitRunning waits until status says p runs under a pid other than not,
// and that pid is the process holding the profile's claim: the supervised
// pid must be the one a planned-stop marker names.
func (r *lifeRun) waitRunning(ctx context.Context, m *plugin.Client, p *lifeProfile, not int) error {
	var why string
	_, err := r.waitFor(ctx, m, p, "running under a new pid holding the profile's lock", func(st service.Status) bool {
		if st.State != service.StateRunning || st.PID == nil || *st.PID == not {
			why = fmt.Sprintf("status says %s, pid %s", st.State, pidText(st.PID))
			return false
		}
		rec, _ := p.claim().ReadPIDRecord(p.dir)
		if !p.claim().Locked(p.dir) || rec == nil {
			why = fmt.Sprintf("status says running, pid %d, but nothing holds %s yet", *st.PID, p.claim().LockFile)
			return false
		}
		if rec.PID != *st.PID {
			why = fmt.Sprintf("status says pid %d, but the gateway's %s names pid %d: the service must exec the runner "+
				"(and run nothing between), so that the pid the supervisor signals is the one a planned-stop marker names",
				*st.PID, p.claim().PIDFile, rec.PID)
			return false
		}
		return true
	}, &why)
	if err != nil {
		return err
	}
	st, _ := r.observe(ctx, m, p)
	if st.PID != nil {
		p.pid = *st.PID
		r.mu.Lock()
		r.pids = append(r.pids, p.pid)
		r.mu.Unlock()
	}
	return nil
}

// waitFor polls p's status until ok says so, for up to Settle.
func (r *lifeRun) waitFor(ctx context.Context, m *plugin.Client, p *lifeProfile, what string, ok func(service.Status) bool, why *string) (service.Status, error) {
	var st service.Status
	err := wait.Poll{What: p.name + " " + what, Timeout: r.lc.Settle, Interval: 100 * time.Millisecond}.Until(ctx, func() (bool, error) {
		var err error
		if st, err = r.observe(ctx, m, p); err != nil {
			return false, fmt.Errorf("%s: status: %w", p.name, err)
		}
		return ok(st), nil
	})
	if errors.Is(err, wait.ErrTimeout) {
		return st, fmt.Errorf("%s: not %s after %s: %s", p.name, what, r.lc.Settle, *why)
	}
	return st, err
}

// eventually reports whether cond holds within Settle.
func (r *lifeRun) eventually(ctx context.Context, what string, cond func() bool) bool {
	return wait.For(ctx, what, r.lc.Settle, cond) == nil
}

func pidText(pid *int) string {
	if pid == nil {
		return "none"
	}
	return fmt.Sprint(*pid)
}

// observe asks for p's status, times the call, and judges the answer: a
// state of the contract's, the profile and backend named, and the truth
// about the process (a running gateway's pid runs; a stopped one's does
// not). A claim that looks false is asked again once, so a process that
// ended between the answer and the look does not count.
func (r *lifeRun) observe(ctx context.Context, m *plugin.Client, p *lifeProfile) (service.Status, error) {
	st, err := r.timedStatus(ctx, m, p.name)
	if err != nil {
		return st, err
	}
	if problem := r.judge(st, p); problem != "" {
		again, err := r.timedStatus(ctx, m, p.name)
		if err != nil {
			return again, err
		}
		if problem := r.judge(again, p); problem != "" {
			r.mu.Lock()
			r.stateErrs = append(r.stateErrs, fmt.Errorf("%s: %s", p.name, problem))
			r.mu.Unlock()
		}
		st = again
	}
	return st, nil
}

func (r *lifeRun) timedStatus(ctx context.Context, m *plugin.Client, profile string) (service.Status, error) {
	start := time.Now()
	st, err := m.Status(ctx, profile)
	r.noteLatency("status of "+profile, time.Since(start))
	return st, err
}

func (r *lifeRun) noteLatency(call string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took > r.slowest {
		r.slowest, r.slowestCall = took, call
	}
}

// judge says what is wrong with st, "" when nothing.
func (r *lifeRun) judge(st service.Status, p *lifeProfile) string {
	switch {
	case !st.State.Valid():
		return fmt.Sprintf("state %q is not one of running, stopped, starting, failed, unknown", st.State)
	case st.Profile != p.name:
		return fmt.Sprintf("the status names profile %q", st.Profile)
	case st.Backend != r.id.Kind:
		return fmt.Sprintf("the status names backend %q, want %q", st.Backend, r.id.Kind)
	case st.State == service.StateRunning && st.PID == nil:
		return "state running with no pid"
	case st.State == service.StateRunning && !gateway.Alive(*st.PID):
		return fmt.Sprintf("state running with pid %d, which does not run", *st.PID)
	case st.State == service.StateRunning && !st.Installed:
		return "state running, yet not installed"
	case st.State == service.StateStopped && st.PID != nil && gateway.Alive(*st.PID):
		return fmt.Sprintf("state stopped, yet pid %d runs", *st.PID)
	case st.DesiredState != nil && *st.DesiredState != service.DesiredRunning && *st.DesiredState != service.DesiredStopped:
		return fmt.Sprintf("desired state %q is neither running nor stopped", *st.DesiredState)
	}
	return ""
}

func (r *lifeRun) logs(ctx context.Context) error {
	if !r.id.Capabilities.Logs {
		return skip("the backend does not declare logs")
	}
	return r.with(ctx, func(m *plugin.Client) error {
		var errs []error
		for _, p := range r.profiles {
			want := SaidLine(p.say)
			var last []string
			found := false
			// The supervisor's logger writes when it writes: poll.
			err := wait.Poll{What: "the gateway's line in its logs", Timeout: r.lc.Settle, Interval: 200 * time.Millisecond}.Until(ctx, func() (bool, error) {
				last = last[:0]
				err := m.Logs(ctx, p.name, service.LogOptions{Lines: 200}, func(l service.LogLine) error {
					last = append(last, l.Text)
					found = found || strings.Contains(l.Text, want)
					return nil
				})
				return found, err
			})
			if err != nil && !errors.Is(err, wait.ErrTimeout) {
				errs = append(errs, fmt.Errorf("logs of %s: %w", p.name, err))
				continue
			}
			if !found {
				errs = append(errs, fmt.Errorf("logs of %s: no line holds %q, what the gateway printed; the last lines: %q", p.name, want, tail(last, 5)))
				continue
			}
			if r.id.Capabilities.FollowLogs {
				errs = append(errs, r.follow(ctx, m, p, want))
			}
		}
		return errors.Join(errs...)
	})
}

// follow checks that Logs with Follow sends what is there, then ends
// without an error once its context is done.
func (r *lifeRun) follow(ctx context.Context, m *plugin.Client, p *lifeProfile, want string) error {
	fctx, cancel := context.WithTimeout(ctx, r.lc.Settle)
	defer cancel()
	found := false
	err := m.Logs(fctx, p.name, service.LogOptions{Lines: 200, Follow: true}, func(l service.LogLine) error {
		if strings.Contains(l.Text, want) && !found {
			found = true
			cancel()
		}
		return nil
	})
	switch {
	case !found:
		return fmt.Errorf("logs --follow of %s: no line holds %q within %s (err %v)", p.name, want, r.lc.Settle, err)
	case err != nil && !errors.Is(err, context.Canceled):
		return fmt.Errorf("logs --follow of %s ended with %w once its context was done, want no error", p.name, err)
	}
	return nil
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// desired is the intent gateway_state.json records for p.
func (p *lifeProfile) desired() string {
	st, _ := gateway.ReadState(p.dir)
	return st.DesiredState()
}

func (p *lifeProfile) gatewayState() string {
	st, _ := gateway.ReadState(p.dir)
	return st.GatewayState()
}

// stopOf is the witness's record of how it took pid's stop: "planned",
// "outside", or "" when it recorded none (plain: it cannot know).
func (p *lifeProfile) stopOf(pid int) string {
	evs, _ := events(p.dir)
	for _, e := range evs {
		if strings.HasPrefix(e, fmt.Sprintf("stop pid=%d ", pid)) {
			if strings.HasSuffix(e, "planned=true") {
				return "planned"
			}
			return "outside"
		}
	}
	return ""
}

func (p *lifeProfile) starts() int {
	evs, _ := events(p.dir)
	n := 0
	for _, e := range evs {
		if strings.HasPrefix(e, "start ") {
			n++
		}
	}
	return n
}

// leftMarker is the error for a planned-stop marker nobody consumed: it
// named a process that never got the stop.
func (p *lifeProfile) leftMarker(stopped int) error {
	data, err := gateway.ReadFile(p.dir, gateway.PlannedStopFile)
	if err != nil {
		return nil
	}
	return fmt.Errorf("%s: the planned-stop marker is still there after the stop of pid %d (%s): it must name the process the "+
		"supervisor signals (the supervised pid), which consumes it", p.name, stopped, strings.TrimSpace(string(data)))
}

// waitGone waits until pid has exited.
func (r *lifeRun) waitGone(ctx context.Context, pid int) bool {
	return r.eventually(ctx, "the gateway's exit", func() bool { return !gateway.Alive(pid) })
}

func (r *lifeRun) restart(ctx context.Context) error {
	return r.with(ctx, func(m *plugin.Client) error {
		var errs []error
		for _, p := range r.profiles {
			old := p.pid
			if err := m.Restart(ctx, p.name); err != nil {
				errs = append(errs, fmt.Errorf("restart %s: %w", p.name, err))
				continue
			}
			if err := r.waitRunning(ctx, m, p, old); err != nil {
				errs = append(errs, err)
				continue
			}
			if !r.waitGone(ctx, old) {
				errs = append(errs, fmt.Errorf("%s: the old gateway, pid %d, still runs after the restart", p.name, old))
			}
			if !r.eventually(ctx, "desired running", func() bool { return p.desired() == service.DesiredRunning }) {
				errs = append(errs, fmt.Errorf("%s: desired_state is %q after a restart, want %q: a restart never records an intent to stay stopped",
					p.name, p.desired(), service.DesiredRunning))
			}
			if p.protocol == gateway.ProtocolHermes && p.stopOf(old) != "planned" {
				errs = append(errs, fmt.Errorf("%s: the gateway (pid %d) took the restart's stop as one from outside: a restart is a "+
					"planned stop, so write the planned-stop marker naming the supervised pid before the signal, as Stop does "+
					"(backend.Base.OperatorRestart)", p.name, old))
			}
			errs = append(errs, p.leftMarker(old))
		}
		return errors.Join(errs...)
	})
}

// stopOne is an operator's stop of p, checked.
func (r *lifeRun) stopOne(ctx context.Context, m *plugin.Client, p *lifeProfile) error {
	old := p.pid
	if err := m.Stop(ctx, p.name); err != nil {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	why := ""
	st, err := r.waitFor(ctx, m, p, "stopped", func(st service.Status) bool {
		why = fmt.Sprintf("status says %s, pid %s", st.State, pidText(st.PID))
		return st.State == service.StateStopped
	}, &why)
	if err != nil {
		return err
	}
	var errs []error
	if !r.waitGone(ctx, old) {
		errs = append(errs, fmt.Errorf("%s: status says stopped, but the gateway, pid %d, still runs", p.name, old))
	}
	if d := p.desired(); d != service.DesiredStopped {
		errs = append(errs, fmt.Errorf("%s: desired_state is %q after stop, want %q: record the intent before the signal "+
			"(backend.Base.OperatorStop), so the next boot keeps it down", p.name, d, service.DesiredStopped))
	}
	if st.DesiredState != nil && *st.DesiredState != service.DesiredStopped {
		errs = append(errs, fmt.Errorf("%s: the status's desired_state is %q after stop", p.name, *st.DesiredState))
	}
	if g := p.gatewayState(); g != gateway.GatewayStopped {
		errs = append(errs, fmt.Errorf("%s: the gateway (pid %d) took the operator's stop as one from outside (gateway_state %q, want %q): "+
			"write the planned-stop marker naming the supervised pid before the signal (backend.Base.OperatorStop)", p.name, old, g, gateway.GatewayStopped))
	} else if p.protocol == gateway.ProtocolHermes && p.stopOf(old) != "planned" {
		errs = append(errs, fmt.Errorf("%s: the gateway (pid %d) recorded no planned stop", p.name, old))
	}
	errs = append(errs, p.leftMarker(old))
	p.pid = 0
	return errors.Join(errs...)
}

func (r *lifeRun) stop(ctx context.Context) error {
	return r.with(ctx, func(m *plugin.Client) error {
		var errs []error
		for _, p := range r.profiles {
			errs = append(errs, r.stopOne(ctx, m, p))
		}
		return errors.Join(errs...)
	})
}

// The supervisor restart runs with the hermes profile started again and the
// plain one stopped: the running one must come back, the stopped one stay
// down.
func (r *lifeRun) start(ctx context.Context) error {
	p := r.profiles[0]
	return r.with(ctx, func(m *plugin.Client) error {
		if err := m.Start(ctx, p.name); err != nil {
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		if err := r.waitRunning(ctx, m, p, 0); err != nil {
			return err
		}
		if d := p.desired(); d != service.DesiredRunning {
			return fmt.Errorf("%s: desired_state is %q after start, want %q", p.name, d, service.DesiredRunning)
		}
		return nil
	})
}

func (r *lifeRun) reboot(ctx context.Context) error {
	running, stopped := r.profiles[0], r.profiles[1]
	old, starts := running.pid, stopped.starts()
	if err := r.lc.Hook.Restart(ctx); err != nil {
		return fmt.Errorf("the hook's restart: %w", err)
	}
	if !r.waitGone(ctx, old) {
		return fmt.Errorf("%s: the gateway, pid %d, outlived the supervisor's restart: the hook must restart the supervisor and "+
			"what it runs, as a reboot does", running.name, old)
	}
	return r.with(ctx, func(m *plugin.Client) error {
		if !r.canInstall() {
			// A registration's supervisor forgets its services with the
			// machine (s6's /run/service): a boot reconciles them, starting
			// what the recorded intent wants.
			var entries []service.Registration
			for _, p := range r.profiles {
				entries = append(entries, service.Registration{Profile: p.name, RegisterOptions: service.RegisterOptions{
					Command: p.command, StopTimeout: stopTimeout, StartNow: p.desired() != service.DesiredStopped}})
			}
			if err := m.Reconcile(ctx, entries); err != nil {
				return fmt.Errorf("reconcile after the restart: %w", err)
			}
		}
		var errs []error
		if err := r.waitRunning(ctx, m, running, old); err != nil {
			errs = append(errs, fmt.Errorf("%w: a gateway wanted running must come back after a reboot", err))
		}
		if running.stopOf(old) == "planned" {
			errs = append(errs, fmt.Errorf("%s: the gateway (pid %d) took the supervisor's restart for an operator's stop: "+
				"a shutdown or reboot must not write the planned-stop marker", running.name, old))
		}
		if d := running.desired(); d != service.DesiredRunning {
			errs = append(errs, fmt.Errorf("%s: desired_state is %q after the supervisor's restart, want %q", running.name, d, service.DesiredRunning))
		}
		// The running one is back, so the supervisor has gone through its
		// services: the stopped one must still be down, and stay so.
		// Watched for a while, not once: a start may be on its way.
		var st service.Status
		err := wait.Poll{What: "a start of the stopped gateway", Timeout: 2 * time.Second, Interval: 200 * time.Millisecond}.Until(ctx, func() (bool, error) {
			var err error
			if st, err = r.observe(ctx, m, stopped); err != nil {
				return false, fmt.Errorf("%s: status: %w", stopped.name, err)
			}
			return st.State == service.StateRunning || stopped.claim().Locked(stopped.dir) || stopped.starts() != starts, nil
		})
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("%s: the operator stopped it, yet it runs again after the supervisor's restart (status %s, pid %s): "+
				"an operator's stop must outlast a reboot (a down file, a disabled unit)", stopped.name, st.State, pidText(st.PID)))
		case !errors.Is(err, wait.ErrTimeout):
			errs = append(errs, err)
		}
		if d := stopped.desired(); d != service.DesiredStopped {
			errs = append(errs, fmt.Errorf("%s: desired_state is %q after the supervisor's restart, want %q", stopped.name, d, service.DesiredStopped))
		}
		return errors.Join(errs...)
	})
}

// capabilities exercises what the earlier steps did not: the bulk status,
// Diagnose, and the install options a backend declares (system scope,
// elevated handoff) on a profile of their own.
func (r *lifeRun) capabilities(ctx context.Context) error {
	caps := r.id.Capabilities
	return r.with(ctx, func(m *plugin.Client) error {
		var errs []error
		names := []string{r.profiles[0].name, r.profiles[1].name}
		start := time.Now()
		sts, err := m.Statuses(ctx, names)
		r.noteLatency("statuses", time.Since(start))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("statuses: %w", err))
		case len(sts) != len(names):
			errs = append(errs, fmt.Errorf("statuses of %d profiles returned %d", len(names), len(sts)))
		default:
			for i, st := range sts {
				if problem := r.judge(st, r.profiles[i]); problem != "" {
					errs = append(errs, fmt.Errorf("statuses, %s: %s", names[i], problem))
				}
			}
		}
		if _, err := m.Diagnose(ctx, service.DiagnoseOptions{Home: r.home, Hermes: r.lc.Hermes}); err != nil {
			errs = append(errs, fmt.Errorf("diagnose: %w", err))
		}
		if caps.Install && (caps.SystemScope || caps.ElevatedHandoff) {
			errs = append(errs, r.scoped(ctx, m))
		}
		return errors.Join(errs...)
	})
}

// scoped installs a third profile with the declared install options, sees
// it run, and removes it.
func (r *lifeRun) scoped(ctx context.Context, m *plugin.Client) error {
	caps := r.id.Capabilities
	p, err := r.profile(scopeProfile, gateway.ProtocolHermes, "scope")
	if err != nil {
		return err
	}
	opts := service.InstallOptions{Command: p.command, StartNow: true, StopTimeout: stopTimeout,
		System: caps.SystemScope, ElevatedHandoff: caps.ElevatedHandoff}
	if caps.SystemScope {
		if u, err := user.Current(); err == nil {
			opts.RunAsUser = u.Username
		}
	}
	if err := m.Install(ctx, p.name, opts); err != nil {
		return fmt.Errorf("install %s (system %t, elevated handoff %t): %w", p.name, opts.System, opts.ElevatedHandoff, err)
	}
	errs := []error{r.waitRunning(ctx, m, p, 0)}
	if err := m.Uninstall(ctx, p.name); err != nil {
		errs = append(errs, fmt.Errorf("uninstall %s: %w", p.name, err))
	}
	return errors.Join(errs...)
}

func (r *lifeRun) remove(ctx context.Context) error {
	return r.with(ctx, func(m *plugin.Client) error {
		var errs []error
		for _, p := range r.profiles {
			var err error
			if r.canInstall() {
				err = m.Uninstall(ctx, p.name)
			} else {
				err = m.Unregister(ctx, p.name)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", map[bool]string{true: "uninstall", false: "unregister"}[r.canInstall()], p.name, err))
				continue
			}
			why := ""
			if _, err := r.waitFor(ctx, m, p, "removed", func(st service.Status) bool {
				why = fmt.Sprintf("status says installed %t, %s", st.Installed, st.State)
				return !st.Installed && st.State != service.StateRunning
			}, &why); err != nil {
				errs = append(errs, err)
			}
			if p.pid > 0 && !r.waitGone(ctx, p.pid) {
				errs = append(errs, fmt.Errorf("%s: its gateway, pid %d, still runs after it was removed", p.name, p.pid))
			}
		}
		if r.id.Capabilities.Registration {
			errs = append(errs, r.listed(ctx, m, false))
		}
		return errors.Join(errs...)
	})
}

func (r *lifeRun) teardown(ctx context.Context) error {
	if !r.setUp {
		return errors.New(notRunYet + "the supervisor never came up")
	}
	if err := r.lc.Hook.Teardown(ctx); err != nil {
		return fmt.Errorf("the hook's teardown: %w", err)
	}
	var errs []error
	for _, pid := range r.pids {
		if !r.waitGone(ctx, pid) {
			errs = append(errs, fmt.Errorf("gateway pid %d still runs after the teardown", pid))
		}
	}
	return errors.Join(errs...)
}

// Package runner is `hermes gateway run`: what every service definition
// executes. Under the hermes protocol the gateway program keeps upstream's
// protocol itself: the runner sets up its environment and replaces itself
// with it (exec), or, where the service manager needs the gateway's exit
// translated (launchd), stays as its parent and relays signals, handing an
// operator's stop on as a marker naming the gateway (relay.go). Under the
// plain protocol it supervises a program that knows nothing of the
// protocol and keeps it for it: it takes the runner's lock, keeps the pid
// record, and classifies a stop: an operator's (SIGINT, or SIGTERM with
// the planned-stop marker naming the runner) records the intent
// "stopped"; a stop from outside (SIGTERM without it: a container
// restart, a bare kill) keeps "running", so the gateway comes back with
// the machine. Its protocol (exit codes, argv, environment names) lives in
// shared/gateway; it knows no backend by name: a service definition tells
// it what it needs as a flag.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// DefaultStopTimeout is how long the gateway may take to exit after it was
// asked to stop, before it is killed: upstream's drain.
const DefaultStopTimeout = gateway.Drain

// replaceWait bounds how long --replace waits for the old runner after
// SIGTERM before it sends SIGKILL.
const replaceWait = 10 * time.Second

// Config is one `hermes gateway run`.
type Config struct {
	// Home is the Hermes home's root; Dir is the profile's folder, Profile
	// its name.
	Home    string
	Dir     string
	Profile string
	// Protocol is how the gateway program is run (default plain).
	Protocol Protocol
	// Argv is the gateway program and its arguments.
	Argv []string
	// Replace takes over from a runner already running for the profile.
	Replace bool
	// StopTimeout bounds the gateway's exit after a stop request.
	StopTimeout time.Duration
	// FatalExit is the runner's exit code for a gateway's fatal
	// configuration: gateway.ExitConfig, unless the service manager can
	// spare only a clean exit from restarts.
	FatalExit int
	// Signalled is done once the process got SIGINT or SIGTERM before the
	// runner's own handlers were in place (hermes catches both from its
	// start, to cancel what it does): such a stop still counts, and the
	// gateway never starts. Nil: none came.
	Signalled      <-chan struct{}
	Log            hclog.Logger
	Stdout, Stderr io.Writer
}

// signalledEarly reports whether a stop came before the runner listened.
func (c Config) signalledEarly() bool {
	if c.Signalled == nil {
		return false
	}
	select {
	case <-c.Signalled:
		return true
	default:
		return false
	}
}

// earlyStop ends a run whose stop came before the gateway started: nothing
// of the gateway's is written; the marker, if one names this process, is
// consumed and makes it the operator's (exit 0), else it is a stop from
// outside (exit 1), as the gateway itself would have said.
func earlyStop(cfg Config) int {
	if gateway.ConsumeMarker(cfg.Dir, os.Getpid()) {
		fmt.Fprintln(cfg.Stderr, "hermes gateway run: stopped (planned) before the gateway started")
		return gateway.ExitOK
	}
	fmt.Fprintln(cfg.Stderr, "hermes gateway run: stopped from outside before the gateway started")
	return gateway.ExitFailed
}

// Error is a runner failure with the exit code it ends with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the code `hermes gateway run` exits with.
func (e *Error) ExitCode() int { return e.Code }

// Hint passes on the cause's hint.
func (e *Error) Hint() string { return service.HintOf(e.Err) }

func configError(err error) error { return &Error{Code: gateway.ExitConfig, Err: err} }

// Command is the gateway program: args when given, else
// $HERMES_GATEWAY_COMMAND split into words (as a shell would on Unix, by
// CommandLineToArgv's rules on Windows).
func Command(args []string, getenv func(string) string) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	line := strings.TrimSpace(getenv(gateway.EnvGatewayCommand))
	if line == "" {
		return nil, configError(&NoCommandError{})
	}
	words, err := SplitCommandLine(line)
	if err != nil || len(words) == 0 {
		return nil, configError(fmt.Errorf("%s %q cannot be split into words: %v", gateway.EnvGatewayCommand, line, err))
	}
	return words, nil
}

// NoCommandError is a runner given no gateway program.
type NoCommandError struct{}

func (*NoCommandError) Error() string {
	return "no gateway command: nothing after -- and " + gateway.EnvGatewayCommand + " is not set"
}

// Hint says the ways to give one.
func (*NoCommandError) Hint() string {
	return "give it on the command line, `hermes gateway run -- hermes-gateway --flag`, or configure the service with " +
		"`hermes gateway install --protocol plain --gateway-command 'hermes-gateway --flag'` (or register), or set " +
		gateway.EnvGatewayCommand + " in the runner's environment"
}

// AlreadyRunningError is a second runner for a profile, without --replace.
type AlreadyRunningError struct {
	Profile string
	PID     int // 0 when the lock holder left no pid record
}

func (e *AlreadyRunningError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("the %s gateway is already running", e.Profile)
	}
	return fmt.Sprintf("the %s gateway is already running (PID %d)", e.Profile, e.PID)
}

// Hint says how to stop or replace it.
func (e *AlreadyRunningError) Hint() string {
	return "stop it first (" + gateway.CommandHint(e.Profile, "stop") + "), or take over with " + gateway.FlagReplace
}

// claim is how a plain-protocol runner claims its profile: files upstream
// never reads, so upstream's gateway, run by hand or by another service,
// never takes the runner for itself (and the other way round).
var claim = gateway.Runner

// runner is one run.
type runner struct{ Config }

// Run runs the gateway to its end and returns the runner's exit code. An
// error says why the runner could not run the gateway at all; it carries
// its exit code too (see Error).
func Run(cfg Config) (int, error) {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.Protocol == ProtocolHermes {
		// The gateway keeps its own protocol: nothing for the runner to
		// hold, write or classify.
		// Where the runner cannot replace itself (Windows) or must
		// translate the gateway's exit, it stays as the gateway's parent.
		if !canExec || cfg.FatalExit != gateway.ExitConfig {
			return relay(cfg)
		}
		// From here a SIGINT or SIGTERM ends the process at once (it has
		// not started the gateway); one that came before is in Signalled.
		resetStopSignals()
		if cfg.signalledEarly() {
			return earlyStop(cfg), nil
		}
		err := execGateway(cfg.Home, cfg.Argv)
		return gateway.ExitConfig, err
	}
	r := &runner{cfg}
	code, err := r.run()
	if err != nil {
		var re *Error
		if !errors.As(err, &re) {
			err = &Error{Code: code, Err: err}
		}
	}
	return code, err
}

func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.Stderr, "hermes gateway run: "+format+"\n", args...)
}

// lock takes the profile's lock, taking over from a live runner with
// --replace.
func (r *runner) lock() (*gateway.Lock, error) {
	l, ok, err := claim.TryLock(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", filepath.Join(r.Dir, claim.LockFile), err)
	}
	if ok {
		return l, nil
	}
	rec, _ := claim.ReadPIDRecord(r.Dir)
	if !r.Replace {
		e := &AlreadyRunningError{Profile: r.Profile}
		if rec != nil {
			e.PID = rec.PID
		}
		return nil, e
	}
	if err := r.takeOver(rec); err != nil {
		return nil, err
	}
	err = wait.Poll{What: "the old runner to release " + filepath.Join(r.Dir, claim.LockFile), Timeout: 5 * time.Second}.
		Until(context.Background(), func() (bool, error) {
			var ok bool
			l, ok, err = claim.TryLock(r.Dir)
			return ok, err
		})
	if err != nil {
		return nil, fmt.Errorf("the old runner is gone but %s is still locked: %w", filepath.Join(r.Dir, claim.LockFile), err)
	}
	return l, nil
}

// takeOver ends the runner that holds the lock: its stop is planned (it
// records "stopped" and exits 0, so its supervisor leaves it down), then
// SIGTERM, then SIGKILL after replaceWait.
func (r *runner) takeOver(rec *gateway.PIDRecord) error {
	if rec == nil {
		return fmt.Errorf("another process holds %s but left no pid record to replace", filepath.Join(r.Dir, claim.LockFile))
	}
	if why := rec.Stale(); why != "" {
		return nil // the lock holder is gone or going; the lock wait takes the lock
	}
	r.say("replacing the runner with PID %d", rec.PID)
	// A takeover, not an operator's stop: the old runner must not record
	// the intent "stopped", which a container stopped before this runner
	// records "running" would leave behind.
	if err := gateway.WriteRunnerTakeover(r.Dir, rec.PID); err != nil {
		r.Log.Warn("could not mark the takeover; the old runner will take it for a stop from outside", "error", err)
	}
	if err := gateway.RequestStop(rec.PID); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal the runner with PID %d: %w", rec.PID, err)
	}
	gone := func() bool { return !gateway.SameProcess(rec.PID, rec.StartTime) }
	if err := wait.For(context.Background(), "the old runner to exit", replaceWait, gone); err != nil {
		r.say("PID %d did not exit within %s; killing it", rec.PID, replaceWait)
		_ = gateway.Kill(rec.PID)
	}
	return nil
}

// update records state, best effort: the gateway runs whether or not its
// state file can be written.
func (r *runner) update(fields map[string]any) {
	if err := gateway.UpdateState(r.Dir, fields); err != nil {
		r.Log.Warn("could not record the gateway state", "error", err)
	}
}

func (r *runner) run() (int, error) {
	l, err := r.lock()
	if err != nil {
		return gateway.ExitFailed, err
	}
	defer l.Unlock()
	if err := r.endLeftover(); err != nil {
		return gateway.ExitFailed, err
	}
	self := os.Getpid()
	if rec, _ := claim.ReadPIDRecord(r.Dir); rec != nil && rec.PID != self {
		why := rec.Stale()
		if why == "" {
			why = "its runner no longer holds the lock"
		}
		r.Log.Info("replacing a stale pid record", "pid", rec.PID, "reason", why)
	}
	if err := claim.WritePIDRecord(r.Dir, gateway.NewPIDRecord(r.Dir)); err != nil {
		return gateway.ExitFailed, fmt.Errorf("write the pid record: %w", err)
	}
	defer claim.RemovePIDRecord(r.Dir, self)

	// Whoever started this runner (an operator, a boot, a supervisor's
	// restart, a hand-typed systemctl restart) wants the gateway running:
	// record it, so a restart through the init system's own tools does not
	// leave the "stopped" its planned stop wrote.
	// The runner is the gateway as the service manager sees it: its pid,
	// start time, argv and kind are restamped together, so upstream's
	// liveness check finds a consistent record, never a mix of two runs.
	rec := gateway.NewPIDRecord(r.Dir)
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStarting, gateway.KeyPID: rec.PID,
		gateway.KeyStartTime: rec.StartTime, gateway.KeyArgv: rec.Argv, gateway.KeyKind: rec.Kind,
		gateway.KeyExitReason: nil, gateway.KeyRestartRequested: false, gateway.KeyDesiredState: service.DesiredRunning})

	sigs := notifySignals()
	defer stopSignals(sigs)
	if r.signalledEarly() {
		kind, reason, _ := r.classify(terminateSignal)
		r.say("%s (before the gateway started)", reason)
		return r.stopped(kind, reason), nil
	}

	child := exec.Command(r.Argv[0], r.Argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, r.Stdout, r.Stderr
	child.Env = append(os.Environ(), gateway.EnvPair(gateway.EnvHome, r.Dir))
	configureChild(child)
	if err := child.Start(); err != nil {
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStartupFailed,
			gateway.KeyExitReason: "the gateway program could not start: " + err.Error()})
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return gateway.ExitConfig, configError(fmt.Errorf("start the gateway program %q: %w", r.Argv[0], err))
		}
		return gateway.ExitFailed, fmt.Errorf("start the gateway program %q: %w", r.Argv[0], err)
	}
	// Removed once the gateway is waited for, on every path below (and
	// before the lock is released); only a runner that is killed leaves it.
	defer r.recordGroup(child.Process.Pid)()
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayRunning, "child_pid": child.Process.Pid})
	r.Log.Debug("gateway started", "pid", child.Process.Pid, "argv", r.Argv)

	done := make(chan error, 1)
	go func() { done <- child.Wait() }()

	for {
		select {
		case err := <-done:
			return r.exited(child, err), nil
		case sig := <-sigs:
			kind, reason, ok := r.classify(sig)
			if !ok {
				r.Log.Debug("forwarding signal", "signal", sig)
				_ = forward(child, sig)
				continue
			}
			r.say("%s; stopping the gateway (PID %d)", reason, child.Process.Pid)
			r.stopChild(child, done, sigs)
			return r.stopped(kind, reason), nil
		}
	}
}

// stopKind is whose stop a signal is.
type stopKind int

const (
	stopOutside  stopKind = iota // a container restart, a bare kill
	stopOperator                 // SIGINT, or SIGTERM with the planned-stop marker
	stopTakeover                 // SIGTERM with a new runner's takeover marker
)

// classify says what a signal means: ok is false for one that is only
// forwarded (SIGUSR1, SIGHUP).
func (r *runner) classify(sig os.Signal) (kind stopKind, reason string, ok bool) {
	switch {
	case isInterrupt(sig):
		return stopOperator, "interrupted (SIGINT): a planned stop", true
	case isTerminate(sig):
		if gateway.ConsumeRunnerTakeover(r.Dir, os.Getpid()) {
			return stopTakeover, "SIGTERM with the takeover marker: a new runner replaces this one", true
		}
		if gateway.ConsumeMarker(r.Dir, os.Getpid()) {
			return stopOperator, "SIGTERM with the planned-stop marker: an operator's stop", true
		}
		return stopOutside, "SIGTERM without a planned-stop marker: a stop from outside, the gateway stays wanted", true
	}
	return stopOutside, "", false
}

// stopChild asks the gateway to stop and waits StopTimeout for it, then
// kills it. Another SIGINT or SIGTERM while waiting kills it at once.
func (r *runner) stopChild(child *exec.Cmd, done <-chan error, sigs <-chan os.Signal) {
	_ = terminateChild(child)
	timer := time.NewTimer(r.StopTimeout)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-timer.C:
			r.say("the gateway did not exit within %s; killing it", r.StopTimeout)
		case sig := <-sigs:
			if isInterrupt(sig) || isTerminate(sig) {
				r.say("stop requested again; killing the gateway")
			} else {
				continue
			}
		}
		_ = killChild(child)
		<-done
		return
	}
}

// stopped records how a signalled stop ended. The fix for the bug this
// project grew from: only an operator's stop records the intent "stopped".
func (r *runner) stopped(kind stopKind, reason string) int {
	switch kind {
	case stopOperator:
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped,
			gateway.KeyDesiredState: service.DesiredStopped, gateway.KeyExitReason: reason})
		return gateway.ExitOK
	case stopTakeover:
		// The new runner records its own start; until it does, the gateway
		// is still wanted, whatever stops the container meanwhile.
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayRunning, gateway.KeyExitReason: reason})
		return gateway.ExitOK
	}
	// A stop from outside leaves the gateway wanted where every one of
	// upstream's readers looks: gateway_state "running" (upstream's #42675
	// fix, all the seed-era reconciler reads). desired_state is the
	// operator's and stays as it is: a stop whose marker could not be
	// written must not turn the operator's "stopped" into "running".
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayRunning, gateway.KeyExitReason: reason})
	return gateway.ExitFailed
}

// exited handles the gateway ending on its own: the exit code says what the
// supervisor should do; the recorded intent does not change.
func (r *runner) exited(child *exec.Cmd, err error) int {
	code := child.ProcessState.ExitCode()
	switch {
	case err == nil:
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped, gateway.KeyExitReason: "the gateway exited cleanly"})
		return gateway.ExitOK
	case code == gateway.ExitRestart:
		r.say("the gateway asked for a restart (exit %d)", code)
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped, gateway.KeyRestartRequested: true,
			gateway.KeyExitReason: fmt.Sprintf("restart requested (exit %d)", code)})
		return gateway.ExitRestart
	case code == gateway.ExitConfig:
		r.say("the gateway reported a fatal configuration problem (exit %d); it must not be restarted until that is fixed", code)
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStartupFailed,
			gateway.KeyExitReason: fmt.Sprintf("fatal configuration (exit %d)", code)})
		return r.FatalExit
	}
	reason := fmt.Sprintf("the gateway failed: %v", err)
	r.say("%s", reason)
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped, gateway.KeyExitReason: reason})
	return gateway.ExitFailed
}

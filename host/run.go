package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Exit codes of `hermes gateway run`, read by the service definitions.
const (
	RunExitOK      = 0  // a clean or planned stop
	RunExitFailed  = 1  // a failure, or a stop from outside: restart me
	RunExitRestart = 75 // the gateway asked to be restarted
	RunExitConfig  = 78 // fatal configuration: do not restart
)

// replaceWait bounds how long --replace waits for the old runner after
// SIGTERM before it sends SIGKILL.
const replaceWait = 10 * time.Second

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run the profile's gateway in the foreground (what every service definition runs)",
		ArgsUsage: "[-- COMMAND [ARG...]]",
		Description: "Runs the gateway program as a child and keeps the profile's gateway_state.json, pid record and\n" +
			"lock. The program is COMMAND, else $HERMES_GATEWAY_COMMAND (split as a shell would, without one).\n" +
			"An operator's stop (hermes gateway stop, or SIGINT) records the intent \"stopped\"; a SIGTERM without\n" +
			"the planned-stop marker (a container restart, a bare kill) records \"running\", so the gateway comes\n" +
			"back with the machine. Exit codes: 0 clean or planned stop, 1 failure or stop from outside,\n" +
			"75 restart requested, 78 fatal configuration (a supervisor must not restart it).",
		Flags: []cli.Flag{
			profileFlag(""),
			&cli.BoolFlag{Name: "replace", Usage: "take over from a runner already running for this profile (planned stop, SIGTERM, then SIGKILL after 10s)"},
			&cli.DurationFlag{Name: "stop-timeout", Value: 10 * time.Second,
				Usage: "how long the gateway may take to exit after SIGTERM before it is killed"},
		},
		Action: runGateway,
	}
}

// gatewayCommandLine is the program to run: the arguments, else
// $HERMES_GATEWAY_COMMAND split into words.
func gatewayCommandLine(args []string) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	line := strings.TrimSpace(os.Getenv("HERMES_GATEWAY_COMMAND"))
	if line == "" {
		return nil, &ConfigError{Err: &noGatewayCommandError{}}
	}
	words, err := splitCommandLine(line)
	if err != nil || len(words) == 0 {
		return nil, &ConfigError{Err: fmt.Errorf("HERMES_GATEWAY_COMMAND %q cannot be split into words: %v", line, err)}
	}
	return words, nil
}

type noGatewayCommandError struct{}

func (*noGatewayCommandError) Error() string {
	return "no gateway command: nothing after -- and HERMES_GATEWAY_COMMAND is not set"
}

func (*noGatewayCommandError) Hint() string {
	return "give it on the command line, `hermes gateway run -- hermes-gateway --flag`, or configure the service with " +
		"`hermes gateway install --env HERMES_GATEWAY_COMMAND='hermes-gateway --flag'` (or register --env ...)"
}

func runGateway(c *cli.Context) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	argv, err := gatewayCommandLine(c.Args().Slice())
	if err != nil {
		return err
	}
	dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
	if err != nil {
		return &UsageError{Err: err}
	}
	r := &runner{
		log: s.log, dir: dir, profile: s.profile, argv: argv, replace: c.Bool("replace"),
		stopTimeout: c.Duration("stop-timeout"), stdout: s.stdout, stderr: s.stderr,
	}
	code, err := r.run()
	if err != nil {
		return err
	}
	return exitStatus(code)
}

// runner is one `hermes gateway run`.
type runner struct {
	log         hclog.Logger
	dir         string // the profile's folder
	profile     string
	argv        []string
	replace     bool
	stopTimeout time.Duration
	stdout      io.Writer
	stderr      io.Writer
}

func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.stderr, "hermes gateway run: "+format+"\n", args...)
}

// lock takes the profile's lock, taking over from a live runner with
// --replace.
func (r *runner) lock() (*gateway.Lock, error) {
	l, ok, err := gateway.TryLock(r.dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", filepath.Join(r.dir, gateway.LockFile), err)
	}
	if ok {
		return l, nil
	}
	rec, _ := gateway.ReadPIDRecord(r.dir)
	if !r.replace {
		return nil, &alreadyRunningError{profile: r.profile, rec: rec}
	}
	if err := r.takeOver(rec); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, ok, err := gateway.TryLock(r.dir); err != nil {
			return nil, err
		} else if ok {
			return l, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the old runner is gone but %s is still locked", filepath.Join(r.dir, gateway.LockFile))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// takeOver ends the runner that holds the lock: its stop is planned (it
// records "stopped" and exits 0, so its supervisor leaves it down), then
// SIGTERM, then SIGKILL after replaceWait.
func (r *runner) takeOver(rec *gateway.PIDRecord) error {
	if rec == nil {
		return fmt.Errorf("another process holds %s but left no pid record to replace", filepath.Join(r.dir, gateway.LockFile))
	}
	if why := rec.Stale(); why != "" {
		return nil // the lock holder is gone or going; the retry loop takes the lock
	}
	r.say("replacing the runner with PID %d", rec.PID)
	gateway.MarkPlannedStop(r.log, r.dir, rec.PID)
	if err := terminate(rec.PID); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal the runner with PID %d: %w", rec.PID, err)
	}
	deadline := time.Now().Add(replaceWait)
	for gateway.SameProcess(rec.PID, rec.StartTime) {
		if time.Now().After(deadline) {
			r.say("PID %d did not exit within %s; killing it", rec.PID, replaceWait)
			_ = kill(rec.PID)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

type alreadyRunningError struct {
	profile string
	rec     *gateway.PIDRecord
}

func (e *alreadyRunningError) Error() string {
	if e.rec == nil {
		return fmt.Sprintf("the %s gateway is already running", e.profile)
	}
	return fmt.Sprintf("the %s gateway is already running (PID %d)", e.profile, e.rec.PID)
}

func (e *alreadyRunningError) Hint() string {
	return "stop it first (hermes " + profileArg(e.profile) + "gateway stop), or take over with --replace"
}

func profileArg(p string) string {
	if p == service.DefaultProfile {
		return ""
	}
	return "-p " + p + " "
}

// update records state, best effort: the gateway runs whether or not its
// state file can be written.
func (r *runner) update(fields map[string]any) {
	if err := gateway.UpdateState(r.dir, fields); err != nil {
		r.log.Warn("could not record the gateway state", "error", err)
	}
}

// run runs the gateway to its end and returns the runner's exit code.
func (r *runner) run() (int, error) {
	l, err := r.lock()
	if err != nil {
		return RunExitFailed, err
	}
	defer l.Unlock()
	self := os.Getpid()
	if rec, _ := gateway.ReadPIDRecord(r.dir); rec != nil && rec.PID != self {
		why := rec.Stale()
		if why == "" {
			why = "its runner no longer holds the lock"
		}
		r.log.Info("replacing a stale pid record", "pid", rec.PID, "reason", why)
	}
	if err := gateway.WritePIDRecord(r.dir, gateway.NewPIDRecord(r.dir)); err != nil {
		return RunExitFailed, fmt.Errorf("write the pid record: %w", err)
	}
	defer gateway.RemovePIDRecord(r.dir, self)

	// Whoever started this runner (an operator, a boot, a supervisor's
	// restart, a hand-typed systemctl restart) wants the gateway running:
	// record it, so a restart through the init system's own tools does not
	// leave the "stopped" its planned stop wrote.
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStarting, gateway.KeyPID: self,
		gateway.KeyExitReason: nil, gateway.KeyRestartRequested: false, gateway.KeyDesiredState: service.DesiredRunning})

	sigs := notifySignals()
	defer stopSignals(sigs)

	child := exec.Command(r.argv[0], r.argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, r.stdout, r.stderr
	child.Env = append(os.Environ(), "HERMES_HOME="+r.dir)
	configureChild(child)
	if err := child.Start(); err != nil {
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStartupFailed,
			gateway.KeyExitReason: "the gateway program could not start: " + err.Error()})
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return RunExitConfig, &ConfigError{Err: fmt.Errorf("start the gateway program %q: %w", r.argv[0], err)}
		}
		return RunExitFailed, fmt.Errorf("start the gateway program %q: %w", r.argv[0], err)
	}
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayRunning, "child_pid": child.Process.Pid})
	r.log.Debug("gateway started", "pid", child.Process.Pid, "argv", r.argv)

	done := make(chan error, 1)
	go func() { done <- child.Wait() }()

	for {
		select {
		case err := <-done:
			return r.exited(child, err), nil
		case sig := <-sigs:
			planned, reason, ok := r.classify(sig)
			if !ok {
				r.log.Debug("forwarding signal", "signal", sig)
				_ = forward(child, sig)
				continue
			}
			r.say("%s; stopping the gateway (PID %d)", reason, child.Process.Pid)
			r.stopChild(child, done, sigs)
			return r.stopped(planned, reason), nil
		}
	}
}

// classify says what a signal means: ok is false for one that is only
// forwarded (SIGUSR1, SIGHUP).
func (r *runner) classify(sig os.Signal) (planned bool, reason string, ok bool) {
	switch {
	case isInterrupt(sig):
		return true, "interrupted (SIGINT): a planned stop", true
	case isTerminate(sig):
		if gateway.ConsumeMarker(r.dir, os.Getpid()) {
			return true, "SIGTERM with the planned-stop marker: an operator's stop", true
		}
		return false, "SIGTERM without a planned-stop marker: a stop from outside, the gateway stays wanted", true
	}
	return false, "", false
}

// stopChild asks the gateway to stop and waits stopTimeout for it, then
// kills it. Another SIGINT or SIGTERM while waiting kills it at once.
func (r *runner) stopChild(child *exec.Cmd, done <-chan error, sigs <-chan os.Signal) {
	_ = terminateChild(child)
	timer := time.NewTimer(r.stopTimeout)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-timer.C:
			r.say("the gateway did not exit within %s; killing it", r.stopTimeout)
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
func (r *runner) stopped(planned bool, reason string) int {
	if planned {
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped,
			gateway.KeyDesiredState: service.DesiredStopped, gateway.KeyExitReason: reason})
		return RunExitOK
	}
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped,
		gateway.KeyDesiredState: service.DesiredRunning, gateway.KeyExitReason: reason})
	return RunExitFailed
}

// exited handles the gateway ending on its own: the exit code says what the
// supervisor should do; the recorded intent does not change.
func (r *runner) exited(child *exec.Cmd, err error) int {
	code := child.ProcessState.ExitCode()
	switch {
	case err == nil:
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped, gateway.KeyExitReason: "the gateway exited cleanly"})
		return RunExitOK
	case code == RunExitRestart:
		r.say("the gateway asked for a restart (exit %d)", code)
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped, gateway.KeyRestartRequested: true,
			gateway.KeyExitReason: "restart requested (exit 75)"})
		return RunExitRestart
	case code == RunExitConfig:
		r.say("the gateway reported a fatal configuration problem (exit %d); it must not be restarted until that is fixed", code)
		r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStartupFailed,
			gateway.KeyExitReason: "fatal configuration (exit 78)"})
		// launchd's KeepAlive can spare a clean exit from a restart, not a
		// particular code: under launchd, "do not restart" is exit 0 (the
		// state file keeps the real reason).
		if os.Getenv("HERMES_SERVICE_MANAGER") == "launchd" {
			return RunExitOK
		}
		return RunExitConfig
	}
	reason := fmt.Sprintf("the gateway failed: %v", err)
	r.say("%s", reason)
	r.update(map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped, gateway.KeyExitReason: reason})
	return RunExitFailed
}

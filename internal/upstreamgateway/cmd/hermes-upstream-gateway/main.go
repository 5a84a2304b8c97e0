// Command hermes-upstream-gateway stands in for upstream's real gateway,
// `hermes gateway run` (NousResearch/hermes-agent), in tests: it keeps the
// gateway's files in its home and classifies its own stop as upstream does.
// See package internal/upstreamgateway for its flags, knobs and output.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

func main() { os.Exit(run(os.Args[1:])) }

func say(s string) { fmt.Println(s) }

type options struct {
	profile            string
	replace            bool
	externalSupervisor bool
	noSupervise        bool
	force              bool
	help               bool

	drain, drainInterval, startDelay, exitAfter, rmwGap time.Duration
	exit                                                int
	exitSet                                             bool
	writer                                              string
	watcher                                             bool
	markers                                             markerRules
	maxStarts                                           int
	startWindow                                         time.Duration
}

// parseOptions reads upstream's command line: `[-p NAME] [gateway [run]]
// [flags]`, the profile selector anywhere (upstream strips it before
// parsing), then the knobs from the environment.
func parseOptions(args []string) (options, error) {
	o := options{
		drain: upstreamgateway.DefaultDrain, drainInterval: upstreamgateway.DefaultDrainInterval,
		exitAfter: upstreamgateway.DefaultExitAfter, writer: upstreamgateway.WriterRMW, watcher: true,
		markers:   markerRules{ttl: gateway.MarkerTTL, skew: upstreamgateway.MarkerSkew},
		maxStarts: 5, startWindow: 120 * time.Second,
	}
	var positional []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == gateway.FlagProfile || a == "--profile":
			if i+1 >= len(args) {
				return o, fmt.Errorf("%s needs a profile name", a)
			}
			i++
			o.profile = args[i]
		case strings.HasPrefix(a, "--profile=") || strings.HasPrefix(a, gateway.FlagProfile+"="):
			o.profile = a[strings.IndexByte(a, '=')+1:]
		case a == gateway.FlagReplace:
			o.replace = true
		case a == upstreamgateway.FlagExternalSupervisor && os.Getenv(upstreamgateway.EnvNoExternalSupervisorFlag) != "1":
			o.externalSupervisor = true
		case a == "--help" || a == "-h":
			o.help = true
		case a == upstreamgateway.FlagNoSupervise:
			o.noSupervise = true
		case a == upstreamgateway.FlagForce:
			o.force = true
		case a == "-q" || a == "--quiet" || a == "--verbose" || strings.HasPrefix(a, "-v") && strings.Trim(a[1:], "v") == "":
			// Log verbosity: the stand-in prints the same either way.
		case strings.HasPrefix(a, "-"):
			return o, fmt.Errorf("unrecognized argument %s", a)
		default:
			positional = append(positional, a)
		}
	}
	if len(positional) > 0 && !(positional[0] == gateway.CommandGateway && (len(positional) == 1 || len(positional) == 2 && positional[1] == gateway.CommandRun)) {
		return o, fmt.Errorf("unexpected arguments %q (only `%s %s` is understood)", positional, gateway.CommandGateway, gateway.CommandRun)
	}
	durations := []struct {
		name string
		to   *time.Duration
	}{
		{upstreamgateway.EnvDrain, &o.drain}, {upstreamgateway.EnvDrainInterval, &o.drainInterval},
		{upstreamgateway.EnvStartDelay, &o.startDelay}, {upstreamgateway.EnvExitAfter, &o.exitAfter},
		{upstreamgateway.EnvRMWGap, &o.rmwGap}, {upstreamgateway.EnvStartWindow, &o.startWindow},
	}
	for _, d := range durations {
		if v := os.Getenv(d.name); v != "" {
			parsed, err := parseDuration(v)
			if err != nil {
				return o, fmt.Errorf("%s=%q: %v", d.name, v, err)
			}
			*d.to = parsed
		}
	}
	if v := os.Getenv(upstreamgateway.EnvExit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			return o, fmt.Errorf("%s=%q: want an exit code", upstreamgateway.EnvExit, v)
		}
		o.exit, o.exitSet = n, true
	}
	if v := os.Getenv(upstreamgateway.EnvMaxStarts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return o, fmt.Errorf("%s=%q: want a number", upstreamgateway.EnvMaxStarts, v)
		}
		o.maxStarts = n
	}
	switch v := os.Getenv(upstreamgateway.EnvStateWriter); v {
	case "":
	case upstreamgateway.WriterRMW, upstreamgateway.WriterSnapshot:
		o.writer = v
	default:
		return o, fmt.Errorf("%s=%q: want %s or %s", upstreamgateway.EnvStateWriter, v, upstreamgateway.WriterRMW, upstreamgateway.WriterSnapshot)
	}
	o.watcher = os.Getenv(upstreamgateway.EnvMarkerWatcher) != "0"
	if os.Getenv(upstreamgateway.EnvFutureMarkers) == "accept" {
		o.markers.skew = -1
	}
	return o, nil
}

func parseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// supervisedBy is is_gateway_supervisor_process: the variable that makes
// this gateway a supervised child, "" when none does.
func supervisedBy() string {
	switch {
	case os.Getenv(upstreamgateway.EnvInvocationID) != "":
		return upstreamgateway.EnvInvocationID
	case os.Getenv(gateway.EnvS6SupervisedChild) != "":
		return gateway.EnvS6SupervisedChild
	case os.Getenv(upstreamgateway.EnvXPCServiceName) != "" && os.Getenv(upstreamgateway.EnvXPCServiceName) != "0":
		return upstreamgateway.EnvXPCServiceName
	case truthy(os.Getenv(gateway.EnvExternalSupervisor)):
		return gateway.EnvExternalSupervisor
	}
	return ""
}

// homeDir is HERMES_HOME (else ~/.hermes), or a named profile's folder in it.
func homeDir(profile string) (string, error) {
	root, err := gateway.DefaultRoot()
	if err != nil {
		return "", err
	}
	if profile == "" || profile == service.DefaultProfile {
		return root, nil
	}
	return gateway.Home{Root: root}.ProfileDir(profile)
}

func run(args []string) int {
	opts, err := parseOptions(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hermes-upstream-gateway:", err)
		return 2
	}
	if opts.help {
		printHelp()
		return 0
	}
	dir, err := homeDir(opts.profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hermes-upstream-gateway:", err)
		return 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "hermes-upstream-gateway:", err)
		return 1
	}
	_ = os.Setenv(gateway.EnvHome, dir)
	if opts.externalSupervisor {
		_ = os.Setenv(gateway.EnvExternalSupervisor, "1")
	}
	self := newIdentity(dir)
	say(upstreamgateway.StartLine(self.pid, self.home))
	say(upstreamgateway.SupervisedLine(supervisedBy(), opts.externalSupervisor,
		opts.noSupervise || truthy(os.Getenv(upstreamgateway.EnvNoSupervise))))

	// Signals are caught from the start, but until start_gateway installs
	// its handlers they do what Python's defaults do (preStart).
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, handledSignals...)

	find := finder{dir: dir, home: self.home}
	// The CLI's cheap preflight: a shell's second `gateway run` stops here,
	// before it counts as a start; supervised children go on to the guard
	// in start_gateway.
	if !opts.replace && supervisedBy() == "" {
		if existing := find.runningPID(); existing != 0 && existing != self.pid {
			say(upstreamgateway.DuplicateLine(existing))
			fmt.Printf("A gateway is already running (PID %d). Use --replace to take over.\n", existing)
			return 1
		}
	}
	if backoff := respawnBackoff(dir, opts.maxStarts, opts.startWindow); backoff > 0 {
		say(upstreamgateway.StormLine(backoff))
		sleepOrDie(sigs, backoff)
	}

	if existing := find.runningPID(); existing != 0 && existing != self.pid {
		if !opts.replace {
			say(upstreamgateway.DuplicateLine(existing))
			fmt.Printf("Gateway already running (PID %d, HERMES_HOME=%s). Use --replace to take over.\n", existing, dir)
			return 1
		}
		if !takeOver(sigs, dir, self, existing) {
			return 1
		}
	}

	// From here on the gateway's own handlers classify every signal; one
	// that came before still gets Python's default.
	select {
	case s := <-sigs:
		preStart(s)
	default:
	}
	g := &gw{
		opts: opts, dir: dir, self: self, sigs: sigs,
		state:    &stateWriter{path: statePath(dir), mode: opts.writer, gap: opts.rmwGap, identity: self},
		planned:  plannedStopMarker(dir, opts.markers, self),
		takeover: takeoverMarker(dir, opts.markers, self),
	}
	if cur := find.runningPID(); cur != 0 && cur != self.pid {
		say(upstreamgateway.DuplicateLine(cur))
		return 1
	}
	lock, ok, err := gateway.TryLock(dir)
	if err != nil || !ok {
		say(upstreamgateway.RaceLine(gateway.LockFile))
		fmt.Println("Gateway runtime lock is already held by another instance.", err)
		return 1
	}
	g.lock = lock
	if err := g.writePIDFile(); err != nil {
		_ = lock.Unlock()
		say(upstreamgateway.RaceLine(gateway.PIDFile))
		fmt.Println("PID file race lost to another gateway instance:", err)
		return 1
	}
	return g.loop()
}

// sleepOrDie waits d; a signal meanwhile ends the process as Python's
// default handlers would.
func sleepOrDie(sigs <-chan os.Signal, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case s := <-sigs:
		preStart(s)
	case <-t.C:
	}
}

// preStart is a signal before the gateway's handlers exist: SIGINT is a
// KeyboardInterrupt (exit 0), anything else the default action.
func preStart(s os.Signal) {
	if isInterrupt(s) {
		fmt.Println("\nGateway stopped.")
		os.Exit(gateway.ExitOK)
	}
	dieBySignal(s)
}

// takeOver is start_gateway's --replace: mark target's coming SIGTERM as a
// planned takeover, send it, wait up to 10 s, SIGKILL, wait up to 5 s more;
// false when target outlives all that (no duplicate gateway is started).
func takeOver(sigs <-chan os.Signal, dir string, self identity, target int) bool {
	say(upstreamgateway.ReplaceLine(target))
	clear := func() { _ = os.Remove(filepath.Join(dir, gateway.TakeoverFile)) }
	if err := writeTakeover(dir, self, target); err != nil {
		fmt.Println("Could not write takeover marker:", err)
	}
	if err := terminate(target, false); err != nil && gateway.Alive(target) {
		fmt.Printf("Permission denied killing PID %d. Cannot replace: %v\n", target, err)
		clear()
		return false
	}
	gone := waitGone(sigs, target, 20, 500*time.Millisecond)
	if !gone {
		fmt.Printf("Old gateway (PID %d) did not exit after SIGTERM, sending SIGKILL.\n", target)
		if err := terminate(target, true); err != nil && !gateway.Alive(target) {
			gone = true
		}
		gone = gone || waitGone(sigs, target, 20, 250*time.Millisecond)
	}
	if !gone {
		fmt.Printf("Old gateway (PID %d) still appears alive after SIGKILL; aborting replacement.\n", target)
		clear()
		return false
	}
	// The old pid file goes even when the old gateway could not remove it.
	_ = os.Remove(filepath.Join(dir, gateway.PIDFile))
	clear()
	say(upstreamgateway.ReplacedLine(target))
	return true
}

// waitGone polls as upstream does: up to tries checks, pause apart.
func waitGone(sigs <-chan os.Signal, pid, tries int, pause time.Duration) bool {
	for range tries {
		if !gateway.Alive(pid) {
			return true
		}
		sleepOrDie(sigs, pause)
	}
	return !gateway.Alive(pid)
}

// Phases of a running gateway.
const (
	phaseStarting = iota
	phaseRunning
	phaseStopping
)

// gw is a gateway that owns its home: GatewayRunner and start_gateway's
// shutdown handler.
type gw struct {
	opts     options
	dir      string
	self     identity
	sigs     <-chan os.Signal
	state    *stateWriter
	lock     *gateway.Lock
	planned  markerFile
	takeover markerFile

	phase            int
	signalInitiated  bool // an unplanned signal took part in this stop
	restartRequested bool
	activeAgents     int

	drainTick <-chan time.Time
	drainEnd  <-chan time.Time
	ticker    *time.Ticker
}

// writePIDFile is write_pid_file (created exclusively: a racing gateway
// loses) with the record also written into gateway.lock, as
// acquire_gateway_runtime_lock does.
func (g *gw) writePIDFile() error {
	path := filepath.Join(g.dir, gateway.PIDFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_ = f.Close()
	rec := gateway.PIDRecord{PID: g.self.pid, Kind: gateway.PIDKind, Argv: g.self.argv, StartTime: g.self.startTime, HermesHome: g.self.home}
	if err := gateway.WritePIDRecord(g.dir, rec); err != nil {
		_ = os.Remove(path)
		return err
	}
	// Best effort, as upstream's: Windows refuses writes to the bytes
	// another handle has locked.
	if data, err := os.ReadFile(path); err == nil {
		if lf, err := os.OpenFile(filepath.Join(g.dir, gateway.LockFile), os.O_WRONLY|os.O_TRUNC, 0); err == nil {
			_, _ = lf.Write(data)
			_ = lf.Sync()
			_ = lf.Close()
		}
	}
	return nil
}

// removePIDFile is remove_pid_file: only a record naming this process (or
// none that can be read) is removed; a successor's stays.
func (g *gw) removePIDFile() {
	path := filepath.Join(g.dir, gateway.PIDFile)
	if pid, ok := readRecord(path).intField(gateway.KeyPID); ok && pid != g.self.pid {
		return
	}
	_ = os.Remove(path)
}

func (g *gw) writeState(state string, exitReason *string) {
	if err := g.state.write(runtimeFields(state, exitReason, g.restartRequested, g.activeAgents)); err != nil {
		fmt.Fprintln(os.Stderr, "hermes-upstream-gateway: write state:", err)
	}
}

// loop runs the gateway until it exits, and returns its exit code.
func (g *gw) loop() int {
	g.writeState(gateway.GatewayStarting, nil)
	failing := g.opts.exitSet && (g.opts.exit == gateway.ExitFailed || g.opts.exit == gateway.ExitConfig)
	var started, exitTimer <-chan time.Time
	if !failing {
		started = time.After(g.opts.startDelay)
	}
	if failing {
		exitTimer = time.After(g.opts.exitAfter) // fails while starting
	}
	var watch <-chan time.Time
	if g.opts.watcher {
		w := time.NewTicker(upstreamgateway.WatchInterval)
		defer w.Stop()
		watch = w.C
	}
	for {
		select {
		case s := <-g.sigs:
			if isRestart(s) {
				g.requestRestart(signalName(s))
			} else {
				g.shutdownHandler(s)
			}
		case <-started:
			started = nil
			if g.phase == phaseStarting {
				g.phase = phaseRunning
				g.writeState(gateway.GatewayRunning, nil)
				say(upstreamgateway.RunningLine(g.self.pid))
				if g.opts.exitSet {
					exitTimer = time.After(g.opts.exitAfter)
				}
			}
		case <-exitTimer:
			exitTimer = nil
			if code, done := g.exitOnDemand(); done {
				return code
			}
		case <-watch:
			if g.phase == phaseRunning && g.planned.targetsSelf() {
				watch = nil // upstream's watcher fires once and ends
				g.shutdownHandler(nil)
			}
		case <-g.drainTick:
			g.writeState(gateway.GatewayDraining, nil)
		case <-g.drainEnd:
			return g.finish()
		}
	}
}

// shutdownHandler is start_gateway's shutdown_signal_handler; sig nil is
// the marker watcher. It runs for every signal, also during a stop, so an
// unplanned second SIGTERM turns a planned stop into one from outside.
func (g *gw) shutdownHandler(sig os.Signal) {
	plannedTakeover := g.takeover.consume()
	plannedStop := false
	if sig != nil && isInterrupt(sig) {
		plannedStop = true
	} else if !plannedTakeover {
		plannedStop = g.planned.consume()
	}
	name, reason := upstreamgateway.SignalNone, upstreamgateway.ReasonNone
	if sig != nil {
		name = signalName(sig)
	}
	switch {
	case plannedTakeover:
		reason = upstreamgateway.ReasonTakeover
	case plannedStop && sig != nil && isInterrupt(sig):
		reason = upstreamgateway.ReasonInterrupt
	case plannedStop:
		reason = upstreamgateway.ReasonMarker
	default:
		g.signalInitiated = true
	}
	say(upstreamgateway.StopLine(name, plannedTakeover || plannedStop, reason))
	g.beginStop()
}

// requestRestart is request_restart(via_service=True): drain, persist
// "stopped" with restart_requested, exit 75 for the service manager.
func (g *gw) requestRestart(via string) {
	if g.restartRequested {
		return
	}
	g.restartRequested = true
	say(upstreamgateway.RestartLine(via))
	g.beginStop()
}

// exitOnDemand acts on EnvExit; done when the process is to exit now.
func (g *gw) exitOnDemand() (int, bool) {
	switch code := g.opts.exit; code {
	case gateway.ExitOK:
		say(upstreamgateway.StopLine(upstreamgateway.SignalNone, true, upstreamgateway.ReasonExitEnv))
		g.beginStop()
	case gateway.ExitRestart:
		g.requestRestart(upstreamgateway.ReasonExitEnv)
	case gateway.ExitFailed, gateway.ExitConfig:
		return g.startupFailed(code), true
	default:
		// A crash: nothing persisted, nothing removed.
		say(upstreamgateway.ExitLine(code, "-"))
		return code, true
	}
	return 0, false
}

// startupFailed is runner.start giving up on its platforms: the platform's
// error, gateway_state startup_failed with the reason, then the early exit
// that releases the pid file and the lock (78: fatal configuration, not to
// be restarted; 1: a failure worth a retry).
func (g *gw) startupFailed(code int) int {
	platformState, errorCode, message := "retrying", "telegram_connect_error", "Telegram startup failed: temporary failure (stand-in)."
	if code == gateway.ExitConfig {
		platformState, errorCode, message = "fatal", "telegram-bot-token_lock", "Telegram bot token already in use (stand-in fatal configuration)."
	}
	if err := g.state.writePlatform(nil, "telegram", []kv{
		{keyPlatformState, platformState}, {keyErrorCode, errorCode}, {keyErrorMessage, message},
	}); err != nil {
		fmt.Fprintln(os.Stderr, "hermes-upstream-gateway: write state:", err)
	}
	reason := "telegram: " + message
	g.writeState(gateway.GatewayStartupFailed, &reason)
	g.removePIDFile()
	_ = g.lock.Unlock()
	say(upstreamgateway.ExitLine(code, gateway.GatewayStartupFailed))
	return code
}

// beginStop is runner.stop's start: no longer running, "draining" written
// at once and then every drain interval until the drain ends.
func (g *gw) beginStop() {
	if g.phase == phaseStopping {
		return
	}
	g.phase = phaseStopping
	if g.opts.drain > 0 {
		g.activeAgents = 1 // the work being drained
	}
	g.writeState(gateway.GatewayDraining, nil)
	say(upstreamgateway.DrainLine(g.opts.drain))
	g.drainEnd = time.After(g.opts.drain)
	if g.opts.drain > 0 && g.opts.drainInterval > 0 {
		g.ticker = time.NewTicker(g.opts.drainInterval)
		g.drainTick = g.ticker.C
	}
}

// finish is _stop_persist_exit_state and the exit after it: pid file and
// lock go first, then the terminal state: "running" after a stop from
// outside (so the gateway comes back), else "stopped".
func (g *gw) finish() int {
	if g.ticker != nil {
		g.ticker.Stop()
	}
	g.activeAgents = 0
	g.removePIDFile()
	_ = g.lock.Unlock()
	var reason *string
	code, final := gateway.ExitOK, gateway.GatewayStopped
	switch {
	case g.restartRequested:
		r := "Gateway restart requested"
		reason, code = &r, gateway.ExitRestart
	case g.signalInitiated:
		code, final = gateway.ExitFailed, gateway.GatewayRunning
	}
	g.writeState(final, reason)
	say(upstreamgateway.ExitLine(code, final))
	return code
}

// printHelp is `gateway run --help` as upstream's argparse prints it: the
// flags it takes, --external-supervisor only where that upstream has it.
func printHelp() {
	flags := []string{gateway.FlagReplace, upstreamgateway.FlagNoSupervise, upstreamgateway.FlagForce}
	if os.Getenv(upstreamgateway.EnvNoExternalSupervisorFlag) != "1" {
		flags = append(flags, upstreamgateway.FlagExternalSupervisor)
	}
	fmt.Printf("usage: hermes gateway run [-h] [-v] [-q] [%s]\n", strings.Join(flags, "] ["))
}

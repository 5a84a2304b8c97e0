package gateway

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/service"
)

// The runner's exit codes: what `hermes gateway run` (and the gateway it
// runs) tells the service manager. Every service definition maps them the
// same way: restart on ExitFailed, restart at once on ExitRestart, never
// restart on ExitConfig, leave down on ExitOK.
const (
	// ExitOK is a clean exit or a planned stop: leave it down.
	ExitOK = 0
	// ExitFailed is a failure or a stop from outside: restart it.
	ExitFailed = 1
	// ExitRestart is the gateway asking its supervisor for a restart.
	ExitRestart = 75
	// ExitConfig is a fatal configuration problem (EX_CONFIG): restarting
	// cannot help, so a supervisor must not.
	ExitConfig = 78
)

// Stop budgets. Upstream's gateway drains for up to a minute when asked to
// stop (its own systemd unit gives it at least 60 s): nothing that stops it
// may cut that short. The runner lets a plain-protocol child drain for
// Drain; a service manager's stop timeout is StopBudget, which covers the
// drain and the runner's own teardown around it.
const (
	Drain      = 60 * time.Second
	StopBudget = Drain + 30*time.Second
)

// StartBudget is how long a gateway may take from its start until it says
// it runs (gateway_state "running" under its own pid) before a service
// manager's readiness check gives up on it and the manager restarts it:
// long enough for a slow first connection at boot.
const StartBudget = 5 * time.Minute

// The stop budgets an operator may choose (install and register's
// --stop-timeout). Below MinStopBudget a gateway has no time to drain at all;
// past MaxStopBudget a stop is a hung gateway, not a drain, and every wait
// for it (an operator's `hermes gateway stop`, a machine's shutdown) would
// hang with it.
const (
	MinStopBudget = 10 * time.Second
	MaxStopBudget = time.Hour
)

// StopBudgetOf is the service manager's stop timeout for a chosen one: d, or
// StopBudget when none was chosen (d <= 0). Every backend reads the stop
// timeout of its options through it.
func StopBudgetOf(d time.Duration) time.Duration {
	if d <= 0 {
		return StopBudget
	}
	return d
}

// DrainWithin is the runner's child timeout (its --stop-timeout, under the
// plain protocol) for a service manager's stop budget: the budget less a
// margin of a third of it, at most 30 s, rounded down to whole seconds. The
// margin is the runner's own: once the child's timeout has passed, the runner
// kills the child, records the stop in the profile's state and exits, and all
// of that must happen before the manager's timeout kills the runner and
// leaves the state saying the gateway still runs. 30 s is the margin the
// default already keeps (StopBudget - Drain), so DrainWithin(StopBudget) is
// Drain; a third keeps a short budget's margin in proportion (10 s drains for
// 6 s) where a fixed 30 s would leave it nothing. A budget <= 0 is
// StopBudget.
func DrainWithin(budget time.Duration) time.Duration {
	budget = StopBudgetOf(budget)
	margin := min(30*time.Second, budget/3)
	return (budget - margin).Truncate(time.Second)
}

// DurationText is a duration as the runner's duration flags take it: whole
// seconds with their unit ("60s"), else Go's spelling.
func DurationText(d time.Duration) string {
	if d%time.Second == 0 {
		return Seconds(d) + "s"
	}
	return d.String()
}

// Seconds is a duration as service definitions spell it: whole seconds.
func Seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

// ExitText is an exit code as service definitions and scripts spell it.
func ExitText(code int) string { return strconv.Itoa(code) }

// Environment names: every variable hermes, its runner and its backends read
// or set, in one place, so a script, a unit and the code agree.
const (
	// EnvHome is the Hermes home: the default profile's folder. A service
	// sets it to the profile's own folder for the gateway it runs.
	EnvHome = "HERMES_HOME"
	// EnvSupervisedChild tells the gateway a supervisor runs it, so it does
	// not daemonise or redirect itself to one.
	EnvSupervisedChild = "HERMES_SUPERVISED_CHILD"
	// EnvS6SupervisedChild is upstream's s6-specific spelling of the same.
	EnvS6SupervisedChild = "HERMES_S6_SUPERVISED_CHILD"
	// EnvExternalSupervisor is set by upstream's `gateway run
	// --external-supervisor` for a supervisor that wraps the gateway.
	EnvExternalSupervisor = "HERMES_GATEWAY_EXTERNAL_SUPERVISOR"
	// EnvGatewayCommand is the gateway program a service runs, split as a
	// shell would split it (the default for --gateway-command).
	EnvGatewayCommand = "HERMES_GATEWAY_COMMAND"
	// EnvServiceBackend forces a backend instead of detecting one.
	EnvServiceBackend = "HERMES_SERVICE_BACKEND"
	// EnvPluginPath lists extra plugin folders, searched first.
	EnvPluginPath = "HERMES_PLUGIN_PATH"
	// EnvPluginTimeout bounds a plugin's start.
	EnvPluginTimeout = "HERMES_PLUGIN_TIMEOUT"
	// EnvDebug turns on every log line, the plugins' included.
	EnvDebug = "HERMES_DEBUG"
	// EnvUpstreamCLI is upstream's Python CLI, as a command line.
	EnvUpstreamCLI = "HERMES_UPSTREAM_CLI"
	// EnvS6ScanDir is the s6 scandir (default /run/service).
	EnvS6ScanDir = "HERMES_S6_SCANDIR"
	// EnvS6BinDir holds the s6 tools (default /command, else PATH).
	EnvS6BinDir = "HERMES_S6_BIN_DIR"
	// EnvS6User is the account s6 slots run the gateway as when started as
	// root; empty means no privilege drop.
	EnvS6User = "HERMES_S6_USER"
	// EnvS6Hermes is the hermes binary s6 run scripts execute.
	EnvS6Hermes = "HERMES_S6_HERMES"
	// EnvS6OverlayDir moves s6-overlay's run folder (default /run/s6),
	// where doctor learns it runs under s6-overlay and reads the
	// container's environment (tests).
	EnvS6OverlayDir = "HERMES_S6_OVERLAY_DIR"
	// EnvSystemdSystemDir and EnvSystemdLingerDir move the systemd
	// backend's system unit folder and linger folder (tests, chroots).
	EnvSystemdSystemDir = "HERMES_SYSTEMD_SYSTEM_DIR"
	EnvSystemdLingerDir = "HERMES_SYSTEMD_LINGER_DIR"
	// EnvSystemdScope=user puts the systemd backend in the user scope
	// even as root (`--user`): root's own user manager.
	EnvSystemdScope = "HERMES_SYSTEMD_SCOPE"
	// EnvLaunchdDaemonsDir moves launchd's daemon folder (tests).
	EnvLaunchdDaemonsDir = "HERMES_LAUNCHD_DAEMONS_DIR"
	// EnvNoSupervise is upstream's `gateway run --no-supervise` as a
	// variable: a bare `gateway run` inside an s6 container runs in the
	// foreground instead of starting its slot.
	EnvNoSupervise = "HERMES_GATEWAY_NO_SUPERVISE"
	// EnvGatewayMaxStarts and EnvGatewayStartWindow tune upstream's
	// respawn-storm brake (starts per window in seconds; 0 turns it off).
	EnvGatewayMaxStarts   = "HERMES_GATEWAY_MAX_STARTS"
	EnvGatewayStartWindow = "HERMES_GATEWAY_START_WINDOW_S"
	// EnvPluginCookie is the go-plugin handshake's magic cookie variable:
	// the host sets it, and a plugin run without it knows a person ran it.
	EnvPluginCookie = "HERMES_SERVICE_PLUGIN"
)

// OwnedVar is a variable hermes sets for the gateway itself, and what sets
// it: an operator's --env may not.
type OwnedVar struct {
	Name string
	// SetBy names the flag that sets it, or says that hermes does, for the
	// hint that refuses it.
	SetBy string
}

// OwnedEnv is every variable hermes sets for the gateway it runs: the home
// and the program it is given as flags, the variables that tell upstream's
// gateway a supervisor runs it. An extra environment (install and
// register's --env) that set one would give the service two values, and
// which one wins differs between backends; the host refuses it, naming
// what sets it instead.
var OwnedEnv = []OwnedVar{
	{EnvHome, "the service sets it to the profile's folder: choose the home with --home and the profile with -p"},
	{EnvGatewayCommand, "give the gateway program with --gateway-command"},
	{EnvSupervisedChild, "hermes sets it in every service it defines"},
	{EnvS6SupervisedChild, "hermes sets it in every s6 slot"},
	{EnvExternalSupervisor, "hermes's runner sets it for a gateway under --protocol hermes"},
}

// OwnedBy says what sets name when hermes owns it (OwnedEnv); ok is false
// for a variable an operator may set. Windows' names ignore case, and so
// does the match there.
func OwnedBy(name string) (setBy string, ok bool) {
	for _, v := range OwnedEnv {
		if v.Name == name || (runtime.GOOS == "windows" && strings.EqualFold(v.Name, name)) {
			return v.SetBy, true
		}
	}
	return "", false
}

// EnvPair is "NAME=value", for an environment list.
func EnvPair(name, value string) string { return name + "=" + value }

// The runner's command line: `hermes [-p PROFILE] gateway run [FLAGS]`.
const (
	// CommandGateway and CommandRun name the runner's subcommand.
	CommandGateway = "gateway"
	CommandRun     = "run"
	// The command lines of hermes's own extras, for hints and help: they
	// live under `gateway`, where the Hermes CLI's own doctor and plugins
	// do not collide with them.
	CommandLineDoctor       = "hermes " + CommandGateway + " doctor"
	CommandLinePlugins      = "hermes " + CommandGateway + " plugins"
	CommandLinePluginsCheck = CommandLinePlugins + " check"
	// CommandMarkStop marks the coming stop of a pid as planned (a service
	// manager's stop hook runs it); FlagPID names the pid.
	CommandMarkStop = "mark-stop"
	// CommandWaitReady returns once the gateway FlagPID names is up (its
	// state file says running for that pid), and fails once that process
	// is gone: a service manager's readiness hook (systemd's
	// ExecStartPost=) runs it.
	CommandWaitReady = "wait-ready"
	FlagPID          = "--pid"
	// FlagUnlessShutdown (with the manager's scope, system or user) makes
	// mark-stop write nothing while that manager is going down: a
	// shutdown, reboot or logout is no operator's stop.
	FlagUnlessShutdown = "--unless-shutdown"
	// FlagProfile selects the profile.
	FlagProfile = "-p"
	// FlagExternalSupervisor is newer upstream's `gateway run` flag for a
	// supervisor that wraps the gateway: it sets EnvExternalSupervisor, and
	// unlike the variable alone it authorises a --replace takeover.
	FlagExternalSupervisor = "--external-supervisor"
	// FlagFatalExit is the exit code the runner uses for a fatal
	// configuration, for a service manager that can spare only a clean exit
	// from its restarts (launchd's KeepAlive): the state file keeps the real
	// reason.
	FlagFatalExit = "--fatal-exit-code"
	// FlagProtocol says how the runner treats the gateway program: "hermes"
	// (it speaks upstream's protocol; the runner execs it) or "plain".
	FlagProtocol = "--protocol"
	// ProtocolHermes and ProtocolPlain are FlagProtocol's values.
	ProtocolHermes = "hermes"
	ProtocolPlain  = "plain"
	// FlagReplace takes over from a gateway already running for the
	// profile (upstream's own s6 run line uses it).
	FlagReplace = "--replace"
	// FlagStopTimeout is how long the runner lets the gateway drain after
	// asking it to stop.
	FlagStopTimeout = "--stop-timeout"
	// FlagNoSupervise keeps a bare `gateway run` in the foreground where it
	// would otherwise hand the gateway to its s6 slot (upstream's spelling;
	// EnvNoSupervise is the same as a variable).
	FlagNoSupervise = "--no-supervise"
)

// ProfileArgs is the -p part of a hermes command line for profile: nothing
// for the default profile.
func ProfileArgs(profile string) []string {
	if profile == service.DefaultProfile || profile == "" {
		return nil
	}
	return []string{FlagProfile, profile}
}

// ProfileText is ProfileArgs as text for a hint, with a trailing space when
// not empty: "hermes " + ProfileText(p) + "gateway start".
func ProfileText(profile string) string {
	if args := ProfileArgs(profile); len(args) > 0 {
		return args[0] + " " + args[1] + " "
	}
	return ""
}

// RunnerArgv is the argv a service executes for profile: hermes (the
// absolute path of the binary) then `[-p P] gateway run`, then extra runner
// flags.
func RunnerArgv(hermes, profile string, extra ...string) []string {
	argv := append([]string{hermes}, ProfileArgs(profile)...)
	argv = append(argv, CommandGateway, CommandRun)
	return append(argv, extra...)
}

// CommandHint is a hermes command for a hint: "hermes [-p P] gateway VERB".
func CommandHint(profile, verb string) string {
	return "hermes " + ProfileText(profile) + CommandGateway + " " + verb
}

// ProgramSeparator starts the gateway program in a runner's command line:
// `hermes gateway run [RUNNER FLAGS] -- PROGRAM [ARGS]`.
const ProgramSeparator = "--"

// AddRunnerFlags puts runner flags into a runner's command line: before the
// gateway program when the line names one, else at the end.
func AddRunnerFlags(argv []string, flags ...string) []string {
	i := slices.Index(argv, ProgramSeparator)
	if i < 0 {
		return append(slices.Clone(argv), flags...)
	}
	return slices.Concat(argv[:i], flags, argv[i:])
}

// RunnerProtocol is the --protocol a runner's command line asks for ("" when
// it names none: the runner's default).
func RunnerProtocol(argv []string) string {
	for i, a := range argv {
		if a == ProgramSeparator {
			break
		}
		if a == FlagProtocol && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

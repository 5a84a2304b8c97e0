package upstreamgateway

import (
	"fmt"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Knobs of the stand-in, for tests. Durations take Go's form ("20s",
// "150ms") or plain seconds ("20").
const (
	// EnvDrain is how long a stop drains before the gateway exits (default
	// DefaultDrain); it writes "draining" throughout.
	EnvDrain = "UPSTREAM_GATEWAY_DRAIN"
	// EnvDrainInterval is the pause between two "draining" writes (default
	// DefaultDrainInterval).
	EnvDrainInterval = "UPSTREAM_GATEWAY_DRAIN_INTERVAL"
	// EnvStartDelay keeps the gateway in "starting" that long.
	EnvStartDelay = "UPSTREAM_GATEWAY_START_DELAY"
	// EnvExit makes the gateway end by itself with that code, EnvExitAfter
	// (default DefaultExitAfter) after it reached "running": 0 a clean
	// stop, 75 a restart requested of the service manager, any other code
	// a crash (the process ends at once, nothing persisted or removed). 1
	// and 78 are startup failures instead, EnvExitAfter after the process
	// began, while "starting" (78: fatal configuration).
	EnvExit      = "UPSTREAM_GATEWAY_EXIT"
	EnvExitAfter = "UPSTREAM_GATEWAY_EXIT_AFTER"
	// EnvStateWriter picks upstream's writer of gateway_state.json:
	// WriterRMW (default) or WriterSnapshot.
	EnvStateWriter = "UPSTREAM_GATEWAY_STATE_WRITER"
	// EnvRMWGap pauses every state write between its read and its write,
	// widening the window in which another writer's change is lost.
	EnvRMWGap = "UPSTREAM_GATEWAY_RMW_GAP"
	// EnvMarkerWatcher=0 turns off the planned-stop marker watcher (older
	// upstream had none).
	EnvMarkerWatcher = "UPSTREAM_GATEWAY_MARKER_WATCHER"
	// EnvFutureMarkers=accept takes markers dated in the future, as
	// upstream's code does; by default one more than MarkerSkew ahead is
	// stale.
	EnvFutureMarkers = "UPSTREAM_GATEWAY_FUTURE_MARKERS"
	// EnvNoExternalSupervisorFlag=1 plays older upstream, whose `gateway
	// run` has no --external-supervisor: refused, and not in its --help.
	EnvNoExternalSupervisorFlag = "UPSTREAM_GATEWAY_NO_EXTERNAL_SUPERVISOR_FLAG"
)

// Upstream's own environment names the stand-in reads.
const (
	// EnvMaxStarts and EnvStartWindow tune the respawn-storm breaker: more
	// than EnvMaxStarts starts (default 5) within EnvStartWindow seconds
	// (default 120) back the next start off; 0 starts turns it off.
	EnvMaxStarts   = gateway.EnvGatewayMaxStarts
	EnvStartWindow = gateway.EnvGatewayStartWindow
	// EnvNoSupervise is --no-supervise as a variable.
	EnvNoSupervise = gateway.EnvNoSupervise
	// EnvInvocationID (systemd) and EnvXPCServiceName (launchd, other than
	// "0") mark a supervised child, as HERMES_S6_SUPERVISED_CHILD and
	// HERMES_GATEWAY_EXTERNAL_SUPERVISOR do (gateway.Env*).
	EnvInvocationID   = "INVOCATION_ID"
	EnvXPCServiceName = "XPC_SERVICE_NAME"
)

// Upstream's `gateway run` flags besides gateway.FlagReplace.
const (
	FlagExternalSupervisor = gateway.FlagExternalSupervisor
	FlagNoSupervise        = gateway.FlagNoSupervise
	FlagForce              = "--force"
)

// State writers (EnvStateWriter).
const (
	// WriterRMW re-reads the file at every write (upstream until its
	// snapshot writer): a change another writer makes between that read
	// and the write is lost.
	WriterRMW = "rmw"
	// WriterSnapshot is newer upstream: a snapshot read once, at the first
	// write, is laid over the file at every write, so the fields it holds
	// (desired_state too, when present then) go back to their old values.
	WriterSnapshot = "snapshot"
)

// Defaults.
const (
	DefaultDrain         = 200 * time.Millisecond
	DefaultDrainInterval = 100 * time.Millisecond
	DefaultExitAfter     = 100 * time.Millisecond
	// MarkerSkew is how far in the future a marker's written_at may be.
	MarkerSkew = gateway.MarkerSkew
	// WatchInterval is how often the planned-stop watcher looks, as
	// upstream's.
	WatchInterval = 500 * time.Millisecond
)

// Why a stop was classified as it was (StopLine).
const (
	ReasonTakeover  = "takeover" // a takeover marker named this gateway
	ReasonInterrupt = "sigint"   // SIGINT (Ctrl-C on Windows)
	ReasonMarker    = "marker"   // a valid planned-stop marker named it
	ReasonNone      = "none"     // nothing did: a stop from outside
	ReasonExitEnv   = "exit-env" // EnvExit=0
	// SignalNone is the signal of a stop no signal started (the marker
	// watcher, EnvExit).
	SignalNone = "none"
)

// LinePrefix starts every line the stand-in prints about itself.
const LinePrefix = "upstream gateway: "

func line(format string, args ...any) string { return LinePrefix + fmt.Sprintf(format, args...) }

// StartLine: the process began, before any guard.
func StartLine(pid int, home string) string { return line("start pid=%d home=%s", pid, home) }

// SupervisedLine is is_gateway_supervisor_process's answer: by names the
// variable that decided ("-" for none).
func SupervisedLine(by string, externalFlag, noSupervise bool) string {
	if by == "" {
		by = "-"
	}
	return line("supervised=%t by=%s external_supervisor_flag=%t no_supervise=%t", by != "-", by, externalFlag, noSupervise)
}

// StormLine: the respawn-storm breaker holds this start back.
func StormLine(backoff time.Duration) string { return line("respawn storm backoff=%s", backoff) }

// DuplicateLine: a live gateway owns the home; this one exits 1.
func DuplicateLine(pid int) string { return line("duplicate pid=%d", pid) }

// RaceLine: another gateway took file (gateway.lock, gateway.pid) between
// the guard and the claim; this one exits 1.
func RaceLine(file string) string { return line("lost start race on=%s", file) }

// ReplaceLine and ReplacedLine bracket a --replace takeover of target.
func ReplaceLine(target int) string  { return line("replace target=%d", target) }
func ReplacedLine(target int) string { return line("replaced target=%d", target) }

// RunningLine: the gateway wrote gateway_state "running".
func RunningLine(pid int) string { return line("running pid=%d", pid) }

// StopLine is a stop's classification; one per signal or trigger, so a
// second signal during a stop prints a second line.
func StopLine(signal string, planned bool, reason string) string {
	return line("stop signal=%s planned=%t reason=%s", signal, planned, reason)
}

// RestartLine: a restart through the service manager was asked for (exit 75).
func RestartLine(via string) string { return line("restart via=%s", via) }

// DrainLine: the stop drains this long.
func DrainLine(d time.Duration) string { return line("draining for=%s", d) }

// ExitLine: the last line, with the gateway_state the gateway left.
func ExitLine(code int, state string) string { return line("exit code=%d state=%s", code, state) }

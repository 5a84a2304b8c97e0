package service

import (
	"context"
	"time"
)

// Kinds of the backends that ship with hermes. Out-of-tree backends pick
// their own name; it must be a valid profile-style name (lower case, digits,
// "-" and "_") because it becomes part of the plugin's file name.
const (
	KindS6      = "s6"
	KindSystemd = "systemd"
	KindLaunchd = "launchd"
	KindWindows = "windows"
)

// Manager is everything a backend does. It is a union of small interfaces so
// that code which needs only a part (a status printer, a log tailer) can ask
// for just that part.
type Manager interface {
	Describer
	Lifecycle
	Registry
	LogReader
	Diagnoser
}

// Describer tells who a backend is and what it can do.
type Describer interface {
	// Identify returns the backend's kind, version and capabilities. It must
	// be cheap: the host calls it on every launch.
	Identify(ctx context.Context) (Identity, error)
}

// Lifecycle manages one profile's gateway as a service of the host's init
// system.
type Lifecycle interface {
	// Install writes the service definition for profile and, when asked,
	// enables and starts it. An existing definition is an *AlreadyExistsError
	// unless opts.Force is set.
	Install(ctx context.Context, profile string, opts InstallOptions) error
	// Uninstall stops and removes the service definition. Uninstalling a
	// profile that is not installed is not an error.
	Uninstall(ctx context.Context, profile string) error
	// Start, Stop and Restart act on an installed (or registered) profile;
	// a missing one is a *NotInstalledError or *NotRegisteredError. Stop
	// marks the stop as planned before the gateway receives its signal, and
	// all three record the operator's desired state.
	Start(ctx context.Context, profile string) error
	Stop(ctx context.Context, profile string) error
	Restart(ctx context.Context, profile string) error
	// Status reports one profile. A profile that is not installed is not an
	// error: it comes back with Installed false.
	Status(ctx context.Context, profile string) (Status, error)
	// Statuses reports many profiles in one call, in the order asked. An
	// empty list means every profile the backend knows of. Backends without
	// a cheaper way may return an *UnsupportedError: the plugin server then
	// falls back to calling Status for each profile, a few at a time.
	Statuses(ctx context.Context, profiles []string) ([]Status, error)
}

// Registry registers profile gateways at run time (s6 today). Backends
// without it return an *UnsupportedError from Register and Unregister, and an
// empty list from List.
type Registry interface {
	// Register adds a profile's gateway. An existing registration is an
	// *AlreadyExistsError.
	Register(ctx context.Context, profile string, opts RegisterOptions) error
	// Unregister stops and removes a registration; a missing one is a no-op.
	Unregister(ctx context.Context, profile string) error
	// List returns the registered profiles, sorted.
	List(ctx context.Context) ([]string, error)
	// Reconcile registers every entry, replacing a registration that
	// exists, and clears what interrupted registrations left behind. It is
	// one call so that a container's boot with many profiles costs one
	// rescan of the supervision tree, not one per profile.
	Reconcile(ctx context.Context, entries []Registration) error
}

// Registration is one profile to register, for Reconcile.
type Registration struct {
	Profile string
	RegisterOptions
}

// LogReader reads a profile's gateway log.
type LogReader interface {
	// Logs sends the last opts.Lines lines of the profile's gateway log to
	// emit, oldest first, then, with opts.Follow, every new line until ctx is
	// done (which then is not an error). An error from emit stops the read
	// and is returned.
	Logs(ctx context.Context, profile string, opts LogOptions, emit func(LogLine) error) error
}

// Identity is who a backend is.
type Identity struct {
	// Kind is the backend's name: "s6", "systemd", ... or an out-of-tree one.
	Kind string
	// Version is the backend's own version, free-form (e.g. "v1.2.0").
	Version string
	// Capabilities says which optional parts of the contract it implements.
	Capabilities Capabilities
}

// Capabilities lists the optional parts of the contract a backend
// implements. Whatever is false answers with an *UnsupportedError.
type Capabilities struct {
	// Install: Install and Uninstall write and remove service definitions.
	Install bool
	// Registration: Register, Unregister and List work at run time.
	Registration bool
	// Logs: Logs returns recent lines.
	Logs bool
	// FollowLogs: Logs with Follow keeps streaming.
	FollowLogs bool
	// SystemScope: Install honours InstallOptions.System.
	SystemScope bool
	// ElevatedHandoff: Install honours InstallOptions.ElevatedHandoff.
	ElevatedHandoff bool
}

// InstallOptions are the operator's choices for Install.
type InstallOptions struct {
	// Force replaces an existing service definition.
	Force bool
	// StartNow starts the service once installed.
	StartNow bool
	// StartOnLogin enables the service at boot (system scope) or login
	// (user scope).
	StartOnLogin bool
	// ElevatedHandoff lets the backend re-run the operation elevated
	// (Windows UAC) instead of failing with a *PermissionError.
	ElevatedHandoff bool
	// System installs a system-wide service instead of a per-user one.
	System bool
	// RunAsUser is the account a system-scope service runs as.
	RunAsUser string
	// Env is extra environment for the gateway. Keys must be valid shell
	// identifiers; see ValidateEnv.
	Env map[string]string
	// Command is the whole argv the service executes to run this profile's
	// gateway, e.g. ["/usr/bin/hermes", "-p", "work", "gateway", "run"]
	// (gateway.RunnerArgv builds it), with an absolute program path. The
	// host builds it; a backend runs it as given, and may only append
	// runner flags its init system needs (gateway.FlagFatalExit, ...).
	Command []string
	// StopTimeout is the service manager's stop timeout: how long a stop
	// may take before the manager kills what is left of the service. 0
	// means gateway.StopBudget (backends read it through
	// gateway.StopBudgetOf); a negative one is invalid (ValidateStopTimeout).
	// Under the plain protocol the host has already put the runner's
	// matching child timeout into Command (gateway.DrainWithin).
	StopTimeout time.Duration
}

// RegisterOptions are the operator's choices for Register.
type RegisterOptions struct {
	// StartNow starts the gateway as soon as it is registered.
	StartNow bool
	// Env is extra environment for the gateway; see ValidateEnv.
	Env map[string]string
	// Command is as in InstallOptions.
	Command []string
	// StopTimeout is as in InstallOptions.
	StopTimeout time.Duration
	// Force replaces an existing registration's definition with this one,
	// restarting a running gateway only when the definition changed;
	// without it an existing registration is an *AlreadyExistsError.
	Force bool
}

// DefaultLogLines is how many recent lines Logs sends when not told.
const DefaultLogLines = 50

// LogOptions select what Logs returns.
type LogOptions struct {
	// Lines is how many recent lines to send first; 0 means
	// DefaultLogLines (the plugin server fills it in before the backend
	// sees the call).
	Lines int
	// Follow keeps streaming new lines until the context is done.
	Follow bool
}

// LogLine is one line of a gateway log.
type LogLine struct {
	// Time is when the line was written, the zero time when unknown.
	Time time.Time
	// Text is the line without its trailing newline.
	Text string
}

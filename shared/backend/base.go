package backend

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Base is what every backend repeats. Its zero value is not usable: build
// it with NewBase (production) or NewBaseFor (a given home, for tests).
type Base struct {
	service.Unimplemented
	ident service.Identity
	log   hclog.Logger
	home  gateway.Home
}

// Identity is who a backend says it is. Version is the build's -ldflags -X
// value ("" for a development build, which then reports the module version
// Go recorded, or "(devel)").
type Identity struct {
	Kind         string
	Version      string
	Capabilities service.Capabilities
}

// Settings is what every backend's configuration starts with (embed it):
// the Hermes home the backend serves and its logger.
type Settings struct {
	// Home is the Hermes home's root.
	Home string
	// Log is the backend's logger; nil discards.
	Log hclog.Logger
}

// SettingsFromEnv are the settings of a plugin the host launched: the home
// it passes ($HERMES_HOME, else ~/.hermes) and log. A home that cannot be
// found is a configuration error.
func SettingsFromEnv(log hclog.Logger) (Settings, error) {
	root, err := gateway.DefaultRoot()
	if err != nil {
		return Settings{}, err
	}
	return Settings{Home: root, Log: log}, nil
}

// Base is the base for a backend with these settings and identity.
func (s Settings) Base(id Identity) Base { return NewBaseFor(id, s.Home, s.Log) }

// NewBase is the base for a backend serving the Hermes home of this
// process's environment ($HERMES_HOME, else ~/.hermes). A home that cannot
// be found is a configuration error.
func NewBase(id Identity, log hclog.Logger) (Base, error) {
	s, err := SettingsFromEnv(log)
	if err != nil {
		return Base{}, err
	}
	return s.Base(id), nil
}

// NewBaseFor is the base for a backend serving the home whose root is
// root. A nil log discards.
func NewBaseFor(id Identity, root string, log hclog.Logger) Base {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return Base{
		Unimplemented: service.Unimplemented{Kind: id.Kind},
		ident: service.Identity{Kind: id.Kind, Version: plugin.BuildVersion(id.Version),
			Capabilities: id.Capabilities},
		log:  log,
		home: gateway.Home{Root: root},
	}
}

// Identify reports the identity the base was built with.
func (b *Base) Identify(context.Context) (service.Identity, error) { return b.ident, nil }

// Kind is the backend's kind.
func (b *Base) Kind() string { return b.ident.Kind }

// Log is the backend's logger.
func (b *Base) Log() hclog.Logger { return b.log }

// Home is the Hermes home the backend serves.
func (b *Base) Home() gateway.Home { return b.home }

// ProfileDir is the folder of profile in the home; an invalid name is an
// *service.InvalidProfileError.
func (b *Base) ProfileDir(profile string) (string, error) { return b.home.ProfileDir(profile) }

// RecordDesired writes the operator's intent for profile, best effort: the
// init system's state is what matters, the record guides the next boot. A
// failure is logged and returned for callers that want to say more.
func (b *Base) RecordDesired(profile, desired string) error {
	dir, err := b.ProfileDir(profile)
	if err == nil {
		err = gateway.SetDesiredState(dir, desired)
	}
	if err != nil {
		b.log.Warn("could not record the desired state", "profile", profile, "desired", desired, "error", err)
		return fmt.Errorf("record the %s gateway's desired state %q: %w", profile, desired, err)
	}
	return nil
}

// MarkPlannedStop writes the planned-stop marker naming pid, the process
// that is about to receive the stop signal, before a backend stops the
// profile's gateway. Best effort by contract: a failure is logged, reported
// as false, and never blocks the stop.
func (b *Base) MarkPlannedStop(profile string, pid int) bool {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		b.log.Warn("could not mark the stop as planned", "profile", profile, "error", err)
		return false
	}
	return gateway.MarkPlannedStop(b.log, dir, pid)
}

// BaseStatus is the part of a status every backend fills the same way: the
// profile, the backend, the unit (slot, plist, service) it concerns, the
// state "stopped" until the backend says better, and the operator's
// recorded intent from gateway_state.json.
func (b *Base) BaseStatus(profile, unit string) service.Status {
	st := service.Status{Profile: profile, Backend: b.ident.Kind, State: service.StateStopped}
	if unit != "" {
		st.Unit = new(unit)
	}
	if dir, err := b.ProfileDir(profile); err == nil {
		if gs, err := gateway.ReadState(dir); err == nil && gs.DesiredState() != "" {
			st.DesiredState = new(gs.DesiredState())
		}
	}
	return st
}

// LogLines is the number of lines a Logs call sends first: n, or the
// contract's default when n is 0 or less.
func LogLines(n int) int {
	if n <= 0 {
		return service.DefaultLogLines
	}
	return n
}

// InstallDir checks what every Install must refuse before it touches
// anything (the profile name, the environment's keys, a runner argv a
// service cannot execute) and returns the profile's folder.
func (b *Base) InstallDir(profile string, opts service.InstallOptions) (string, error) {
	if err := service.ValidateProfile(profile); err != nil {
		return "", err
	}
	if err := service.ValidateEnv(opts.Env); err != nil {
		return "", err
	}
	if err := CheckCommand(opts.Command); err != nil {
		return "", err
	}
	return b.ProfileDir(profile)
}

// CheckCommand refuses a runner argv a service cannot execute at boot: an
// empty one, or one whose program is not an absolute path (a service does
// not get the installing shell's PATH).
func CheckCommand(argv []string) error {
	if len(argv) == 0 || !filepath.IsAbs(argv[0]) {
		return &service.InvalidOptionError{Option: "command", Value: strings.Join(argv, " "),
			Reason: "the service needs the absolute path of the hermes binary"}
	}
	return nil
}

// FromConfig is a backend's plugin factory: read its configuration from
// the environment the host passes (a failure is a configuration error,
// exit 78), then build it.
//
//	var FromEnv = backend.FromConfig(ConfigFromEnv, New)
func FromConfig[C any, M service.Manager](read func(hclog.Logger) (C, error), build func(C) M) plugin.Factory {
	return func(log hclog.Logger) (service.Manager, error) {
		cfg, err := read(log)
		if err != nil {
			return nil, err
		}
		return build(cfg), nil
	}
}

// OperatorStop is an operator's stop of profile's gateway, in the order the
// contract asks for. The intent is recorded first, so a reader during the
// gateway's drain already sees it; the stop is marked as planned for pid,
// the process that will receive the stop signal (the gateway itself under
// the hermes protocol; 0 when nothing runs); then stop signals and returns
// once the gateway is down. A stop that fails takes back the marker and the
// intent it replaced, so a later stop from outside is not read as this one.
// Once the gateway is down the intent is said again: a gateway writing its
// own state while it drained may have written back what it read before.
func (b *Base) OperatorStop(profile string, pid int, stop func() error) error {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return err
	}
	prior := ""
	if st, err := gateway.ReadState(dir); err == nil {
		prior = st.DesiredState()
	}
	_ = b.RecordDesired(profile, service.DesiredStopped)
	marked := pid > 0 && b.MarkPlannedStop(profile, pid)
	if err := stop(); err != nil {
		if marked {
			gateway.ConsumeMarker(dir, pid)
		}
		if prior != "" && prior != service.DesiredStopped {
			_ = b.RecordDesired(profile, prior)
		}
		return err
	}
	if st, err := gateway.ReadState(dir); err != nil || st.DesiredState() != service.DesiredStopped {
		_ = b.RecordDesired(profile, service.DesiredStopped)
	}
	return nil
}

// OperatorStart is an operator's start of profile's gateway: the intent is
// recorded as running first, then start brings the gateway up. First,
// because a gateway that starts writes its own state file with a
// read-modify-write that takes no lock (upstream's): written after, the
// intent could read the state the gateway was about to replace and write
// it back, and a gateway that said "running" would read "starting" until
// it next writes. A start that fails takes back the intent it replaced.
func (b *Base) OperatorStart(profile string, start func() error) error {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return err
	}
	prior := ""
	if st, err := gateway.ReadState(dir); err == nil {
		prior = st.DesiredState()
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	if err := start(); err != nil {
		if prior != "" && prior != service.DesiredRunning {
			_ = b.RecordDesired(profile, prior)
		}
		return err
	}
	return nil
}

// OperatorRestart is an operator's restart of profile's gateway: a planned
// stop, then a start, the contract's one meaning of Restart on every
// backend. The intent is recorded as running first and stays so: a restart
// never means "stay down", and a reboot in the middle of one brings the
// gateway back. The stop is marked as planned for pid, the process that
// will receive the stop signal (0 when nothing runs: then only start
// runs), so the gateway records an operator's stop rather than one from
// outside; stop signals and returns once the gateway is down; start brings
// it up again. A stop that fails takes its marker back. The intent is said
// again before start: a plain-protocol runner records "stopped" on the
// planned stop it was given.
func (b *Base) OperatorRestart(profile string, pid int, stop, start func() error) error {
	dir, err := b.ProfileDir(profile)
	if err != nil {
		return err
	}
	_ = b.RecordDesired(profile, service.DesiredRunning)
	if pid > 0 {
		marked := b.MarkPlannedStop(profile, pid)
		if err := stop(); err != nil {
			if marked {
				gateway.ConsumeMarker(dir, pid)
			}
			return err
		}
		_ = b.RecordDesired(profile, service.DesiredRunning)
	}
	return start()
}

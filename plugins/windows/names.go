package windows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// serviceNames names the profiles' services: hermes-gateway for the
// default profile, hermes-gateway-<profile> otherwise.
var serviceNames = service.Naming{Default: "hermes-gateway", Prefix: "hermes-gateway-"}

// ServiceName is the Windows service of profile.
func ServiceName(profile string) string { return serviceNames.Name(profile) }

// DisplayName is what services.msc shows.
func DisplayName(profile string) string { return "Hermes gateway (" + profile + ")" }

// Description is the service's description.
const Description = "Keeps the Hermes messaging gateway running: runs `hermes gateway run` for one profile."

// Spec is what the service mode needs to run a profile's gateway; it
// travels in the service's command line.
type Spec struct {
	Profile string
	Home    string
	// Command is the runner's whole argv (gateway.RunnerArgv); [0] is the
	// absolute path of hermes.exe.
	Command []string
	Env     map[string]string
	// StopTimeout is how long the wrapper lets the runner take to stop
	// before it ends it: the service's stop budget (its --stop-timeout;
	// gateway.StopBudget for a service made before there was one).
	StopTimeout time.Duration
}

// ServiceArgs are the arguments after the binary in the service's command
// line (the SCM's ImagePath); ParseServiceArgs reads them back.
func (s Spec) ServiceArgs() []string {
	args := []string{ServiceModeName, "--profile", s.Profile, "--home", s.Home,
		flagStopTimeout, gateway.DurationText(gateway.StopBudgetOf(s.StopTimeout))}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		args = append(args, "--env", k+"="+s.Env[k])
	}
	return append(append(args, "--"), s.Command...)
}

// Check refuses, before the service is created, a spec whose command line
// the SCM could not keep as given, as an *service.InvalidOptionError
// (exit 2) naming the option the value came from. mgr.CreateService quotes
// each word with syscall.EscapeArg, which CommandLineToArgvW and Go's own
// parser read back exactly for any text; but the SCM keeps the line as
// ImagePath, a REG_EXPAND_SZ it expands (%NAME% becomes the variable) when
// it starts the service, and that expansion has no escape, so no word may
// hold a %. The line is UTF-16: a word must be valid UTF-8 (else it would
// arrive with U+FFFD in it) without NUL. exe is the service's program,
// the plugin's own binary.
func (s Spec) Check(exe string) error {
	if p := commandLineProblem(exe); p != "" {
		return &service.InvalidOptionError{Option: "command", Value: exe, Reason: "the service's program (this plugin) " + p}
	}
	if p := commandLineProblem(s.Home); p != "" {
		return &service.InvalidOptionError{Option: "home", Value: s.Home, Reason: p}
	}
	for k, v := range s.Env {
		if p := commandLineProblem(k + "=" + v); p != "" {
			return &service.InvalidOptionError{Option: "env", Value: k, Reason: p}
		}
	}
	for _, w := range s.Command {
		if p := commandLineProblem(w); p != "" {
			return &service.InvalidOptionError{Option: "command", Value: w, Reason: p}
		}
	}
	return nil
}

// commandLineProblem says why s cannot be a word of a service's command
// line (see Spec.Check), "" when it can.
func commandLineProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8, which a Windows command line cannot carry"
	case strings.ContainsRune(s, 0):
		return "holds a NUL byte"
	case strings.ContainsRune(s, '%'):
		return "holds a %, which the Service Control Manager would expand as %NAME% when it starts the service (it has no escape for it)"
	}
	return ""
}

// flagStopTimeout carries Spec.StopTimeout in the service's command line.
const flagStopTimeout = "--stop-timeout"

// ParseServiceArgs reads ServiceArgs (without the leading "service").
func ParseServiceArgs(args []string) (Spec, error) {
	s := Spec{Env: map[string]string{}, StopTimeout: gateway.StopBudget}
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			s.Command = args[i+1:]
			break
		}
		if i+1 >= len(args) {
			return Spec{}, fmt.Errorf("service mode: %s needs a value", args[i])
		}
		v := args[i+1]
		switch args[i] {
		case "--profile":
			s.Profile = v
		case "--home":
			s.Home = v
		case flagStopTimeout:
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Spec{}, fmt.Errorf("service mode: %s %q: want a positive duration", flagStopTimeout, v)
			}
			s.StopTimeout = d
		case "--env":
			k, val, ok := strings.Cut(v, "=")
			if !ok {
				return Spec{}, fmt.Errorf("service mode: --env %q: want KEY=VALUE", v)
			}
			s.Env[k] = val
		default:
			return Spec{}, fmt.Errorf("service mode: unknown argument %q", args[i])
		}
		i++
	}
	if err := service.ValidateProfile(s.Profile); err != nil {
		return Spec{}, err
	}
	if s.Home == "" || len(s.Command) == 0 {
		return Spec{}, errors.New("service mode: --home and the runner's command line after -- are required")
	}
	return s, nil
}

// Start types, as the SCM numbers them.
const (
	startAutomatic = 2
	startManual    = 3
)

// startType maps "start on login" (for a service: at boot) to the SCM's
// start type: automatic, delayed so the gateway does not slow the boot,
// else manual.
func startType(startOnLogin bool) (kind uint32, delayed bool) {
	if startOnLogin {
		return startAutomatic, true
	}
	return startManual, false
}

// RunExit tells the wrapper what to do when the runner exits on its own:
// report Stopped (true) for a clean exit or a fatal configuration, which
// must not be restarted; otherwise end without reporting, so the SCM's
// recovery actions restart it.
func RunExit(code int) (reportStopped bool) {
	return code == gateway.ExitOK || code == gateway.ExitConfig
}

// ServiceModeName is the first argument that runs the plugin's binary as a
// profile's service process (see ServiceMode).
const ServiceModeName = "service"

package windows

import (
	"errors"
	"fmt"
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

// Spec is what the service mode needs to run a profile's gateway. All but
// Env travels in the service's command line (ServiceArgs); Env is kept in
// the profile's EnvFile, off the command line.
type Spec struct {
	Profile string
	Home    string
	// Command is the runner's whole argv (gateway.RunnerArgv); [0] is the
	// absolute path of hermes.exe.
	Command []string
	// Env is the operator's extra environment for the gateway (--env). It
	// never goes into the command line: the SCM expands %NAME% there, and
	// anyone who may query the service's configuration reads it. Install
	// writes it to EnvFile, readable by the service account and
	// Administrators only, and the service process reads it from there.
	Env map[string]string
	// StopTimeout is how long the wrapper lets the runner take to stop
	// before it ends it: the service's stop budget (its --stop-timeout;
	// gateway.StopBudget for a service made before there was one).
	StopTimeout time.Duration
	// StartAtBoot is the operator's choice of an automatic service (install
	// --start-on-login). An operator's stop makes the service manual, so it
	// stays stopped across a reboot; a start makes it automatic again when
	// this is set (see PersistedStartType).
	StartAtBoot bool
}

// EnvFile holds a service's extra environment (Spec.Env) in the profile
// home: a JSON object of names to values, each value byte for byte. Install
// writes it with a protected ACL (SYSTEM and Administrators only), and the
// service process refuses one that others could have written or may read.
// It is hermes's own; upstream never reads it.
const EnvFile = ".hermes-service-env.json"

// ServiceArgs are the arguments after the binary in the service's command
// line (the SCM's ImagePath); ParseServiceArgs reads them back.
func (s Spec) ServiceArgs() []string {
	args := []string{ServiceModeName, "--profile", s.Profile, "--home", s.Home,
		flagStopTimeout, gateway.DurationText(gateway.StopBudgetOf(s.StopTimeout))}
	if s.StartAtBoot {
		args = append(args, flagStartAtBoot)
	}
	return append(append(args, "--"), s.Command...)
}

// Check refuses, before the service is created, a spec the service could
// not keep as given, as an *service.InvalidOptionError (exit 2) naming the
// option the value came from. mgr.CreateService quotes each word with
// syscall.EscapeArg, which CommandLineToArgvW and Go's own parser read back
// exactly for any text; but the SCM keeps the line as ImagePath, a
// REG_EXPAND_SZ it expands (%NAME% becomes the variable) when it starts the
// service, and that expansion has no escape, so no word may hold a %. The
// line is UTF-16: a word must be valid UTF-8 (else it would arrive with
// U+FFFD in it) without NUL. The environment is not in the line, so a % is
// its own there; it goes into the gateway's environment block, UTF-16 and
// NUL-terminated, so the same two encoding rules hold. exe is the service's
// program, the plugin's own binary.
func (s Spec) Check(exe string) error {
	if p := commandLineProblem(exe); p != "" {
		return &service.InvalidOptionError{Option: "command", Value: exe, Reason: "the service's program (this plugin) " + p}
	}
	if p := commandLineProblem(s.Home); p != "" {
		return &service.InvalidOptionError{Option: "home", Value: s.Home, Reason: p}
	}
	for k, v := range s.Env {
		if p := encodingProblem(k + "=" + v); p != "" {
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
	if p := encodingProblem(s); p != "" {
		return p
	}
	if strings.ContainsRune(s, '%') {
		return "holds a %, which the Service Control Manager would expand as %NAME% when it starts the service (it has no escape for it)"
	}
	return ""
}

// encodingProblem says why s cannot be Windows text (UTF-16, NUL-ended),
// "" when it can.
func encodingProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8, which Windows (UTF-16) cannot carry"
	case strings.ContainsRune(s, 0):
		return "holds a NUL byte"
	}
	return ""
}

// flagStopTimeout carries Spec.StopTimeout in the service's command line,
// flagStartAtBoot Spec.StartAtBoot.
const (
	flagStopTimeout = "--stop-timeout"
	flagStartAtBoot = "--start-at-boot"
)

// ParseServiceArgs reads ServiceArgs (without the leading "service").
func ParseServiceArgs(args []string) (Spec, error) {
	s := Spec{Env: map[string]string{}, StopTimeout: gateway.StopBudget}
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			s.Command = args[i+1:]
			break
		}
		if args[i] == flagStartAtBoot {
			s.StartAtBoot = true
			continue
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
			// A service made before EnvFile had its environment here.
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

// PersistedStartType is the start type that keeps the operator's intent
// across a reboot, where Windows starts every automatic service again: an
// operator's stop (stopped) leaves the service manual, so the gateway stays
// down at the next boot as the operator left it; a start leaves it as the
// operator installed it (automatic when started at boot). An SCM Shutdown
// is no operator's stop and changes nothing: the service comes back with
// the machine.
func PersistedStartType(startAtBoot, stopped bool) uint32 {
	if startAtBoot && !stopped {
		return startAutomatic
	}
	return startManual
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

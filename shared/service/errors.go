package service

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Sentinels for errors.Is. Each typed error below matches its sentinel, so a
// caller that does not need the fields can write errors.Is(err, ErrNotFound).
var (
	ErrInvalidProfile = errors.New("invalid profile name")
	ErrInvalidOption  = errors.New("invalid option")
	ErrNotFound       = errors.New("not registered or not installed")
	ErrAlreadyExists  = errors.New("already exists")
	ErrCommandFailed  = errors.New("command failed")
	ErrUnsupported    = errors.New("unsupported")
	ErrPermission     = errors.New("permission denied")
)

// Hinter is implemented by errors that know what the person should do next.
type Hinter interface {
	Hint() string
}

// HintOf returns the first hint found along err's chain, or "".
func HintOf(err error) string {
	var h Hinter
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// InvalidProfileError is a profile name that fails validation.
type InvalidProfileError struct {
	Name   string
	Reason string
}

func (e *InvalidProfileError) Error() string {
	return fmt.Sprintf("invalid profile name %q: %s", e.Name, e.Reason)
}

// Hint says what a valid name looks like.
func (e *InvalidProfileError) Hint() string {
	return "a profile name is 1 to 64 lower-case letters, digits, '-' or '_', and starts with a letter or digit (e.g. -p work)"
}

// Is matches ErrInvalidProfile.
func (e *InvalidProfileError) Is(target error) bool { return target == ErrInvalidProfile }

// InvalidOptionError is an option value the backend refuses (an environment
// key that is not a shell identifier, a user that does not exist, ...).
type InvalidOptionError struct {
	Option string
	Value  string
	Reason string
}

func (e *InvalidOptionError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Option, e.Value, e.Reason)
}

// Hint points at the option: a flag, or an environment variable (an
// upper-case name, such as HERMES_S6_USER).
func (e *InvalidOptionError) Hint() string {
	if e.Option != "" && strings.ToUpper(e.Option) == e.Option {
		return fmt.Sprintf("fix %s in the environment and run the command again", e.Option)
	}
	return fmt.Sprintf("fix the --%s value and run the command again", e.Option)
}

// Is matches ErrInvalidOption.
func (e *InvalidOptionError) Is(target error) bool { return target == ErrInvalidOption }

// NotRegisteredError is lifecycle on a profile that has no runtime
// registration (an s6 slot).
type NotRegisteredError struct {
	Profile string
	// Service is the slot the profile would have, e.g. "gateway-work".
	Service string
	// HintText overrides the default hint.
	HintText string
}

func (e *NotRegisteredError) Error() string {
	return fmt.Sprintf("profile %q is not registered%s", e.Profile, inParens(e.Service))
}

// Hint names the command that registers the profile.
func (e *NotRegisteredError) Hint() string {
	if e.HintText != "" {
		return e.HintText
	}
	return "register it first: hermes " + profileFlag(e.Profile) + "gateway register"
}

// Is matches ErrNotFound.
func (e *NotRegisteredError) Is(target error) bool { return target == ErrNotFound }

// NotInstalledError is lifecycle on a profile with no service definition
// (unit, plist, service).
type NotInstalledError struct {
	Profile string
	// Service is the unit, plist or service the profile would have.
	Service  string
	HintText string
}

func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("profile %q is not installed%s", e.Profile, inParens(e.Service))
}

// Hint names the command that installs the profile.
func (e *NotInstalledError) Hint() string {
	if e.HintText != "" {
		return e.HintText
	}
	return "install it first: hermes " + profileFlag(e.Profile) + "gateway install"
}

// Is matches ErrNotFound.
func (e *NotInstalledError) Is(target error) bool { return target == ErrNotFound }

// AlreadyExistsError is a registration or installation that already exists.
type AlreadyExistsError struct {
	Profile  string
	Service  string
	HintText string
}

func (e *AlreadyExistsError) Error() string {
	return fmt.Sprintf("profile %q already exists%s", e.Profile, inParens(e.Service))
}

// Hint says how to replace it.
func (e *AlreadyExistsError) Hint() string {
	if e.HintText != "" {
		return e.HintText
	}
	return "remove it first (hermes " + profileFlag(e.Profile) + "gateway uninstall or unregister), or install with --force"
}

// Is matches ErrAlreadyExists.
func (e *AlreadyExistsError) Is(target error) bool { return target == ErrAlreadyExists }

// CommandFailedError is the init system's own tool failing: s6-svc,
// systemctl, launchctl, an SCM call.
type CommandFailedError struct {
	// Service is the unit, slot, plist or service acted on.
	Service string
	// Action is what was attempted ("start", "bootstrap", "s6-svc -u", ...).
	Action string
	// ExitCode is the tool's exit code (or a Win32 error code); -1 when the
	// tool could not run at all.
	ExitCode int
	// Stderr is what the tool said, trimmed.
	Stderr   string
	HintText string
}

func (e *CommandFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed", e.Action)
	if e.Service != "" {
		fmt.Fprintf(&b, " for %s", e.Service)
	}
	fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		fmt.Fprintf(&b, ": %s", s)
	}
	return b.String()
}

// Hint defaults to pointing at the debug log.
func (e *CommandFailedError) Hint() string {
	if e.HintText != "" {
		return e.HintText
	}
	return "run the command again with --debug to see every step, and check the init system's own log"
}

// Is matches ErrCommandFailed.
func (e *CommandFailedError) Is(target error) bool { return target == ErrCommandFailed }

// UnsupportedError is an operation the backend does not implement.
type UnsupportedError struct {
	Operation string
	Backend   string
	HintText  string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("the %s backend does not support %s", e.Backend, e.Operation)
}

// Hint defaults to the general advice.
func (e *UnsupportedError) Hint() string {
	if e.HintText != "" {
		return e.HintText
	}
	return "see hermes plugin list for what each backend supports, or choose another with --backend"
}

// Is matches ErrUnsupported and errors.ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool {
	return target == ErrUnsupported || target == errors.ErrUnsupported
}

// PermissionError is an operation refused for lack of rights: EACCES, not
// elevated, no user bus.
type PermissionError struct {
	// Path is the file refused, when a file was.
	Path string
	// Operation is what was refused, when it was not a file.
	Operation string
	HintText  string
}

func (e *PermissionError) Error() string {
	switch {
	case e.Path != "" && e.Operation != "":
		return fmt.Sprintf("permission denied: %s %s", e.Operation, e.Path)
	case e.Path != "":
		return fmt.Sprintf("permission denied: %s", e.Path)
	default:
		return fmt.Sprintf("permission denied: %s", e.Operation)
	}
}

// Hint defaults to running with more rights.
func (e *PermissionError) Hint() string {
	if e.HintText != "" {
		return e.HintText
	}
	return "run the command as the user who owns the file, or as root (sudo) for system scope"
}

// Is matches ErrPermission and fs.ErrPermission.
func (e *PermissionError) Is(target error) bool {
	return target == ErrPermission || target == fs.ErrPermission
}

func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func profileFlag(profile string) string {
	if profile == "" || profile == DefaultProfile {
		return ""
	}
	return "-p " + profile + " "
}

package service

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultProfile is the profile that lives at the root of the Hermes home.
const DefaultProfile = "default"

// MaxProfileLen is the longest profile name accepted.
const MaxProfileLen = 64

var profilePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidateProfile checks a profile name before any file or command is
// touched: ^[a-z0-9][a-z0-9_-]*$, 1 to 64 characters. The error is an
// *InvalidProfileError whose Reason names the first problem found.
func ValidateProfile(name string) error {
	if reason := profileProblem(name); reason != "" {
		return &InvalidProfileError{Name: name, Reason: reason}
	}
	return nil
}

func profileProblem(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case len(name) > MaxProfileLen:
		return fmt.Sprintf("it is %d bytes long, the limit is %d", len(name), MaxProfileLen)
	case profilePattern.MatchString(name):
		return ""
	case name[0] == '-' || name[0] == '_':
		return fmt.Sprintf("it starts with %q", name[0])
	}
	for i, r := range name {
		switch {
		case r == utf8.RuneError:
			return fmt.Sprintf("byte %d is not valid UTF-8", i)
		case r == 0:
			return "it contains a NUL byte"
		case r >= 'A' && r <= 'Z':
			return "it contains upper-case letters"
		case r == '/' || r == '\\':
			return "it contains a path separator"
		case r == '.':
			return "it contains a dot"
		case r == ' ' || r == '\t' || r == '\n':
			return "it contains white space"
		case r >= utf8.RuneSelf:
			return fmt.Sprintf("it contains the non-ASCII character %q", r)
		case !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'):
			return fmt.Sprintf("it contains the character %q", r)
		}
	}
	return "it does not match ^[a-z0-9][a-z0-9_-]*$"
}

var envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidateEnv checks extra environment for a gateway: every key must be a
// shell identifier ([A-Za-z_][A-Za-z0-9_]*), and every value valid UTF-8
// (the plugin protocol's strings are) without a NUL byte (no environment
// can carry one). Anything else in a value is the operator's, byte for
// byte: spaces, tabs and newlines included. The error is an
// *InvalidOptionError.
func ValidateEnv(env map[string]string) error {
	for k, v := range env {
		if err := ValidateEnvVar(k, v); err != nil {
			return err
		}
	}
	return nil
}

// ValidateEnvVar is ValidateEnv for one variable.
func ValidateEnvVar(key, value string) error {
	if !envKeyPattern.MatchString(key) {
		return &InvalidOptionError{Option: "env", Value: key, Reason: "keys must match [A-Za-z_][A-Za-z0-9_]*"}
	}
	if i := strings.IndexByte(value, 0); i >= 0 {
		return &InvalidOptionError{Option: "env", Value: key, Reason: fmt.Sprintf("the value holds a NUL byte (byte %d), which no environment can carry", i)}
	}
	if !utf8.ValidString(value) {
		i := 0
		for i < len(value) {
			r, n := utf8.DecodeRuneInString(value[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return &InvalidOptionError{Option: "env", Value: key, Reason: fmt.Sprintf("the value is not valid UTF-8 (byte %d)", i)}
	}
	return nil
}

// ValidateStopTimeout checks a stop timeout for a service definition: 0 is
// the default, a negative one is an *InvalidOptionError. The host bounds
// what an operator may choose further (gateway.MinStopBudget and
// gateway.MaxStopBudget); backends take any positive value as given.
func ValidateStopTimeout(d time.Duration) error {
	if d < 0 {
		return &InvalidOptionError{Option: "stop-timeout", Value: d.String(), Reason: "a stop timeout cannot be negative"}
	}
	return nil
}

// Naming is how a backend names a profile's slot, unit, label or service:
// the default profile's own name, else Prefix and the profile, then Suffix
// either way. It is the one home of that rule for each backend, both ways.
type Naming struct {
	// Default is the default profile's name without Suffix ("" when the
	// default profile is named like any other).
	Default string
	// Prefix precedes a named profile ("hermes-gateway-").
	Prefix string
	// Suffix follows every name (".service"), "" for none.
	Suffix string
}

// Name is profile's name.
func (n Naming) Name(profile string) string {
	if profile == DefaultProfile && n.Default != "" {
		return n.Default + n.Suffix
	}
	return n.Prefix + profile + n.Suffix
}

// Profile reads the profile out of a name; ok is false for names that are
// not this backend's, or whose rest is no valid profile name.
func (n Naming) Profile(name string) (string, bool) {
	name, ok := strings.CutSuffix(name, n.Suffix)
	if !ok {
		return "", false
	}
	if n.Default != "" && name == n.Default {
		return DefaultProfile, true
	}
	rest, ok := strings.CutPrefix(name, n.Prefix)
	if !ok || ValidateProfile(rest) != nil {
		return "", false
	}
	return rest, true
}

// EachStatus is Statuses for backends that ask one profile at a time.
func EachStatus(ctx context.Context, status func(context.Context, string) (Status, error), profiles []string) ([]Status, error) {
	out := make([]Status, len(profiles))
	for i, p := range profiles {
		var err error
		if out[i], err = status(ctx, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

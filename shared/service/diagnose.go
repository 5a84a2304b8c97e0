package service

import "context"

// Diagnoser checks the parts of the machine a backend depends on (its init
// system's tools and folders, the service definitions it wrote) and says how
// to fix what is wrong. The knowledge lives in the backend, so `hermes
// doctor` needs none of it and an out-of-tree backend can add its own checks.
type Diagnoser interface {
	// Diagnose runs the backend's checks. A check that fails is a Finding
	// with SeverityError, not an error: an error means the checks could not
	// run at all. A backend with nothing to check returns an empty list.
	Diagnose(ctx context.Context, opts DiagnoseOptions) ([]Finding, error)
}

// DiagnoseOptions is what the host knows that a backend's checks compare
// against.
type DiagnoseOptions struct {
	// Home is the Hermes home's root the host works on.
	Home string
	// Hermes is the absolute path of the hermes binary asking; a service
	// definition that runs another one has drifted. "" skips that check.
	Hermes string
	// Profiles limits per-profile checks to these; empty means every profile
	// the backend finds.
	Profiles []string
}

// Severity says how much a Finding matters.
type Severity string

// The severities a Finding has. Only SeverityError makes `hermes doctor`
// fail; a warning is worth reading but needs no action.
const (
	SeverityOK      Severity = "ok"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Valid reports whether s is one of the severities above.
func (s Severity) Valid() bool {
	switch s {
	case SeverityOK, SeverityWarning, SeverityError:
		return true
	}
	return false
}

// Finding is the outcome of one check.
type Finding struct {
	// Check names what was looked at, e.g. "s6-svscan" or "unit
	// hermes-gateway.service".
	Check string
	// Severity is how it went.
	Severity Severity
	// Detail says what was found.
	Detail string
	// Fix says what to do about it; "" when there is nothing to do.
	Fix string
}

// Problem reports whether the finding needs fixing.
func (f Finding) Problem() bool { return f.Severity == SeverityError }

package host

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Exit codes, fixed for scripts (DESIGN.md, "What scripts rely on").
const (
	ExitOK         = 0
	ExitFailed     = 1
	ExitUsage      = 2
	ExitNotRunning = 3
	ExitConfig     = gateway.ExitConfig
)

// UsageError is a command line hermes cannot act on: exit 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Hint points at the help, unless the cause knows better.
func (e *UsageError) Hint() string {
	if h := service.HintOf(e.Err); h != "" {
		return h
	}
	return "see hermes gateway --help, or add --help to the command"
}

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ConfigError is a machine hermes cannot work on as configured: no backend,
// no usable plugin, no gateway command. Exit 78, which supervisors take as
// "do not restart".
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// NoBackendError is detection finding no service manager.
type NoBackendError struct{ Reason string }

func (e *NoBackendError) Error() string {
	return "no service manager found for hermes on this machine (" + e.Reason + ")"
}

// Hint says how to choose one.
func (e *NoBackendError) Hint() string {
	return "start a private supervision tree with `hermes gateway supervise`, run hermes under systemd or in an s6-overlay container, or choose a backend with --backend NAME (or HERMES_SERVICE_BACKEND)"
}

// exitStatus ends a command with a code and nothing more to say (the
// command already printed what matters, e.g. status of a stopped gateway).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exitCode maps an error to the process's exit code.
func exitCode(err error) int {
	var (
		usage  *UsageError
		config *ConfigError
		status exitStatus
		run    *runner.Error
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &status):
		return int(status)
	case errors.As(err, &run):
		return run.ExitCode()
	case errors.As(err, &usage):
		return ExitUsage
	case errors.Is(err, service.ErrInvalidOption):
		// A value the backend refused before it wrote anything: one its
		// service definition cannot carry (a path a unit cannot hold, a %
		// in a Windows service's command line), an account that is not
		// there. The operator's input, as with a bad flag.
		return ExitUsage
	case errors.As(err, &config):
		return ExitConfig
	}
	return ExitFailed
}

// report prints err for a person: what failed, then what to do next.
func report(w io.Writer, err error) {
	var status exitStatus
	if err == nil || errors.As(err, &status) {
		return
	}
	msg := err.Error()
	var pe *plugin.PluginError
	if errors.As(err, &pe) && pe.Output != "" {
		msg = strings.Replace(msg, "\nplugin output:\n"+pe.Output, "", 1)
		msg += "\nplugin output:\n  " + strings.ReplaceAll(strings.TrimSpace(pe.Output), "\n", "\n  ")
	}
	fmt.Fprintf(w, "hermes: %s\n", msg)
	if h := service.HintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

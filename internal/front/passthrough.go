// Package front hands a command line that belongs to the Hermes CLI to it
// (package route decides which do), and reports when there is no Hermes
// CLI to hand it to. cmd/hermes/internal/early does the common cases
// before the rest of hermes initialises.
package front

import (
	"fmt"
	"io"
	"os"

	"github.com/nousresearch/hermes-service/internal/route"
	"github.com/nousresearch/hermes-service/internal/upstreamcli"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// exitUsage is hermes's exit code for a command it cannot act on.
const exitUsage = 2

// UpstreamCLI finds upstream's CLI as hermes runs (upstreamcli.Finder).
func UpstreamCLI() ([]string, error) {
	self, _ := os.Executable()
	return upstreamcli.Finder{Getenv: os.Getenv, Self: self}.Find()
}

// UpstreamMissingError is a command of upstream's CLI when there is none to
// pass it to.
type UpstreamMissingError struct {
	Command string
	Err     error
}

func (e *UpstreamMissingError) Error() string {
	what := "a bare hermes (upstream's chat)"
	if e.Command != "" {
		what = fmt.Sprintf("%q", e.Command)
	}
	return fmt.Sprintf("%s belongs to the Hermes CLI (hermes-agent), and this hermes only answers `hermes %s ...`: %v",
		what, gateway.CommandGateway, e.Err)
}

func (e *UpstreamMissingError) Unwrap() error { return e.Err }

// Hint says how to point hermes at upstream's CLI.
func (e *UpstreamMissingError) Hint() string { return (&upstreamcli.NotFoundError{}).Hint() }

// PassThrough hands args (after the program's name) to upstream's CLI:
// the same argv, stdin, stdout, stderr and environment; its exit code and
// its signals are its own (on Unix hermes becomes it). It returns the exit
// code when that could not happen (a usage error, 2, when there is no
// Hermes CLI), or, on Windows, the child's.
func PassThrough(args []string, stderr io.Writer) int {
	cli, err := UpstreamCLI()
	if err != nil {
		cmd := ""
		for _, a := range args {
			if len(a) > 0 && a[0] != '-' {
				cmd = a
				break
			}
		}
		say(stderr, &UpstreamMissingError{Command: cmd, Err: err})
		return exitUsage
	}
	return Run(append(append([]string{}, cli...), args...), stderr)
}

// Run runs argv (upstream's CLI and its arguments) in hermes's place and
// returns the exit code when it could not.
func Run(argv []string, stderr io.Writer) int {
	code, err := runUpstream(argv)
	if err != nil {
		say(stderr, fmt.Errorf("run the Hermes CLI %q: %w", argv[0], err))
	}
	return code
}

// say prints an error as hermes does: what failed, then what to do next.
func say(w io.Writer, err error) {
	fmt.Fprintf(w, "hermes: %v\n", err)
	if h := service.HintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// Early runs before the rest of hermes starts (cmd/hermes calls it from an
// init function): a command line that is the Hermes CLI's is handed to it
// here, and ok is false for one of hermes's own.
func Early(args []string, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 || route.Of(args[1:]) != route.Upstream {
		return 0, false
	}
	return PassThrough(args[1:], stderr), true
}

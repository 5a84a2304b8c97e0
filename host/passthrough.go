package host

import (
	"fmt"
	"io"
	"os"

	"github.com/nousresearch/hermes-service/internal/upstreamcli"
)

// upstreamCLI finds upstream's CLI as hermes runs (see upstreamcli.Finder).
func upstreamCLI() ([]string, error) {
	self, _ := os.Executable()
	return upstreamcli.Finder{Getenv: os.Getenv, Self: self}.Find()
}

// UpstreamMissingError is a command of upstream's CLI when there is none to
// pass it to: a usage error (exit 2) naming the command.
type UpstreamMissingError struct {
	Command string
	Err     error
}

func (e *UpstreamMissingError) Error() string {
	what := "a bare hermes (upstream's chat)"
	if e.Command != "" {
		what = fmt.Sprintf("%q", e.Command)
	}
	return fmt.Sprintf("%s belongs to the Hermes CLI (hermes-agent), and this hermes only answers `hermes gateway ...`: %v", what, e.Err)
}

func (e *UpstreamMissingError) Unwrap() error { return e.Err }

// Hint says how to point hermes at upstream's CLI.
func (e *UpstreamMissingError) Hint() string { return (&upstreamcli.NotFoundError{}).Hint() }

// passThrough hands args (after the program's name) to upstream's CLI:
// the same argv, stdin, stdout, stderr and environment; its exit code and
// its signals are its own (on Unix hermes becomes it). It returns only when
// that could not happen, with the exit code to use.
func passThrough(args []string, stderr io.Writer) int {
	cli, err := upstreamCLI()
	if err != nil {
		cmd := ""
		for _, a := range args {
			if len(a) > 0 && a[0] != '-' {
				cmd = a
				break
			}
		}
		err = &UsageError{Err: &UpstreamMissingError{Command: cmd, Err: err}}
		report(stderr, err)
		return exitCode(err)
	}
	argv := append(append([]string{}, cli...), args...)
	code, err := runUpstream(argv)
	if err != nil {
		report(stderr, fmt.Errorf("run the Hermes CLI %q: %w", cli[0], err))
	}
	return code
}

// passVersion prints hermes's version, then upstream's CLI's (args as
// given: its --version or -V).
func passVersion(args []string, stdout, stderr io.Writer) int {
	printVersion(stdout)
	cli, err := upstreamCLI()
	if err != nil {
		fmt.Fprintf(stdout, "Hermes CLI: not found (%v)\n", err)
		return ExitOK
	}
	code, err := runUpstream(append(append([]string{}, cli...), args...))
	if err != nil {
		report(stderr, fmt.Errorf("run the Hermes CLI %q: %w", cli[0], err))
	}
	return code
}

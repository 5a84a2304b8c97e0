// Package fakeupstream builds a fake of upstream's Python Hermes CLI (the
// `hermes` of NousResearch/hermes-agent), for tests only (never shipped).
//
// Our hermes owns `hermes gateway ...` and hands every other top-level
// command to upstream's CLI unchanged: same argv, stdin, stdout, stderr,
// exit code and signals. The fake is what tests put where upstream's CLI
// would be (HERMES_UPSTREAM_CLI), to see what it was handed:
//
//   - Every run appends one JSON line, a Record, to the file named by
//     EnvRecord (when set): its argv (os.Args[1:]), its environment (all of
//     it, or the names listed in EnvRecordEnv), its stdin (read to EOF only
//     with EnvReadStdin=1) and its pid. Records reads them back.
//   - It prints ArgvLine(argv) to stdout and StderrLine to stderr, then
//     exits with EnvExit (default 0).
//   - `--version` (or `-V`) as the first argument prints VersionLine
//     instead of ArgvLine, nothing on stderr, as upstream's `hermes
//     --version` does; the run is recorded and exits with EnvExit, never
//     waiting.
//   - With EnvWait=1 it prints WaitingLine(pid) after the argv line and
//     waits for SIGINT or SIGTERM (on Windows: Ctrl-C/Ctrl-Break, and the
//     console close/logoff/shutdown events Go delivers as SIGTERM), appends
//     a Record holding only the signal's name (and pid), prints
//     SignalLine(name) and exits with ExitSIGINT or ExitSIGTERM, as a
//     Python program ended by that signal reports itself to a shell.
//
// The fake is a Go binary of this module, so upstreamcli's PATH search
// counts it as a copy of ours and skips it: name it by HERMES_UPSTREAM_CLI
// (CommandLine quotes its path), or put a shell script named `hermes` on
// PATH that execs it.
package fakeupstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/internal/testbin"
)

// Package is the import path of the fake's main package.
const Package = "github.com/nousresearch/hermes-service/internal/fakeupstream/cmd/hermes-fake-upstream"

// Build puts the fake into dir and returns its path (testbin.Build: built
// once per test run, taken from there).
func Build(dir string) (string, error) { return testbin.Build(dir, Package) }

// The fake's knobs, read from its environment.
const (
	// EnvRecord names the file each run appends its Record lines to; unset
	// or empty, nothing is recorded.
	EnvRecord = "FAKE_UPSTREAM_RECORD"
	// EnvRecordEnv lists, comma-separated, the variables a Record keeps
	// (a listed variable that is unset is left out, so unset and empty
	// differ); unset or empty, the Record keeps the whole environment.
	EnvRecordEnv = "FAKE_UPSTREAM_RECORD_ENV"
	// EnvReadStdin=1 makes the fake read its stdin to EOF before it records
	// and prints; otherwise stdin is left alone and Record.Stdin is nil.
	EnvReadStdin = "FAKE_UPSTREAM_READ_STDIN"
	// EnvExit is the exit code (default 0). A value that is not an integer
	// in 0..255 is a usage error: ExitUsage, with a line on stderr.
	EnvExit = "FAKE_UPSTREAM_EXIT"
	// EnvWait=1 makes the fake wait for SIGINT or SIGTERM instead of
	// exiting with EnvExit.
	EnvWait = "FAKE_UPSTREAM_WAIT"
)

// Envs are all the fake's knobs, for a test that hands the fake a clean
// environment.
var Envs = []string{EnvRecord, EnvRecordEnv, EnvReadStdin, EnvExit, EnvWait}

// Exit codes of the fake besides EnvExit.
const (
	// ExitSIGINT and ExitSIGTERM end a wait: 128 + the signal's number.
	ExitSIGINT  = 130
	ExitSIGTERM = 143
	// ExitUsage: a knob the fake cannot read (argparse's code for usage).
	ExitUsage = 2
)

// What the fake prints.
const (
	// VersionLine is stdout of `--version`.
	VersionLine = "Hermes Agent v0.0.0-fake"
	// StderrLine is stderr of every run but `--version`.
	StderrLine = "fake upstream: stderr"
)

// ArgvLine is the fake's stdout line for its arguments (os.Args[1:]).
func ArgvLine(argv []string) string {
	if argv == nil {
		argv = []string{} // %q prints a nil and an empty slice alike: []
	}
	return fmt.Sprintf("fake upstream: argv=%q", argv)
}

// WaitingLine is the fake's stdout line once it waits for a signal: a test
// may send one as soon as it has read this line.
func WaitingLine(pid int) string { return fmt.Sprintf("fake upstream: waiting pid=%d", pid) }

// SignalLine is the fake's stdout line for the signal that ended its wait
// ("SIGINT" or "SIGTERM").
func SignalLine(name string) string { return "fake upstream: got " + name }

// Record is one JSON line of the record file. A run's Record has Argv (never
// nil, even when empty), Env (never nil) and Pid, and Stdin when it read
// stdin; the Record of a signal that ended a wait has only Signal and Pid.
type Record struct {
	Argv   []string          `json:"argv"`
	Env    map[string]string `json:"env"`
	Stdin  *string           `json:"stdin,omitempty"`
	Pid    int               `json:"pid"`
	Signal string            `json:"signal,omitempty"`
}

// Records reads the record file at path, one Record per line, in the order
// they were appended. A file that does not exist holds no records (the fake
// never ran with it): nil and no error.
func Records(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []Record
	lines := bufio.NewScanner(bytes.NewReader(data))
	lines.Buffer(nil, len(data)+1) // one line can hold a whole environment
	for n := 1; lines.Scan(); n++ {
		if len(bytes.TrimSpace(lines.Bytes())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			return recs, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		recs = append(recs, r)
	}
	return recs, lines.Err()
}

// CommandLine is the value of HERMES_UPSTREAM_CLI that names the program at
// path, quoted when the path alone would not split back into itself (as
// runner.SplitCommandLine, hence upstreamcli, splits it on this OS).
func CommandLine(path string) (string, error) {
	for _, line := range []string{path, `"` + path + `"`, "'" + path + "'"} {
		if words, err := runner.SplitCommandLine(line); err == nil && slices.Equal(words, []string{path}) {
			return line, nil
		}
	}
	return "", fmt.Errorf("%q cannot be written as a command line", path)
}

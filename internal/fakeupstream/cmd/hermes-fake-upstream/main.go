// Command hermes-fake-upstream stands in for upstream's Python Hermes CLI
// (NousResearch/hermes-agent) in tests of hermes's pass-through: it records
// what it was given and exits as told. See package internal/fakeupstream for
// its knobs, records and output. Test-only, never shipped.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/nousresearch/hermes-service/internal/fakeupstream"
)

func main() { os.Exit(run(os.Args[1:])) }

// runRecord and signalRecord are what the fake writes: fakeupstream.Record
// reads both, the fields each lacks left zero.
type runRecord struct {
	Argv  []string          `json:"argv"`
	Env   map[string]string `json:"env"`
	Stdin *string           `json:"stdin,omitempty"`
	Pid   int               `json:"pid"`
}

type signalRecord struct {
	Signal string `json:"signal"`
	Pid    int    `json:"pid"`
}

func run(args []string) int {
	code, err := exitCode()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake upstream:", err)
		return fakeupstream.ExitUsage
	}
	wait := os.Getenv(fakeupstream.EnvWait) == "1"
	var sigs chan os.Signal
	if wait {
		// Before anything is printed or recorded: a test may signal as soon
		// as it sees the fake's output, and must not kill it instead.
		sigs = make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	}
	rec := runRecord{Argv: append([]string{}, args...), Env: environment(), Pid: os.Getpid()}
	if os.Getenv(fakeupstream.EnvReadStdin) == "1" {
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake upstream: read stdin:", err)
			return 1
		}
		s := string(data)
		rec.Stdin = &s
	}
	if err := record(rec); err != nil {
		fmt.Fprintln(os.Stderr, "fake upstream: record:", err)
		return 1
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-V") {
		fmt.Println(fakeupstream.VersionLine)
		return code
	}
	fmt.Println(fakeupstream.ArgvLine(args))
	fmt.Fprintln(os.Stderr, fakeupstream.StderrLine)
	if !wait {
		return code
	}
	fmt.Println(fakeupstream.WaitingLine(os.Getpid()))
	name, code := "SIGTERM", fakeupstream.ExitSIGTERM
	if <-sigs == os.Interrupt {
		name, code = "SIGINT", fakeupstream.ExitSIGINT
	}
	if err := record(signalRecord{Signal: name, Pid: os.Getpid()}); err != nil {
		fmt.Fprintln(os.Stderr, "fake upstream: record:", err)
	}
	fmt.Println(fakeupstream.SignalLine(name))
	return code
}

func exitCode() (int, error) {
	v := strings.TrimSpace(os.Getenv(fakeupstream.EnvExit))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("%s=%q is not an exit code (0..255)", fakeupstream.EnvExit, v)
	}
	return n, nil
}

// environment is the environment a record keeps: the variables named in
// EnvRecordEnv that are set, or all of them.
func environment() map[string]string {
	env := map[string]string{}
	if names := os.Getenv(fakeupstream.EnvRecordEnv); names != "" {
		for _, name := range strings.Split(names, ",") {
			if v, ok := os.LookupEnv(strings.TrimSpace(name)); ok {
				env[strings.TrimSpace(name)] = v
			}
		}
		return env
	}
	for _, kv := range os.Environ() {
		// Windows keeps per-drive folders as "=C:=C:\dir": the name starts
		// after a leading '='.
		if i := strings.IndexByte(kv[min(1, len(kv)):], '='); i >= 0 {
			env[kv[:i+1]] = kv[i+2:]
		}
	}
	return env
}

// record appends r to the record file as one line, in one write, so the
// lines of runs that overlap stay whole.
func record(r any) error {
	path := os.Getenv(fakeupstream.EnvRecord)
	if path == "" {
		return nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return errors.Join(err, f.Close())
}

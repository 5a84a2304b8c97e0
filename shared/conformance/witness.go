package conformance

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// WitnessCommand is the hermes subcommand that runs the kit's witness
// gateway: `hermes gateway conformance-gateway`. The lifecycle tier puts it
// in every service it installs, so the check needs nothing but the hermes
// binary: no Go toolchain, no upstream CLI.
const WitnessCommand = "conformance-gateway"

// EventsFile is where the witness, in a profile's folder, records each of
// its starts and each stop's classification: one line per event,
// "start pid=N" and "stop pid=N planned=true|false". The lifecycle tier
// reads it to learn how the gateway took a stop, which the state file
// cannot tell once the next start has overwritten it.
const EventsFile = ".hermes-conformance-events"

// Witness is the kit's stand-in gateway. Under the hermes protocol
// (the default) it keeps upstream's protocol as the Python gateway does: it
// holds gateway.lock, writes gateway.pid and gateway_state.json's runtime
// fields, and classifies a SIGTERM by the planned-stop marker naming its
// own pid: planned, "stopped" and exit 0; from outside, "running" and exit
// 1 (upstream's #42675). SIGINT is planned. It never writes desired_state,
// which is the backend's to record. With --plain it is a program that knows
// nothing of the protocol: it prints, waits for SIGTERM or SIGINT and exits
// 0, and the runner keeps the protocol for it.
//
// Arguments: [-p PROFILE] [--plain] [--say TEXT]. It prints
// "conformance gateway says TEXT pid=N" once it runs, the line the tier
// expects back from Logs.
func Witness(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet(WitnessCommand, flag.ContinueOnError)
	fs.SetOutput(stdout)
	profile := fs.String("p", "default", "the profile")
	plain := fs.Bool("plain", false, "know nothing of the protocol")
	say := fs.String("say", "hello", "the text to print once running")
	if err := fs.Parse(args); err != nil {
		return gateway.ExitConfig
	}
	// Handlers first: a stop may come as soon as the process runs.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	pid := os.Getpid()
	if *plain {
		fmt.Fprintf(stdout, "%s pid=%d\n", SaidLine(*say), pid)
		s := <-sigs
		fmt.Fprintf(stdout, "conformance gateway got %v, exiting\n", s)
		return gateway.ExitOK
	}
	root := os.Getenv(gateway.EnvHome)
	dir, err := gateway.Home{Root: root}.ProfileDir(*profile)
	if err != nil || root == "" {
		fmt.Fprintf(stdout, "conformance gateway: no home (%s=%q): %v\n", gateway.EnvHome, root, err)
		return gateway.ExitConfig
	}
	lock, ok, err := gateway.Upstream.TryLock(dir)
	if err != nil || !ok {
		fmt.Fprintf(stdout, "conformance gateway: another gateway holds %s (%v)\n", filepath.Join(dir, gateway.LockFile), err)
		return gateway.ExitFailed
	}
	defer lock.Unlock()
	if err := gateway.Upstream.WritePIDRecord(dir, gateway.NewPIDRecord(root)); err != nil {
		fmt.Fprintf(stdout, "conformance gateway: %v\n", err)
		return gateway.ExitFailed
	}
	defer gateway.Upstream.RemovePIDRecord(dir, pid)
	running := map[string]any{gateway.KeyGatewayState: gateway.GatewayRunning, gateway.KeyPID: pid,
		gateway.KeyStartTime: gateway.StartTime(pid), gateway.KeyExitReason: nil}
	if err := gateway.UpdateState(dir, running); err != nil {
		fmt.Fprintf(stdout, "conformance gateway: %v\n", err)
		return gateway.ExitFailed
	}
	record(dir, fmt.Sprintf("start pid=%d", pid))
	fmt.Fprintf(stdout, "%s pid=%d\n", SaidLine(*say), pid)

	planned := false
	switch s := <-sigs; s {
	case syscall.SIGINT:
		planned = true
	default:
		planned = gateway.ConsumeMarker(dir, pid)
	}
	state, code := gateway.GatewayStopped, gateway.ExitOK
	if !planned {
		// Upstream's #42675: a stop from outside leaves the gateway wanted.
		state, code = gateway.GatewayRunning, gateway.ExitFailed
	}
	_ = gateway.UpdateState(dir, map[string]any{gateway.KeyGatewayState: state,
		gateway.KeyExitReason: fmt.Sprintf("stopped, planned=%t", planned)})
	record(dir, fmt.Sprintf("stop pid=%d planned=%t", pid, planned))
	fmt.Fprintf(stdout, "conformance gateway stopping, planned=%t\n", planned)
	return code
}

// SaidLine is what the witness prints once it runs, told to say text.
func SaidLine(text string) string { return "conformance gateway says " + text }

// record appends one event to the profile's EventsFile.
func record(dir, event string) {
	f, err := os.OpenFile(filepath.Join(dir, EventsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = fmt.Fprintln(f, event)
}

// events reads a profile's EventsFile, oldest first.
func events(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, EventsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out, s.Err()
}

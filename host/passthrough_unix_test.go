//go:build !windows

package host_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakeupstream"
	"github.com/nousresearch/hermes-service/internal/proctest"
)

// TestPassThroughIsTheSameProcess: a command passed to the Hermes CLI runs
// in hermes's own process (exec), so SIGINT and SIGTERM reach it as they
// would reach the Hermes CLI itself, and its exit code is hermes's.
func TestPassThroughIsTheSameProcess(t *testing.T) {
	t.Parallel()
	buildAll(t)
	cli, err := fakeupstream.CommandLine(fakeUpstream)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", fakeupstream.ExitSIGINT}, {syscall.SIGTERM, "SIGTERM", fakeupstream.ExitSIGTERM}} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(hermesBin, "chat")
			cmd.Env = append(os.Environ(), "HERMES_UPSTREAM_CLI="+cli, fakeupstream.EnvWait+"=1")
			p := proctest.Start(t, cmd)
			out, done := p.Out, p.Done
			waitFor(t, "the Hermes CLI to wait", func() bool {
				return strings.Contains(out.String(), fakeupstream.WaitingLine(cmd.Process.Pid))
			})
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("no exit after %s:\n%s", tt.name, out)
			}
			if got := cmd.ProcessState.ExitCode(); got != tt.code || !strings.Contains(out.String(), fakeupstream.SignalLine(tt.name)) {
				t.Fatalf("exit %d, want %d, and the signal seen by the Hermes CLI:\n%s", got, tt.code, out)
			}
		})
	}
}

// TestPassThroughFindsTheHermesCLIOnPath: without HERMES_UPSTREAM_CLI, the
// Hermes CLI is the first `hermes` on PATH that is neither this program nor
// another copy of it: here a copy of ours comes first, then upstream's
// entry-point script.
func TestPassThroughFindsTheHermesCLIOnPath(t *testing.T) {
	t.Parallel()
	buildAll(t)
	root := t.TempDir()
	ours, theirs := root+"/ours", root+"/theirs"
	for _, d := range []string{ours, theirs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(hermesBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ours+"/hermes", data, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec " + fakeUpstream + " \"$@\"\n"
	if err := os.WriteFile(theirs+"/hermes", []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, self string }{
		{"run as the first hermes on PATH", ours + "/hermes"},
		{"run from elsewhere, a copy of ours first on PATH", hermesBin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(tt.self, "profile", "list", "a b")
			cmd.Env = []string{"PATH=" + ours + ":" + theirs + ":/usr/bin:/bin", "HOME=" + root}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), fakeupstream.ArgvLine([]string{"profile", "list", "a b"})) {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

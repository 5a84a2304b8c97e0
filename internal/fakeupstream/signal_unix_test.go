//go:build !windows

package fakeupstream_test

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakeupstream"
)

// TestWaitEndsOnSignal: with EnvWait the fake says it waits, and a SIGINT
// or SIGTERM ends it with 130 or 143, recorded after the run's own record.
// EnvExit does not apply to a wait.
func TestWaitEndsOnSignal(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", fakeupstream.ExitSIGINT}, {syscall.SIGTERM, "SIGTERM", fakeupstream.ExitSIGTERM}} {
		t.Run(tt.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "record.jsonl")
			cmd := exec.Command(fake(t), "chat")
			cmd.Env = cleanEnv(fakeupstream.EnvRecord+"="+rec, fakeupstream.EnvWait+"=1", fakeupstream.EnvExit+"=5")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			lines := bufio.NewScanner(stdout)
			want := []string{fakeupstream.ArgvLine([]string{"chat"}), fakeupstream.WaitingLine(cmd.Process.Pid)}
			for _, w := range want {
				if !lines.Scan() || lines.Text() != w {
					t.Fatalf("stdout line %q, want %q (%v)", lines.Text(), w, lines.Err())
				}
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stdout)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the fake did not end on " + tt.name)
			}
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit %d, want %d", got, tt.code)
			}
			if got, w := strings.TrimSpace(string(rest)), fakeupstream.SignalLine(tt.name); got != w {
				t.Errorf("last stdout %q, want %q", got, w)
			}
			recs := records(t, rec)
			if len(recs) != 2 || recs[1].Signal != tt.name || recs[1].Pid != cmd.Process.Pid || recs[1].Argv != nil {
				t.Fatalf("records %+v, want the run's then {signal %s pid %d}", recs, tt.name, cmd.Process.Pid)
			}
		})
	}
}

package proctest

import (
	"os/exec"
	"testing"
	"time"
)

// Proc is a process a test started, its output collected.
type Proc struct {
	Cmd  *exec.Cmd
	Out  *Buffer
	Done chan struct{} // closed once it has exited and been reaped
}

// Start starts cmd with stdout and stderr into one Buffer, reaps it in the
// background, and kills it when the test ends if it still runs.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, Out: &Buffer{}, Done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Out
	// A child it leaves behind may keep the output pipe open.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.Done) }()
	t.Cleanup(func() {
		select {
		case <-p.Done:
		default:
			_ = cmd.Process.Kill()
			<-p.Done
		}
	})
	return p
}

// Exited waits up to timeout for the process to end and returns its exit
// code; a test that waits longer fails, showing the output.
func (p *Proc) Exited(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.Done:
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %s; output:\n%s", p.Cmd.Path, timeout, p.Out)
	}
	return p.Cmd.ProcessState.ExitCode()
}

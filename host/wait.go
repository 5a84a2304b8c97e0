package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// DefaultWait bounds how long start, stop and restart wait for the backend
// to report the new state.
const DefaultWait = 30 * time.Second

// goal is a state a lifecycle command waits for.
type goal struct {
	word string // "running", "stopped"
	met  func(service.Status) bool
}

var (
	goalRunning = goal{"running", func(s service.Status) bool { return s.State == service.StateRunning }}
	goalStopped = goal{"stopped", func(s service.Status) bool {
		return s.State != service.StateRunning && s.State != service.StateStarting
	}}
)

// newRunner is running under a pid other than old (a restart's new process).
func newRunner(old *int) goal {
	return goal{"running again", func(s service.Status) bool {
		return s.State == service.StateRunning && (old == nil || s.PID == nil || *s.PID != *old)
	}}
}

// progress shows a wait: a spinner on a terminal, plain lines elsewhere. A
// nil progress shows nothing.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	shown bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && isatty.IsTerminal(f.Fd())}
}

func (p *progress) tick(i int, what string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r%c %s", `|/-\`[i%4], what)
		p.shown = true
		return
	}
	if !p.shown {
		fmt.Fprintln(p.w, what)
		p.shown = true
	}
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// waitError is a wait that ran out of time.
type waitError struct {
	profile string
	goal    string
	timeout time.Duration
	last    service.Status
}

func (e *waitError) Error() string {
	return fmt.Sprintf("the %s gateway is not %s after %s (it is %s%s)", e.profile, e.goal, e.timeout, e.last.State, detailSuffix(e.last))
}

func (e *waitError) Hint() string {
	return "see why in its log: " + gateway.CommandHint(e.profile, "logs") + "; wait longer with --timeout, or not at all with --no-wait"
}

func detailSuffix(s service.Status) string {
	if s.Detail == "" {
		return ""
	}
	return ": " + s.Detail
}

// waitFor polls the backend until the profile meets g, or timeout.
func waitFor(ctx context.Context, m service.Manager, profile string, g goal, timeout time.Duration, p *progress) (service.Status, error) {
	what := fmt.Sprintf("waiting for the %s gateway to be %s", profile, g.word)
	var st service.Status
	i := 0
	err := wait.Poll{What: what, Timeout: timeout, Interval: 150 * time.Millisecond}.Until(ctx, func() (bool, error) {
		var err error
		if st, err = m.Status(ctx, profile); err != nil || g.met(st) {
			return true, err
		}
		p.tick(i, what)
		i++
		return false, nil
	})
	if errors.Is(err, wait.ErrTimeout) {
		return st, &waitError{profile: profile, goal: g.word, timeout: timeout, last: st}
	}
	return st, err
}

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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

// DefaultSettle is how long start and restart watch a gateway that came up
// before they call it started: a gateway that dies at once (a bad token, a
// port in use, exit 78 on a broken config) is up for a moment first, and
// its supervisor may bring it back under a new pid before anyone looks.
// MaxSettle bounds --settle.
const (
	DefaultSettle = 2 * time.Second
	MaxSettle     = 10 * time.Minute
)

// goal is a state a lifecycle command waits for.
type goal struct {
	word string // "running", "stopped"
	met  func(service.Status) bool
	// failed, when set, says the wait is over without the goal: the
	// gateway has already given up.
	failed func(service.Status) bool
}

var goalStopped = goal{word: "stopped", met: func(s service.Status) bool {
	return s.State != service.StateRunning && s.State != service.StateStarting
}}

// runningAgain is running, under a pid other than before's when before was
// running (a restart's new process). The wait fails on a failed state that
// is not before's: the gateway exited in a way its supervisor will not
// restart (exit 78). A failed state left from an earlier run, not yet
// replaced, does not count.
func runningAgain(word string, before *service.Status) goal {
	return goal{word: word,
		met: func(s service.Status) bool {
			if s.State != service.StateRunning {
				return false
			}
			return word != "running again" || before == nil || before.PID == nil || s.PID == nil || *s.PID != *before.PID
		},
		failed: func(s service.Status) bool {
			if s.State != service.StateFailed {
				return false
			}
			return before == nil || before.State != service.StateFailed || !sameTime(before.Since, s.Since)
		}}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
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
	return fmt.Sprintf("the %s gateway is not %s after %s (it is %s%s)%s", e.profile, e.goal, e.timeout, e.last.State, detailSuffix(e.last), lastExitSuffix(e.last))
}

// lastExitSuffix names a non-zero last exit the detail does not already.
func lastExitSuffix(s service.Status) string {
	if s.LastExit == nil || *s.LastExit == 0 {
		return ""
	}
	text := fmt.Sprintf("last exit %d", *s.LastExit)
	if strings.Contains(s.Detail, text) || strings.Contains(s.Detail, fmt.Sprintf("exit %d", *s.LastExit)) {
		return ""
	}
	return " (" + text + ")"
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
		if g.failed != nil && g.failed(st) {
			return true, &notUpError{profile: profile, last: st}
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

// notUpError is a gateway that did not come up (first is nil), or came up
// and did not stay up for the settle time.
type notUpError struct {
	profile string
	settle  time.Duration
	first   *service.Status
	last    service.Status
	why     string
}

func (e *notUpError) Error() string {
	var msg string
	if e.first == nil {
		msg = fmt.Sprintf("the %s gateway did not start: it is %s%s", e.profile, e.last.State, detailSuffix(e.last))
	} else {
		msg = fmt.Sprintf("the %s gateway did not stay up for %s: it ran%s, then %s%s", e.profile, e.settle, pidText(*e.first), e.why, detailSuffix(e.last))
	}
	if e.last.LastExit != nil && !strings.Contains(msg, fmt.Sprintf("exit %d", *e.last.LastExit)) {
		msg += fmt.Sprintf(" (last exit %d)", *e.last.LastExit)
	}
	return msg
}

func (e *notUpError) Hint() string {
	hint := "see why in its log: " + gateway.CommandHint(e.profile, "logs")
	if e.last.LastExit != nil && *e.last.LastExit == gateway.ExitConfig {
		hint += fmt.Sprintf("; exit %d is a fatal configuration problem, which no restart fixes: fix it, then %s",
			gateway.ExitConfig, gateway.CommandHint(e.profile, "start"))
	}
	return hint
}

func pidText(s service.Status) string {
	if s.PID == nil {
		return ""
	}
	return fmt.Sprintf(" as pid %d", *s.PID)
}

// unsettled says how now differs from first, a running gateway's status,
// in a way that means it did not stay up: "" when it is the same run.
func unsettled(first, now service.Status) string {
	switch {
	case now.State != service.StateRunning:
		return string(now.State)
	case first.PID != nil && now.PID != nil && *now.PID != *first.PID:
		return fmt.Sprintf("ran again as pid %d", *now.PID)
	case first.Restarts != nil && now.Restarts != nil && *now.Restarts > *first.Restarts:
		return fmt.Sprintf("was restarted (%d restarts)", *now.Restarts)
	case now.LastExit != nil && *now.LastExit != 0 && (first.LastExit == nil || *first.LastExit != *now.LastExit):
		return "exited"
	}
	return ""
}

// settle watches a gateway that is running (first) until the same run has
// been up for d, and fails if it leaves running, comes back under another
// pid, counts a restart or reports a new non-zero exit in the meantime. A
// run the backend says began more than d ago (a start of a gateway that was
// already up) has settled already; Since may be truncated to the second.
// timeout bounds the status calls beyond d.
func settle(ctx context.Context, m service.Manager, profile string, first service.Status, d, timeout time.Duration, p *progress) (service.Status, error) {
	if d <= 0 || first.Since != nil && time.Since(*first.Since) >= d+time.Second {
		return first, nil
	}
	what := fmt.Sprintf("waiting %s for the %s gateway to stay up", d, profile)
	deadline := time.Now().Add(d)
	last := first
	i := 0
	err := wait.Poll{What: what, Timeout: d + timeout, Interval: min(150*time.Millisecond, max(d/10, 10*time.Millisecond))}.Until(ctx, func() (bool, error) {
		st, err := m.Status(ctx, profile)
		if err != nil {
			return true, err
		}
		last = st
		if why := unsettled(first, st); why != "" {
			return true, &notUpError{profile: profile, settle: d, first: &first, last: st, why: why}
		}
		if !time.Now().Before(deadline) {
			return true, nil
		}
		p.tick(i, what)
		i++
		return false, nil
	})
	if errors.Is(err, wait.ErrTimeout) {
		return last, &waitError{profile: profile, goal: "settled", timeout: d + timeout, last: last}
	}
	return last, err
}

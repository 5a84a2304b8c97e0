// Package wait polls a condition until it holds, a deadline passes or the
// context ends: the one way hermes waits for another process to do
// something (a supervisor to bring a gateway down, a lock to be released,
// a service to reach a state).
package wait

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is a wait whose deadline passed before the condition held.
var ErrTimeout = errors.New("timed out")

// TimeoutError says what was waited for and how long.
type TimeoutError struct {
	What    string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for %s", e.Timeout, e.What)
}

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Poll is one wait: the condition is checked at once, then every Interval,
// until it holds or Timeout has passed.
type Poll struct {
	// What names what is awaited, for the timeout error.
	What string
	// Timeout bounds the wait; 0 means only ctx bounds it.
	Timeout time.Duration
	// Interval is the pause between checks (default 20 ms).
	Interval time.Duration
}

// Until checks cond until it returns true (nil), returns an error (that
// error), the timeout passes (a *TimeoutError) or ctx ends (ctx's error).
func (p Poll) Until(ctx context.Context, cond func() (bool, error)) error {
	interval := p.Interval
	if interval <= 0 {
		interval = 20 * time.Millisecond
	}
	var deadline <-chan time.Time
	if p.Timeout > 0 {
		t := time.NewTimer(p.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			// One last look: the condition may have become true while we
			// slept.
			if ok, err := cond(); err != nil || ok {
				return err
			}
			return &TimeoutError{What: p.What, Timeout: p.Timeout}
		case <-tick.C:
		}
	}
}

// For is Poll{What, Timeout}.Until(ctx, cond) for a condition that cannot
// fail.
func For(ctx context.Context, what string, timeout time.Duration, cond func() bool) error {
	return Poll{What: what, Timeout: timeout}.Until(ctx, func() (bool, error) { return cond(), nil })
}

package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// allParallelism bounds how many profiles --all acts on at once.
const allParallelism = 8

// verb is a lifecycle action on one profile's gateway.
type verb int

const (
	verbStart verb = iota
	verbStop
	verbRestart
	verbInstall
	verbUninstall
	verbRegister
	verbUnregister
)

// verbs is what each verb is called, what it reports once done, and the
// contract call behind it (nil for those that take options).
var verbs = [...]struct {
	name, done string
	call       func(m service.Manager, ctx context.Context, profile string) error
}{
	verbStart:      {"start", "started", service.Manager.Start},
	verbStop:       {"stop", "stopped", service.Manager.Stop},
	verbRestart:    {"restart", "restarted", service.Manager.Restart},
	verbInstall:    {"install", "installed", nil},
	verbUninstall:  {"uninstall", "uninstalled", service.Manager.Uninstall},
	verbRegister:   {"register", "registered", nil},
	verbUnregister: {"unregister", "unregistered", service.Manager.Unregister},
}

func (v verb) String() string { return verbs[v].name }

// done is the verb as a report: "stopped the work gateway".
func (v verb) done() string { return verbs[v].done }

func (v verb) call(ctx context.Context, m service.Manager, profile string) error {
	return verbs[v].call(m, ctx, profile)
}

// goal is the state v waits for; before is the status before the call.
func (v verb) goal(before *service.Status) goal {
	switch v {
	case verbStop:
		return goalStopped
	case verbRestart:
		return runningAgain("running again", before)
	}
	return runningAgain("running", before)
}

// lifecycleOptions are start, stop and restart's choices.
type lifecycleOptions struct {
	Verb    verb
	Profile string
	// All acts on every profile of Home instead of Profile.
	All  bool
	Home string
	// NoWait returns once the backend took the command; otherwise the
	// command waits up to Timeout for the new state.
	NoWait  bool
	Timeout time.Duration
	// Settle is how long start and restart then watch the gateway stay up
	// under the same pid before they report it started (0: not at all).
	Settle   time.Duration
	Out      io.Writer
	Progress *progress
}

// runLifecycle starts, stops or restarts one profile, or every profile of
// the home, and says what came of it.
func runLifecycle(ctx context.Context, m service.Manager, o lifecycleOptions) error {
	defer o.Progress.done()
	if !o.All {
		msg, err := actOne(ctx, m, o, o.Profile)
		o.Progress.done()
		if err != nil {
			return err
		}
		fmt.Fprintln(o.Out, msg)
		return nil
	}
	return actAll(ctx, m, o)
}

// actOne runs the verb on one profile and waits for its result.
func actOne(ctx context.Context, m service.Manager, o lifecycleOptions, profile string) (string, error) {
	var before *service.Status
	if o.Verb != verbStop && !o.NoWait {
		if st, err := m.Status(ctx, profile); err == nil {
			before = &st
		}
	}
	if err := o.Verb.call(ctx, m, profile); err != nil {
		return "", err
	}
	if o.NoWait {
		return fmt.Sprintf("%s the %s gateway (not waiting for it)", o.Verb.done(), profile), nil
	}
	st, err := waitFor(ctx, m, profile, o.Verb.goal(before), o.Timeout, o.Progress)
	if err == nil && o.Verb != verbStop {
		st, err = settle(ctx, m, profile, st, o.Settle, o.Timeout, o.Progress)
	}
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%s the %s gateway", o.Verb.done(), profile)
	if st.PID != nil && st.State == service.StateRunning {
		msg += fmt.Sprintf(": running, pid %d", *st.PID)
	} else {
		msg += ": " + string(st.State)
	}
	return msg, nil
}

// actAll runs the verb on every profile, a few at a time, and sums up.
// Profiles without a service are skipped, not failed.
func actAll(ctx context.Context, m service.Manager, o lifecycleOptions) error {
	profiles, err := gateway.Home{Root: o.Home}.Profiles()
	if err != nil {
		return err
	}
	type result struct {
		msg string
		err error
	}
	results := make([]result, len(profiles))
	var g errgroup.Group
	g.SetLimit(allParallelism)
	for i, prof := range profiles {
		g.Go(func() error {
			msg, err := actOne(ctx, m, o, prof)
			results[i] = result{msg, err}
			return nil // each profile's failure is reported on its own line
		})
	}
	_ = g.Wait()
	o.Progress.done()
	ok, skipped := 0, 0
	var failed []string
	for i, r := range results {
		switch {
		case r.err == nil:
			ok++
			fmt.Fprintln(o.Out, r.msg)
		case errors.Is(r.err, service.ErrNotFound):
			skipped++
			fmt.Fprintf(o.Out, "skipped the %s gateway: not installed\n", profiles[i])
		default:
			failed = append(failed, profiles[i])
			fmt.Fprintf(o.Out, "failed the %s gateway: %v\n", profiles[i], r.err)
		}
	}
	fmt.Fprintf(o.Out, "%s %d of %d profiles (%d skipped, %d failed)\n", o.Verb.done(), ok, len(profiles), skipped, len(failed))
	if len(failed) > 0 {
		slices.Sort(failed)
		return &allFailedError{verb: o.Verb, profiles: failed}
	}
	return nil
}

type allFailedError struct {
	verb     verb
	profiles []string
}

func (e *allFailedError) Error() string {
	return fmt.Sprintf("could not %s: %s", e.verb, strings.Join(e.profiles, ", "))
}

func (e *allFailedError) Hint() string {
	return "each failure is printed above; retry one with hermes -p PROFILE gateway " + e.verb.String() + " --debug"
}

// removeOptions are uninstall and unregister's choices.
type removeOptions struct {
	Verb    verb
	Profile string
	Out     io.Writer
}

// runRemove uninstalls or unregisters the profile's gateway. An uninstall
// with nothing installed says so rather than "uninstalled".
func runRemove(ctx context.Context, m service.Manager, o removeOptions) error {
	if o.Verb == verbUninstall {
		if st, err := m.Status(ctx, o.Profile); err == nil && !st.Installed {
			fmt.Fprintf(o.Out, "the %s gateway is not installed%s: nothing to uninstall\n", o.Profile, unitSuffix(st))
			return nil
		}
	}
	if err := o.Verb.call(ctx, m, o.Profile); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "%s the %s gateway\n", o.Verb.done(), o.Profile)
	return nil
}

// unitSuffix names the status's unit, " (hermes-gateway.service)".
func unitSuffix(st service.Status) string {
	if st.Unit == nil || *st.Unit == "" {
		return ""
	}
	return " (" + *st.Unit + ")"
}

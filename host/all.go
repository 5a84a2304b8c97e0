package host

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// allParallelism bounds how many profiles --all acts on at once.
const allParallelism = 8

func allFlag(verb string) cli.Flag {
	return &cli.BoolFlag{Name: "all", Usage: verb + " every profile under the home (default and profiles/*)"}
}

func waitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "timeout", Value: DefaultWait, Usage: "how long to wait for the backend to report the new state"},
		&cli.BoolFlag{Name: "no-wait", Usage: "return once the backend took the command, without waiting for the new state"},
	}
}

// homeProfiles are default and every profile folder under the home.
func homeProfiles(home string) ([]string, error) {
	return gateway.Home{Root: home}.Profiles()
}

// actOne runs a lifecycle verb on one profile and waits for its result.
func actOne(ctx context.Context, c *cli.Context, s *session, m *plugin.Client, verb string, profile string, p *progress) (string, error) {
	var old *int
	if verb == "restart" && !c.Bool("no-wait") {
		if st, err := m.Status(ctx, profile); err == nil {
			old = st.PID
		}
	}
	var err error
	var g goal
	switch verb {
	case "start":
		err, g = m.Start(ctx, profile), goalRunning
	case "stop":
		err, g = m.Stop(ctx, profile), goalStopped
	case "restart":
		err, g = m.Restart(ctx, profile), newRunner(old)
	}
	if err != nil {
		return "", err
	}
	if c.Bool("no-wait") {
		return fmt.Sprintf("%s the %s gateway (not waiting for it)", pastTense(verb), profile), nil
	}
	st, err := waitFor(ctx, m, profile, g, c.Duration("timeout"), p)
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("%s the %s gateway", pastTense(verb), profile)
	if st.PID != nil && st.State == service.StateRunning {
		msg += fmt.Sprintf(": running, pid %d", *st.PID)
	} else {
		msg += ": " + string(st.State)
	}
	return msg, nil
}

// lifecycleVerb is start, stop or restart, for one profile or --all.
func lifecycleVerb(verb, usage string) *cli.Command {
	return &cli.Command{
		Name:      verb,
		Usage:     usage,
		ArgsUsage: " ",
		Flags:     append([]cli.Flag{profileFlag(""), allFlag(verb)}, waitFlags()...),
		Action: func(c *cli.Context) error {
			return withManager(c, defaultScope(), func(s *session, m *plugin.Client, _ detect.Detection) error {
				p := newProgress(s.stderr)
				defer p.done()
				if !c.Bool("all") {
					msg, err := actOne(s.ctx, c, s, m, verb, s.profile, p)
					p.done()
					if err != nil {
						return err
					}
					fmt.Fprintln(s.stdout, msg)
					return nil
				}
				return actAll(c, s, m, verb, p)
			})
		},
	}
}

// actAll runs the verb on every profile, a few at a time, and sums up.
// Profiles without a service are skipped, not failed.
func actAll(c *cli.Context, s *session, m *plugin.Client, verb string, p *progress) error {
	profiles, err := homeProfiles(s.home)
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
			msg, err := actOne(s.ctx, c, s, m, verb, prof, p)
			results[i] = result{msg, err}
			return nil // each profile's failure is reported on its own line
		})
	}
	_ = g.Wait()
	p.done()
	ok, skipped := 0, 0
	var failed []string
	for i, r := range results {
		switch {
		case r.err == nil:
			ok++
			fmt.Fprintln(s.stdout, r.msg)
		case errors.Is(r.err, service.ErrNotFound):
			skipped++
			fmt.Fprintf(s.stdout, "skipped the %s gateway: not installed\n", profiles[i])
		default:
			failed = append(failed, profiles[i])
			fmt.Fprintf(s.stdout, "failed the %s gateway: %v\n", profiles[i], r.err)
		}
	}
	fmt.Fprintf(s.stdout, "%s %d of %d profiles (%d skipped, %d failed)\n", pastTense(verb), ok, len(profiles), skipped, len(failed))
	if len(failed) > 0 {
		sort.Strings(failed)
		return &allFailedError{verb: verb, profiles: failed}
	}
	return nil
}

type allFailedError struct {
	verb     string
	profiles []string
}

func (e *allFailedError) Error() string {
	return fmt.Sprintf("could not %s: %s", e.verb, strings.Join(e.profiles, ", "))
}

func (e *allFailedError) Hint() string {
	return "each failure is printed above; retry one with hermes -p PROFILE gateway " + e.verb + " --debug"
}

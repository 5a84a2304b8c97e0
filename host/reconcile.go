package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/nousresearch/hermes-service/internal/boot"
	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

func reconcileCommand() *cli.Command {
	return &cli.Command{
		Name:      "reconcile",
		Usage:     "at container start, register every profile's gateway again and start the ones that were running",
		ArgsUsage: " ",
		Description: "For the default profile and every profiles/<name> that holds SOUL.md, the intent recorded in\n" +
			"gateway_state.json decides: desired_state, else gateway_state (draining and degraded count as\n" +
			"running). A profile that was running is registered and started; any other is registered down.\n" +
			"Stale pid records go, and one audit line per profile is appended to logs/container-boot.log.\n" +
			"Run as root, it raises its own priority (nice -10; not the gateways'): the gateways it starts\n" +
			"all start at its end, and its last steps would otherwise wait behind them.",
		Action: reconcile,
	}
}

// reconcileOptions are reconcile's choices.
type reconcileOptions struct {
	Home gateway.Home
	// Argv is the runner's command line for a profile registered with
	// these settings.
	Argv func(profile string, set registration.Settings) ([]string, error)
	// Default is the line for a profile registered without settings of
	// ours (nil: Argv with none).
	Default  func(profile string) ([]string, error)
	Out, Err io.Writer
	Now      func() time.Time
}

func reconcile(c *cli.Context) error {
	raisePriority()
	return withManager(c, defaultScope(), func(s *session, m service.Manager, _ detect.Detection) error {
		// Upstream's CLI is looked for once, not once per profile: the search
		// reads every hermes on PATH and may start Python.
		find := sync.OnceValues(upstream().Find)
		byDefault := func(profile string) ([]string, error) { return defaultLineWith(find, profile) }
		return runReconcile(s.ctx, m, reconcileOptions{Home: gateway.Home{Root: s.home}, Argv: runnerLine, Default: byDefault,
			Out: s.stdout, Err: s.stderr, Now: time.Now})
	})
}

// runReconcile registers every profile again in one call, started when its
// intent was running, and writes and prints one audit line per profile.
func runReconcile(ctx context.Context, m service.Manager, o reconcileOptions) error {
	entries, err := boot.Entries(o.Home, o.Err)
	if err != nil {
		return fmt.Errorf("list the profiles of %s: %w", o.Home.Root, err)
	}
	// One profile whose settings cannot be used (unreadable, a link
	// planted in their place, a value its service definition cannot carry)
	// is skipped and reported; it never keeps the others down.
	var regs []service.Registration
	var kept []boot.Entry
	var skipped []string
	// Each profile's files are its own: read side by side (a boot reads a
	// thousand profiles' settings and pid records).
	prepared := make([]service.Registration, len(entries))
	failed := make([]error, len(entries))
	var g errgroup.Group
	g.SetLimit(boot.Readers)
	for i, e := range entries {
		g.Go(func() error {
			boot.ClearStalePIDRecord(e.Dir)
			// As registered: the protocol, program, environment and stop
			// timeout the operator chose, kept on the volume; the runner's
			// defaults for a profile never registered.
			prepared[i], failed[i] = reconcileOne(e, o)
			return nil
		})
	}
	_ = g.Wait()
	for i, e := range entries {
		reg, err := prepared[i], failed[i]
		if err != nil {
			fmt.Fprintf(o.Err, "reconcile: warning: skipping the %s profile: %v\n", e.Profile, err)
			if h := service.HintOf(err); h != "" {
				fmt.Fprintf(o.Err, "reconcile: hint: %s\n", h)
			}
			skipped = append(skipped, e.Profile)
			continue
		}
		regs, kept = append(regs, reg), append(kept, e)
	}
	if err := m.Reconcile(ctx, regs); err != nil {
		return err
	}
	now := o.Now()
	lines := make([]string, len(kept))
	for i, e := range kept {
		lines[i] = boot.AuditLine(e, now)
	}
	// One write, not one a line: by now s6 (or the manager) is starting
	// every gateway, and each write of a thousand would wait its turn.
	var out strings.Builder
	for _, line := range lines {
		out.WriteString("reconcile: " + line + "\n")
	}
	_, _ = io.WriteString(o.Out, out.String())
	logErr := boot.WriteLog(o.Home, lines, o.Err)
	if len(skipped) > 0 {
		return errors.Join(fmt.Errorf("reconciled every profile but %q (see the warnings above)", skipped), logErr)
	}
	// The gateways are registered whatever becomes of the audit log; a log
	// that cannot be written safely (a symlink planted where it should be)
	// fails the command, so the operator hears of it.
	return logErr
}

// reconcileOne is one profile's registration as it was registered.
func reconcileOne(e boot.Entry, o reconcileOptions) (service.Registration, error) {
	set, registered, err := registration.Load(e.Dir)
	if err != nil {
		return service.Registration{}, err
	}
	// Checked here, as the plugin would: one edited settings file must not
	// make the plugin refuse the whole boot.
	if err := service.ValidateEnv(set.Env); err != nil {
		return service.Registration{}, err
	}
	if err := service.ValidateStopTimeout(time.Duration(set.StopTimeout)); set.StopTimeout != 0 && err != nil {
		return service.Registration{}, err
	}
	argv, err := o.Argv(e.Profile, set)
	if !registered && o.Default != nil {
		argv, err = o.Default(e.Profile)
	}
	if err != nil {
		return service.Registration{}, err
	}
	return service.Registration{Profile: e.Profile, RegisterOptions: service.RegisterOptions{
		StartNow: e.Start(), Command: argv, Env: set.Env, StopTimeout: time.Duration(set.StopTimeout)}}, nil
}

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
	s, err := flagsOnlySession(c)
	if err != nil {
		return err
	}
	// Upstream's CLI is looked for once, not once per profile: the search
	// reads every hermes on PATH and may start Python.
	find := sync.OnceValues(upstream().Find)
	byDefault := func(profile string) ([]string, error) { return defaultLineWith(find, profile) }
	o := reconcileOptions{Home: gateway.Home{Root: s.home}, Argv: runnerLine, Default: byDefault,
		Out: s.stdout, Err: s.stderr, Now: time.Now}
	// The profiles are read while the plugin starts: a thousand profiles'
	// files take as long as the launch, and neither needs the other.
	prepared := make(chan bootPlan, 1)
	go func() { prepared <- prepareReconcile(o) }()
	m, _, err := s.open(defaultScope())
	plan := <-prepared
	if err != nil {
		return err
	}
	defer m.Close()
	return applyReconcile(s.ctx, m, o, plan)
}

// bootPlan is what reconcile will register: every profile read, its
// registration, or why it is skipped.
type bootPlan struct {
	err     error // the profiles could not be listed
	regs    []service.Registration
	kept    []boot.Entry
	skipped []string
}

// runReconcile registers every profile again in one call, started when its
// intent was running, and writes and prints one audit line per profile.
func runReconcile(ctx context.Context, m service.Manager, o reconcileOptions) error {
	return applyReconcile(ctx, m, o, prepareReconcile(o))
}

// prepareReconcile reads every profile's intent and registration settings
// (warnings to o.Err as it goes).
func prepareReconcile(o reconcileOptions) bootPlan {
	entries, err := boot.Entries(o.Home, o.Err)
	if err != nil {
		return bootPlan{err: fmt.Errorf("list the profiles of %s: %w", o.Home.Root, err)}
	}
	// One profile whose settings cannot be used (unreadable, a link
	// planted in their place, a value its service definition cannot carry)
	// is skipped and reported; it never keeps the others down.
	var plan bootPlan
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
			plan.skipped = append(plan.skipped, e.Profile)
			continue
		}
		plan.regs, plan.kept = append(plan.regs, reg), append(plan.kept, e)
	}
	return plan
}

// applyReconcile registers what plan holds in one call, then writes and
// prints one audit line per profile.
func applyReconcile(ctx context.Context, m service.Manager, o reconcileOptions, plan bootPlan) error {
	if plan.err != nil {
		return plan.err
	}
	if err := m.Reconcile(ctx, plan.regs); err != nil {
		return err
	}
	now := o.Now()
	lines := make([]string, len(plan.kept))
	for i, e := range plan.kept {
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
	if len(plan.skipped) > 0 {
		return errors.Join(fmt.Errorf("reconciled every profile but %q (see the warnings above)", plan.skipped), logErr)
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

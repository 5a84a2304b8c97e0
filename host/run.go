package host

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/boot"
	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      gateway.CommandRun,
		Usage:     "run the profile's gateway in the foreground (what every service definition runs; inside s6, a bare run starts its slot)",
		ArgsUsage: "[-- COMMAND [ARG...]]",
		Description: "Runs the gateway program, COMMAND, else $" + gateway.EnvGatewayCommand + " (split as a shell would, without one).\n" +
			"--protocol hermes: the program keeps upstream's protocol itself (upstream's gateway run); the runner\n" +
			"sets HERMES_HOME and the supervised-child variables and replaces itself with it.\n" +
			"--protocol plain (the runner's default): the runner supervises the program as a child and keeps the\n" +
			"protocol for it: an operator's stop (hermes gateway stop, or SIGINT) records \"stopped\"; a SIGTERM\n" +
			"without the planned-stop marker (a container restart, a bare kill) leaves it \"running\", so the\n" +
			"gateway comes back with the machine.\nExit codes: " + exitCodesText + ".\n\n" +
			"Inside s6 (an s6-overlay container, the private tree of `hermes gateway supervise`, or --backend s6),\n" +
			"a bare run (no COMMAND) that no supervisor started (" + gateway.EnvS6SupervisedChild + " and\n" +
			gateway.EnvSupervisedChild + " unset) hands the gateway to s6, as upstream's does for an image's CMD: it\n" +
			"starts the profile's slot, registering it first when it is not there: as it was registered before (its\n" +
			"settings in the home), else as `hermes gateway register` would (--protocol when given, else hermes; the\n" +
			"program from $" + gateway.EnvGatewayCommand + ", else upstream's gateway run). Then it waits until SIGTERM or\n" +
			"SIGINT and exits, leaving the gateway running under s6. " + gateway.FlagNoSupervise + " or " + gateway.EnvNoSupervise + "=1\n" +
			"runs it here instead.\nExit codes then: " + handOffExitCodesText + ".",
		Flags: []cli.Flag{
			profileFlag(""),
			&cli.BoolFlag{Name: flagName(gateway.FlagNoSupervise), Usage: "run the gateway here even inside s6, where a bare run " +
				"otherwise starts the profile's slot and waits (also " + gateway.EnvNoSupervise + "=1, true or yes)"},
			&cli.BoolFlag{Name: flagName(gateway.FlagReplace), Usage: "take over from a runner already running for this profile (planned stop, SIGTERM, then SIGKILL after 10s)"},
			&cli.DurationFlag{Name: flagName(gateway.FlagStopTimeout), Value: runner.DefaultStopTimeout,
				Usage: "how long the gateway may take to exit after SIGTERM before it is killed"},
			&cli.StringFlag{Name: flagName(gateway.FlagProtocol), Value: string(runner.ProtocolPlain),
				Usage: "hermes: the program speaks upstream's protocol (upstream's gateway run) and the runner replaces itself with it; " +
					"plain: a program that knows nothing of it, supervised as a child"},
			&cli.IntFlag{Name: flagName(gateway.FlagFatalExit), Value: gateway.ExitConfig,
				Usage: "the exit code for a gateway's fatal configuration, for a service manager that spares only a clean exit from restarts (launchd: 0); " +
					"under --protocol hermes the runner then stays as the gateway's parent to translate it, and hands an operator's stop on to the gateway"},
		},
		Action: runGateway,
	}
}

// exitCodesText is the runner's exit codes, for help text.
var exitCodesText = gateway.ExitText(gateway.ExitOK) + " clean or planned stop, " +
	gateway.ExitText(gateway.ExitFailed) + " failure or stop from outside,\n" +
	gateway.ExitText(gateway.ExitRestart) + " restart requested, " +
	gateway.ExitText(gateway.ExitConfig) + " fatal configuration (a supervisor must not restart it)"

// handOffExitCodesText is the exit codes of a run that hands the gateway to
// s6, for help text.
var handOffExitCodesText = gateway.ExitText(ExitOK) + " stopped by SIGTERM or SIGINT (the gateway stays up under s6),\n" +
	gateway.ExitText(ExitFailed) + " the slot could not be registered or started, " +
	gateway.ExitText(ExitUsage) + " a setting the slot cannot carry,\n" +
	gateway.ExitText(ExitConfig) + " no s6 plugin or no gateway program to register"

func runGateway(c *cli.Context) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	protocol, err := runner.ParseProtocol(c.String(flagName(gateway.FlagProtocol)))
	if err != nil {
		return &UsageError{Err: err}
	}
	dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
	if err != nil {
		return &UsageError{Err: err}
	}
	if s.handsToS6(c) {
		return s.superviseInSlot(c, dir)
	}
	argv, err := runner.Command(c.Args().Slice(), os.Getenv)
	if err != nil {
		return err
	}
	code, err := runner.Run(runner.Config{
		Home: s.home, Dir: dir, Profile: s.profile, Protocol: protocol, Argv: argv, Replace: c.Bool(flagName(gateway.FlagReplace)),
		StopTimeout: c.Duration(flagName(gateway.FlagStopTimeout)), FatalExit: c.Int(flagName(gateway.FlagFatalExit)),
		Signalled: c.Context.Done(), Log: s.log, Stdout: s.stdout, Stderr: s.stderr,
	})
	if err != nil {
		return err
	}
	return exitStatus(code)
}

// flagName is a flag's name for urfave/cli, from its spelling on a command
// line ("--replace" is "replace").
func flagName(spelling string) string { return strings.TrimLeft(spelling, "-") }

// handsToS6 says whether this run hands the gateway to its s6 slot rather
// than running it here: a bare run, no supervised child, no --no-supervise
// (runner.Invocation), and the s6 backend in use.
//
// Upstream redirects "inside an s6 container" only. hermes redirects
// wherever its s6 backend is the one in use: detected (s6-overlay), the
// private tree of `hermes gateway supervise`, or forced (--backend s6,
// HERMES_SERVICE_BACKEND=s6). That is when a slot exists to start, and when
// every other command (start, stop, status) works on that slot: a gateway
// run here beside it would be invisible to them, and a second gateway for
// the profile. The private tree is upstream's container without s6-overlay,
// and a forced s6 is the operator saying s6 supervises the gateways here;
// --no-supervise stays the way to run one in the foreground. Detection
// failing (no backend at all) keeps the run here, as before.
func (s *session) handsToS6(c *cli.Context) bool {
	inv := runner.Invocation{NoSupervise: c.Bool(flagName(gateway.FlagNoSupervise)), Program: c.Args().Present(), Getenv: os.Getenv}
	if why := inv.Foreground(); why != "" {
		s.log.Debug("running the gateway here", "why", why)
		return false
	}
	d, err := s.detect(defaultScope())
	if err != nil || d.Kind != service.KindS6 {
		s.log.Debug("running the gateway here", "why", "the backend in use is not s6", "backend", d.Reason)
		return false
	}
	s.log.Debug("handing the gateway to s6", "backend", d.Reason)
	return true
}

// superviseInSlot is a bare run inside s6 (handsToS6): the profile's slot
// registered and started, then this process waits, as a container's CMD,
// until the container stops it. It leaves the slot alone then: the
// container's stop takes the gateway down, and the intent it recorded
// (running) stays, so the next boot brings the gateway back.
func (s *session) superviseInSlot(c *cli.Context, dir string) error {
	slot, err := s.startSlot(c, dir)
	if err != nil {
		return &handOffError{Profile: s.profile, Err: err}
	}
	fmt.Fprintf(s.stdout, "the %s gateway runs under s6 as slot %s; this process now waits until it is stopped (SIGTERM, SIGINT), "+
		"leaving the gateway to s6\n", s.profile, slot)
	<-s.ctx.Done() // Run cancels it on SIGINT and SIGTERM
	return nil
}

// startSlot registers the profile's slot unless it is there, and starts it;
// slot is its name. The plugin is closed before it returns: nothing of it
// outlives the call while the run waits.
func (s *session) startSlot(c *cli.Context, dir string) (slot string, err error) {
	m, _, err := s.open(defaultScope())
	if err != nil {
		return "", err
	}
	defer m.Close()
	st, err := m.Status(s.ctx, s.profile)
	if err != nil {
		return "", err
	}
	slot = s.profile
	if st.Unit != nil {
		slot = *st.Unit
	}
	if !st.Installed {
		err := s.registerSlot(c, m, dir)
		if !errors.Is(err, service.ErrAlreadyExists) {
			return slot, err
		}
		// Registered meanwhile by another command: started below.
	}
	if err := m.Start(s.ctx, s.profile); err != nil {
		return "", err
	}
	fmt.Fprintf(s.stdout, "%s the %s gateway\n", verbStart.done(), s.profile)
	return slot, nil
}

// registerSlot registers the profile's slot, started (which records the
// intent running). As `hermes gateway reconcile` rebuilds it when the home
// holds its registration settings (registered before, its slot gone since);
// else as `hermes gateway register` would with its defaults (--protocol when
// this run was given one), keeping those settings in the home as register
// does, and taking them back if the registration is refused.
func (s *session) registerSlot(c *cli.Context, m service.Manager, dir string) error {
	program := gatewayProgram{Protocol: runner.ProtocolHermes, Command: strings.TrimSpace(os.Getenv(gateway.EnvGatewayCommand)),
		StopTimeout: gateway.StopBudget}
	if c.IsSet(flagName(gateway.FlagProtocol)) {
		program.Protocol = runner.Protocol(c.String(flagName(gateway.FlagProtocol)))
	}
	fresh := false
	reg, err := reconcileOne(boot.Entry{Profile: s.profile, Dir: dir, Prior: service.DesiredRunning}, reconcileOptions{
		Argv: runnerLine,
		Default: func(profile string) ([]string, error) {
			fresh = true
			return serviceArgv(profile, program)
		},
	})
	if err != nil {
		return err
	}
	undo := func() {}
	if fresh {
		if undo, err = registration.Save(dir, settingsOf(reg.Command, nil, program.StopTimeout)); err != nil {
			return err
		}
	}
	err = runRegister(s.ctx, m, registerOptions{Profile: s.profile, Out: s.stdout, RegisterOptions: reg.RegisterOptions})
	if err != nil {
		undo()
	}
	return err
}

// handOffError is a bare run inside s6 that could not hand the gateway to
// its slot.
type handOffError struct {
	Profile string
	Err     error
}

func (e *handOffError) Error() string {
	return fmt.Sprintf("hand the %s gateway to s6: %v", e.Profile, e.Err)
}

func (e *handOffError) Unwrap() error { return e.Err }

// Hint passes on the cause's, and says how to run the gateway here instead.
func (e *handOffError) Hint() string {
	h := "or run the gateway here with " + gateway.FlagNoSupervise + " (" + gateway.EnvNoSupervise + "=1)"
	if cause := service.HintOf(e.Err); cause != "" {
		return cause + "; " + h
	}
	return strings.TrimPrefix(h, "or ")
}

package host

import (
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      gateway.CommandRun,
		Usage:     "run the profile's gateway in the foreground (what every service definition runs)",
		ArgsUsage: "[-- COMMAND [ARG...]]",
		Description: "Runs the gateway program, COMMAND, else $" + gateway.EnvGatewayCommand + " (split as a shell would, without one).\n" +
			"--protocol hermes: the program keeps upstream's protocol itself (upstream's gateway run); the runner\n" +
			"sets HERMES_HOME and the supervised-child variables and replaces itself with it.\n" +
			"--protocol plain (the runner's default): the runner supervises the program as a child and keeps the\n" +
			"protocol for it: an operator's stop (hermes gateway stop, or SIGINT) records \"stopped\"; a SIGTERM\n" +
			"without the planned-stop marker (a container restart, a bare kill) leaves it \"running\", so the\n" +
			"gateway comes back with the machine.\nExit codes: " + exitCodesText + ".",
		Flags: []cli.Flag{
			profileFlag(""),
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

func runGateway(c *cli.Context) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	protocol, err := runner.ParseProtocol(c.String(flagName(gateway.FlagProtocol)))
	if err != nil {
		return &UsageError{Err: err}
	}
	argv, err := runner.Command(c.Args().Slice(), os.Getenv)
	if err != nil {
		return err
	}
	dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
	if err != nil {
		return &UsageError{Err: err}
	}
	code, err := runner.Run(runner.Config{
		Home: s.home, Dir: dir, Profile: s.profile, Protocol: protocol, Argv: argv, Replace: c.Bool(flagName(gateway.FlagReplace)),
		StopTimeout: c.Duration(flagName(gateway.FlagStopTimeout)), FatalExit: c.Int(flagName(gateway.FlagFatalExit)),
		Log: s.log, Stdout: s.stdout, Stderr: s.stderr,
	})
	if err != nil {
		return err
	}
	return exitStatus(code)
}

// flagName is a flag's name for urfave/cli, from its spelling on a command
// line ("--replace" is "replace").
func flagName(spelling string) string { return strings.TrimLeft(spelling, "-") }

// Package host is the hermes command line: its commands, flags, output and
// exit codes. Each command's logic is an options struct and a run function
// on a service.Manager (tested in process against plugintest.Harness); the
// work behind them lives elsewhere: detection (internal/detect), plugin
// discovery (internal/discovery), the runner (internal/runner), the
// container boot (internal/boot), the private s6 tree
// (internal/privatetree), and the backend plugins over shared/plugin.
package host

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/front"
	"github.com/nousresearch/hermes-service/internal/route"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Version is hermes's version, set at build time with
// -ldflags "-X github.com/nousresearch/hermes-service/host.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// Main runs hermes with the process's arguments and returns its exit code.
func Main() int {
	return Run(context.Background(), os.Args, os.Stdout, os.Stderr)
}

// Run runs hermes with args and returns its exit code. Every plugin it
// launched is gone when it returns, on every path: Ctrl-C and SIGTERM cancel
// the command, and the plugins are closed on the way out.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch route.Of(args[1:]) {
	case route.Upstream:
		return front.PassThrough(args[1:], stderr)
	case route.Version:
		return passVersion(args[1:], stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer plugin.CleanupAll()
	err := newApp(stdout, stderr).RunContext(ctx, args)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("interrupted: %w", err)
	}
	report(stderr, err)
	return exitCode(err)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { printVersion(c.App.Writer) }
	app := &cli.App{
		Name:  "hermes",
		Usage: "keep the Hermes messaging gateway running as a service",
		Description: "This hermes answers `hermes gateway ...`: it installs, starts, stops and watches a Hermes gateway\n" +
			"per profile under this machine's service manager (systemd, launchd, the Windows Service Control\n" +
			"Manager, or s6 in containers), through a backend plugin named hermes-service-<backend>.\n" +
			"Every other command (chat, setup, profile, model, ...; a bare `hermes` too) belongs to the Hermes CLI\n" +
			"(hermes-agent) and is passed to it unchanged: $" + gateway.EnvUpstreamCLI + " when set, else the next\n" +
			"`hermes` on PATH that is not this one, else `python3 -m hermes_cli.main`. `hermes --version` prints both.",
		HideVersion:               true,
		HideHelpCommand:           true,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		EnableBashCompletion:      true,
		DisableSliceFlagSeparator: true,
		Flags:                     globalFlags(),
		Commands:                  []*cli.Command{gatewayCommand()},
		OnUsageError:              onUsageError,
		CommandNotFound:           commandNotFound,
		ExitErrHandler:            func(*cli.Context, error) {}, // Run reports and exits
	}
	setUsageErrors(app.Commands)
	return app
}

// setUsageErrors makes a bad flag on any command a *UsageError (exit 2),
// reported once, like every other error.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		setUsageErrors(c.Subcommands)
	}
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		profileFlag(service.DefaultProfile),
		&cli.StringFlag{Name: "home", EnvVars: []string{gateway.EnvHome}, DefaultText: "~/.hermes",
			Usage: "the Hermes home: the default profile's folder, with named profiles under profiles/"},
		&cli.StringFlag{Name: "backend", EnvVars: []string{gateway.EnvServiceBackend}, DefaultText: "detected",
			Usage: "the backend to use (s6, systemd, launchd, windows, or another plugin's kind) instead of detecting one"},
		&cli.StringFlag{Name: "scandir", EnvVars: []string{gateway.EnvS6ScanDir}, DefaultText: "/run/service",
			Usage: "the s6 scandir the s6 backend registers gateways in"},
		&cli.BoolFlag{Name: "debug", EnvVars: []string{gateway.EnvDebug}, Usage: "log every step, the plugins' included, to stderr"},
		&cli.DurationFlag{Name: "plugin-timeout", EnvVars: []string{gateway.EnvPluginTimeout}, Value: plugin.DefaultStartTimeout,
			Usage: "how long a backend plugin may take to start before it is killed"},
	}
}

// profileFlag is -p; it exists on hermes and on every gateway command, so
// both `hermes -p work gateway start` and `hermes gateway start -p work` work.
func profileFlag(def string) cli.Flag {
	return &cli.StringFlag{Name: "profile", Aliases: []string{"p"}, Value: def, DefaultText: service.DefaultProfile,
		Usage: "the profile whose gateway to act on"}
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return &UsageError{Err: err} }

func commandNotFound(c *cli.Context, name string) {
	// urfave/cli reports nothing itself; the action that follows does.
}

// unknownSubcommand is the action of a command that only groups others.
func unknownSubcommand(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unknown command %q for hermes %s", c.Args().First(), c.Command.Name)
	}
	return cli.ShowSubcommandHelp(c)
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print this hermes's version, the plugin protocol and the platform (hermes --version adds the Hermes CLI's)",
		Action: func(c *cli.Context) error {
			printVersion(c.App.Writer)
			return nil
		},
	}
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "hermes %s\nplugin protocol %d\n%s %s/%s\n", version(), plugin.ProtocolVersion,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// session is what one command works with, resolved from its flags.
type session struct {
	ctx     context.Context
	home    string
	profile string
	backend string        // forced backend, "" to detect
	forced  string        // what forced it
	timeout time.Duration // --plugin-timeout: the launch's bound
	// callTimeout bounds each call to the plugin: the command's own
	// --timeout when it has one, else plugin.DefaultCallTimeout.
	callTimeout time.Duration
	scandir     string
	// privateTree: the s6 backend runs on the tree of gateway supervise.
	privateTree bool
	// userScope is --user: the user's own service manager, root's too.
	userScope bool
	log       hclog.Logger
	stdout    io.Writer
	stderr    io.Writer
}

// newSession resolves the global flags and validates the profile name, so
// that a bad name is refused before anything is launched or touched.
func newSession(c *cli.Context) (*session, error) {
	s := &session{
		ctx:     c.Context,
		profile: profileOf(c),
		backend: c.String("backend"),
		timeout: c.Duration("plugin-timeout"),
		// c.Duration is 0 for a command without --timeout: Launch's default.
		callTimeout: c.Duration("timeout"),
		scandir:     c.String("scandir"),
		userScope:   c.Bool("user"),
		stdout:      c.App.Writer,
		stderr:      c.App.ErrWriter,
	}
	if err := service.ValidateProfile(s.profile); err != nil {
		return nil, &UsageError{Err: err}
	}
	if s.backend != "" {
		if err := service.ValidateProfile(s.backend); err != nil {
			return nil, usagef("invalid backend name %q: backend names follow the profile-name rules (lower case, digits, '-', '_')", s.backend)
		}
		s.forced = "forced by --backend"
		if os.Getenv(gateway.EnvServiceBackend) == s.backend {
			s.forced = "forced by " + gateway.EnvServiceBackend
		}
	}
	home, err := resolveHome(c.String("home"))
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	s.home = home
	level := hclog.Warn
	if c.Bool("debug") {
		level = hclog.Trace
	}
	s.log = hclog.New(&hclog.LoggerOptions{Name: "hermes", Level: level, Output: s.stderr})
	return s, nil
}

// profileOf is the innermost -p given (the command's, then hermes's),
// else the default profile.
func profileOf(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		for _, name := range ctx.LocalFlagNames() {
			if name == "profile" || name == "p" {
				return ctx.String("profile")
			}
		}
	}
	return service.DefaultProfile
}

func resolveHome(flag string) (string, error) {
	home := flag
	if home == "" {
		dir, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the Hermes home: %w (set HERMES_HOME or pass --home)", err)
		}
		home = filepath.Join(dir, ".hermes")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("Hermes home %q: %w", home, err)
	}
	return abs, nil
}

// passVersion prints hermes's version, then upstream's CLI's (args as
// given: its --version or -V).
func passVersion(args []string, stdout, stderr io.Writer) int {
	printVersion(stdout)
	cli, err := front.UpstreamCLI()
	if err != nil {
		fmt.Fprintf(stdout, "Hermes CLI: not found (%v)\n", err)
		return ExitOK
	}
	return front.Run(append(append([]string{}, cli...), args...), stderr)
}

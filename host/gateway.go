package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/internal/upstreamcli"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

func gatewayCommand() *cli.Command {
	return &cli.Command{
		Name:  gateway.CommandGateway,
		Usage: "install, run and watch a profile's gateway service",
		Description: "Every gateway command acts on one profile, chosen with -p (the default profile when absent),\n" +
			"through the backend detected on this machine or chosen with --backend.",
		Action: unknownSubcommand,
		Subcommands: []*cli.Command{
			{
				Name:      verbInstall.String(),
				Usage:     "install the profile's gateway as a service, enable it and start it",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					profileFlag(""),
					&cli.BoolFlag{Name: "force", Usage: "replace an existing service definition"},
					&cli.BoolFlag{Name: "start-now", Value: true, Usage: "start the gateway once installed"},
					&cli.BoolFlag{Name: "no-start-now", Aliases: []string{"no-start"}, Usage: "install without starting the gateway now"},
					&cli.BoolFlag{Name: "start-on-login", Value: true, Usage: "start the gateway at boot (system scope) or login (user scope)"},
					&cli.BoolFlag{Name: "no-start-on-login", Usage: "do not start the gateway at boot or login"},
					&cli.BoolFlag{Name: "system", Usage: "install a system-wide service instead of a per-user one (needs root)"},
					userFlag(),
					&cli.StringFlag{Name: "run-as-user", Usage: "the account a system-wide service runs as"},
					&cli.BoolFlag{Name: "elevated-handoff", Usage: "on Windows, re-run elevated (UAC) when not already"},
					envFlag(),
					protocolFlag(), gatewayCommandFlag(), stopTimeoutFlag(),
				},
				Action: install,
			},
			removeCommand(verbUninstall, "stop the gateway and remove its service definition"),
			lifecycleCommand(verbStart, "start the profile's gateway and wait until it runs"),
			stopCommand(),
			lifecycleCommand(verbRestart, "restart the profile's gateway and wait until it runs again"),
			{
				Name:      "status",
				Usage:     "show the profile's gateway, or --all: state, pid, uptime, restarts (exit 3 when not running)",
				ArgsUsage: " ",
				Flags: []cli.Flag{profileFlag(""), allFlag("show"), jsonFlag(), systemFlag(), userFlag(),
					&cli.BoolFlag{Name: "deep", Usage: "more detail: what the gateway's own files say (state, intent, pid record, planned-stop marker) and its last log lines"},
					&cli.BoolFlag{Name: "full", Aliases: []string{"l"}, Usage: "the same as --deep (the Hermes CLI's spelling)"}},
				Action: status,
			},
			{
				Name:      verbRegister.String(),
				Usage:     "register the profile's gateway with a runtime supervisor (s6) and start it",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					profileFlag(""),
					&cli.BoolFlag{Name: "start-now", Value: true, Usage: "start the gateway once registered"},
					&cli.BoolFlag{Name: "no-start-now", Aliases: []string{"no-start"}, Usage: "register it down, without starting it"},
					&cli.BoolFlag{Name: "force", Usage: "replace the settings of a profile registered already (program, protocol, --env, stop timeout); " +
						"its gateway restarts only when they changed"},
					envFlag(),
					protocolFlag(), gatewayCommandFlag(), stopTimeoutFlag(),
				},
				Action: register,
			},
			removeCommand(verbUnregister, "stop the gateway and remove its runtime registration"),
			{
				Name:      "list",
				Usage:     "list the profiles registered with the runtime supervisor",
				ArgsUsage: " ",
				Flags:     []cli.Flag{jsonFlag()},
				Action:    list,
			},
			{
				Name:      "logs",
				Usage:     "print the recent lines of the profile's gateway log",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					profileFlag(""),
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new lines until interrupted"},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: service.DefaultLogLines, Usage: "how many recent lines to print"},
				},
				Action: logs,
			},
			runCommand(),
			reconcileCommand(),
			superviseCommand(),
			markStopCommand(),
			waitReadyCommand(),
			// hermes's own extras live here, never at the top level, where
			// the Hermes CLI has its own doctor, version, completion and
			// plugins.
			doctorCommand(),
			pluginsCommand(),
			witnessCommand(),
			versionCommand(),
			completionCommand(),
			manCommand(),
		},
	}
}

// onOff reads a --NAME/--no-NAME pair (the Hermes CLI's spellings), on
// unless --no-NAME is given or --NAME=false.
func onOff(c *cli.Context, name string) bool {
	if c.Bool("no-" + name) {
		return false
	}
	return c.Bool(name)
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print JSON for scripts instead of text"}
}

// envFlag is --env. Its values are kept byte for byte: urfave/cli trims
// the spaces around a slice flag's values unless told not to, and a value's
// trailing spaces, tabs or newlines are the operator's.
func envFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "env", KeepSpace: true, Usage: "extra `KEY=VALUE` for the gateway's environment " +
		"(repeatable, each key once), the value kept byte for byte; not the variables hermes sets itself (" +
		gateway.EnvHome + ": --home, " + gateway.EnvGatewayCommand + ": --gateway-command, the supervised-child variables)"}
}

func allFlag(verb string) cli.Flag {
	return &cli.BoolFlag{Name: "all", Usage: verb + " every profile under the home (default and profiles/*)"}
}

func waitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "timeout", Value: DefaultWait, Usage: "how long to wait for the backend to report the new state"},
		&cli.BoolFlag{Name: "no-wait", Usage: "return once the backend took the command, without waiting for the new state"},
	}
}

// settleFlag is start and restart's --settle.
func settleFlag() cli.Flag {
	return &cli.DurationFlag{Name: "settle", Value: DefaultSettle, Usage: "once the gateway runs, how long it must stay up " +
		"under the same pid (no exit, no restart) before it counts as started; 0 takes the first sign of running " +
		"(at most " + shortDuration(MaxSettle) + ")"}
}

// settleOf is --settle, checked.
func settleOf(c *cli.Context) (time.Duration, error) {
	d := c.Duration("settle")
	if d < 0 || d > MaxSettle {
		return 0, usagef("--settle %s: want 0 to %s", d, shortDuration(MaxSettle))
	}
	return d, nil
}

// flagsOnlySession is newSession for a command that takes flags only.
func flagsOnlySession(c *cli.Context) (*session, error) {
	if err := noArgs(c); err != nil {
		return nil, err
	}
	return newSession(c)
}

// noArgs refuses stray arguments: every gateway command takes flags only.
func noArgs(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("hermes gateway %s takes no arguments, got %q (the profile comes from -p)", c.Command.Name, c.Args().First())
	}
	return nil
}

// parseEnv turns --env KEY=VALUE flags into a map, refusing bad input
// (exit 2) before any plugin runs or anything is written: a key given
// twice, a key hermes sets itself (gateway.OwnedEnv), and what
// service.ValidateEnvVar refuses (a key that is no identifier, a value
// holding NUL or invalid UTF-8, which the plugin protocol cannot carry).
// Values are kept byte for byte.
func parseEnv(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(values))
	given := make(map[string]string, len(values)) // key as compared -> as given
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usagef("--env %q: want KEY=VALUE", kv)
		}
		if err := service.ValidateEnvVar(k, v); err != nil {
			return nil, &UsageError{Err: err}
		}
		same := k
		if runtime.GOOS == "windows" {
			same = strings.ToUpper(k) // Windows' names ignore case
		}
		if first, dup := given[same]; dup {
			return nil, &UsageError{Err: &duplicateEnvError{First: first, Again: k}}
		}
		given[same] = k
		if setBy, owned := gateway.OwnedBy(k); owned {
			return nil, &UsageError{Err: &ownedEnvError{Key: k, SetBy: setBy}}
		}
		env[k] = v
	}
	return env, nil
}

// duplicateEnvError is a key given twice to --env: which value the
// operator meant is not hermes's to guess.
type duplicateEnvError struct{ First, Again string }

func (e *duplicateEnvError) Error() string {
	if e.First == e.Again {
		return fmt.Sprintf("--env %s is given twice", e.Again)
	}
	return fmt.Sprintf("--env %s and --env %s name one variable (Windows ignores case)", e.First, e.Again)
}

func (e *duplicateEnvError) Hint() string { return "give each key once, with the value you mean" }

// ownedEnvError is --env setting a variable hermes sets itself.
type ownedEnvError struct{ Key, SetBy string }

func (e *ownedEnvError) Error() string {
	return fmt.Sprintf("--env %s: hermes sets %s for the gateway itself", e.Key, e.Key)
}

func (e *ownedEnvError) Hint() string { return e.SetBy }

func protocolFlag() cli.Flag {
	return &cli.StringFlag{Name: flagName(gateway.FlagProtocol), Value: string(runner.ProtocolHermes),
		Usage: "how the service runs the gateway program: hermes (it keeps upstream's protocol itself, e.g. upstream's " +
			"`gateway run`; hermes replaces itself with it) or plain (a program that knows nothing of it, supervised as a child)"}
}

func gatewayCommandFlag() cli.Flag {
	return &cli.StringFlag{Name: "gateway-command", EnvVars: []string{gateway.EnvGatewayCommand},
		Usage: "the gateway program and its arguments, split as a shell would; its program is resolved to an absolute path " +
			"now, so the service never depends on PATH at boot (default with --protocol hermes: upstream's " +
			"`[-p P] gateway run`, from $" + gateway.EnvUpstreamCLI + ", another hermes on PATH, or python3 -m hermes_cli.main)"}
}

func stopTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: flagName(gateway.FlagStopTimeout), Value: gateway.StopBudget,
		Usage: "the `DURATION` the service manager lets a stop take (the gateway's drain and the runner around it) before it kills " +
			"what is left: whole seconds, " + shortDuration(gateway.MinStopBudget) + " to " + shortDuration(gateway.MaxStopBudget) +
			"; under --protocol plain the runner lets the gateway drain for this less a margin (a third, at most 30s)"}
}

// shortDuration is d as a person writes it: "1h", "2m", "1m30s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// gatewayProgram is what install and register were told about the gateway
// program and how it is stopped.
type gatewayProgram struct {
	Protocol runner.Protocol // hermes or plain
	// Command is the program's command line; "" is upstream's gateway
	// under hermes, the service's environment under plain.
	Command string
	// StopTimeout is the service manager's stop budget (--stop-timeout).
	StopTimeout time.Duration
}

func gatewayProgramOf(c *cli.Context) (gatewayProgram, error) {
	p, err := runner.ParseProtocol(c.String(flagName(gateway.FlagProtocol)))
	if err != nil {
		return gatewayProgram{}, &UsageError{Err: err}
	}
	budget := c.Duration(flagName(gateway.FlagStopTimeout))
	if err := checkStopBudget(budget); err != nil {
		return gatewayProgram{}, err
	}
	return gatewayProgram{Protocol: p, Command: strings.TrimSpace(c.String("gateway-command")), StopTimeout: budget}, nil
}

// checkStopBudget refuses a --stop-timeout no service definition should
// carry (exit 2), before any plugin runs: so short the gateway cannot drain,
// so long a stop is a hang, or finer than the whole seconds systemd's
// TimeoutStopSec and launchd's ExitTimeOut count in.
func checkStopBudget(d time.Duration) error {
	switch {
	case d < gateway.MinStopBudget || d > gateway.MaxStopBudget:
		return usagef("--stop-timeout %s: want %s to %s (the default, %s, covers upstream's %s drain)", shortDuration(d),
			shortDuration(gateway.MinStopBudget), shortDuration(gateway.MaxStopBudget), shortDuration(gateway.StopBudget),
			shortDuration(gateway.Drain))
	case d%time.Second != 0:
		return usagef("--stop-timeout %s: want whole seconds, as service managers count them", d)
	}
	return nil
}

// serviceArgv is the runner's command line a service definition records:
// hermes [-p P] gateway run, then, when told, --protocol and the gateway
// program after --, its program made absolute. A program that cannot be
// found is a configuration error (exit 78) now, not a service that fails
// at every start.
func serviceArgv(profile string, g gatewayProgram) ([]string, error) {
	if g.Command == "" {
		if g.Protocol == runner.ProtocolPlain {
			// the program comes from the service's environment
			return runnerLine(profile, registration.Settings{StopTimeout: registration.Duration(g.StopTimeout)})
		}
		cli, err := upstream().Find()
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		return runnerLine(profile, registration.Settings{Protocol: gateway.ProtocolHermes, Program: upstreamcli.GatewayRun(cli, profile)})
	}
	words, err := runner.SplitCommandLine(g.Command)
	if err != nil || len(words) == 0 {
		return nil, usagef("--gateway-command %q cannot be split into words: %v", g.Command, err)
	}
	path, err := exec.LookPath(words[0])
	if err == nil {
		path, err = filepath.Abs(path)
	}
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("the gateway program %q: %w", words[0], err)}
	}
	words[0] = path
	return runnerLine(profile, registration.Settings{Protocol: string(g.Protocol), Program: words,
		StopTimeout: registration.Duration(g.StopTimeout)})
}

// runnerLine is this hermes binary's runner for profile with the settings'
// protocol and program (none: the runner's defaults). Under the plain
// protocol the runner supervises the gateway as its child, and is told how
// long the child may drain: what fits in the settings' stop budget
// (gateway.DrainWithin). Under hermes the gateway replaces the runner and
// drains by its own clock; the budget is the service manager's alone.
func runnerLine(profile string, set registration.Settings) ([]string, error) {
	exe, err := executable()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("cannot find the hermes executable to put in the service: %w", err)}
	}
	drain := []string{gateway.FlagStopTimeout, gateway.DurationText(gateway.DrainWithin(time.Duration(set.StopTimeout)))}
	if len(set.Program) == 0 {
		return gateway.RunnerArgv(exe, profile, drain...), nil // the runner's default protocol: plain
	}
	protocol := set.Protocol
	if protocol == "" {
		protocol = gateway.ProtocolPlain
	}
	var flags []string
	if protocol == gateway.ProtocolPlain {
		flags = drain
	}
	flags = append(flags, gateway.FlagProtocol, protocol, gateway.ProgramSeparator)
	return gateway.RunnerArgv(exe, profile, append(flags, set.Program...)...), nil
}

// executable is this hermes binary's path, asked of the kernel once: a
// boot's reconcile needs it for every profile.
var executable = sync.OnceValues(os.Executable)

// settingsOf are the registration settings a runner line, env and stop
// budget carry.
func settingsOf(argv []string, env map[string]string, budget time.Duration) registration.Settings {
	set := registration.Settings{Env: env, StopTimeout: registration.Duration(budget)}
	if i := slices.Index(argv, gateway.ProgramSeparator); i >= 0 {
		set.Protocol, set.Program = gateway.RunnerProtocol(argv), argv[i+1:]
	}
	return set
}

// upstream finds upstream's CLI for this process.
func upstream() upstreamcli.Finder {
	self, _ := os.Executable()
	return upstreamcli.Finder{Getenv: os.Getenv, Self: self}
}

// defaultLine is the runner's command line for a profile registered with
// no settings of ours (a boot's reconcile of a profile made by upstream's
// CLI): upstream's gateway under the hermes protocol when its CLI is here,
// else the runner's plain default, the program from the environment.
func defaultLine(profile string) ([]string, error) { return defaultLineWith(upstream().Find, profile) }

// defaultLineWith is defaultLine with upstream's CLI found by find (a boot's
// reconcile looks once for all its profiles).
func defaultLineWith(find func() ([]string, error), profile string) ([]string, error) {
	if cli, err := find(); err == nil {
		return runnerLine(profile, registration.Settings{Protocol: gateway.ProtocolHermes, Program: upstreamcli.GatewayRun(cli, profile)})
	}
	return runnerLine(profile, registration.Settings{})
}

// withManager runs fn with the session and the launched backend, closing
// the plugin afterwards.
func withManager(c *cli.Context, scope detect.Scope, fn func(*session, service.Manager, detect.Detection) error) error {
	s, err := flagsOnlySession(c)
	if err != nil {
		return err
	}
	m, d, err := s.open(scope)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(s, m, d)
}

// systemFlag is --system on the commands that act on an installed service
// (the Hermes CLI's spelling): the system-wide one, which is hermes's
// choice as root anyway; a system service is only root's to control.
func systemFlag() cli.Flag {
	return &cli.BoolFlag{Name: "system", Usage: "the system-wide service (the default as root; needs root)"}
}

// userFlag is --user: the per-user service in this user's own manager,
// which root asks for by name (as root, hermes's choice is the system's).
func userFlag() cli.Flag {
	return &cli.BoolFlag{Name: "user", Usage: "the per-user service in this user's own service manager (the default but as root, whose own it then is)"}
}

// scopeOf is the scope a command acts in: --system asks for the system's,
// which only root may control; --user for the user's own, root's too.
func scopeOf(c *cli.Context) (detect.Scope, error) {
	if c.Bool("system") && c.Bool("user") {
		return defaultScope(), usagef("--system and --user ask for two scopes: choose one")
	}
	if c.Bool("system") && runtime.GOOS != "windows" && os.Geteuid() != 0 {
		return defaultScope(), usagef("--system acts on the system-wide service, which needs root: run it with sudo")
	}
	if c.Bool("user") {
		return detect.ScopeUser, nil
	}
	return defaultScope(), nil
}

func defaultScope() detect.Scope {
	if os.Geteuid() == 0 {
		return detect.ScopeSystem
	}
	return detect.ScopeUser
}

// installOptions are install's choices.
type installOptions struct {
	Profile string
	service.InstallOptions
	Out, Err io.Writer
	// rerunElevated hands the same command to an elevated hermes (Windows'
	// UAC) when the backend says it is not elevated; nil never does.
	rerunElevated func() (int, error)
}

func install(c *cli.Context) error {
	env, err := parseEnv(c.StringSlice("env"))
	if err != nil {
		return err
	}
	scope := defaultScope()
	switch {
	case c.Bool("system") && c.Bool("user"):
		return usagef("--system and --user ask for two scopes: choose one")
	case c.Bool("system"):
		scope = detect.ScopeSystem
	case c.Bool("user"):
		scope = detect.ScopeUser
	}
	program, err := gatewayProgramOf(c)
	if err != nil {
		return err
	}
	return withManager(c, scope, func(s *session, m service.Manager, _ detect.Detection) error {
		argv, err := serviceArgv(s.profile, program)
		if err != nil {
			return err
		}
		o := installOptions{Profile: s.profile, Out: s.stdout, Err: s.stderr, InstallOptions: service.InstallOptions{
			Force: c.Bool("force"), StartNow: onOff(c, "start-now"), StartOnLogin: onOff(c, "start-on-login"),
			ElevatedHandoff: c.Bool("elevated-handoff"), System: c.Bool("system"), RunAsUser: c.String("run-as-user"),
			Env: env, Command: argv, StopTimeout: program.StopTimeout,
		}}
		if o.ElevatedHandoff {
			o.rerunElevated = func() (int, error) { return elevatedRerun(os.Args[1:]) }
		}
		return runInstall(s.ctx, m, o)
	})
}

// runInstall installs the profile's gateway as a service.
func runInstall(ctx context.Context, m service.Manager, o installOptions) error {
	err := m.Install(ctx, o.Profile, o.InstallOptions)
	if errors.Is(err, service.ErrPermission) && o.rerunElevated != nil {
		fmt.Fprintln(o.Err, "hermes: not elevated; asking Windows to run the install elevated")
		code, herr := o.rerunElevated()
		if herr != nil {
			return fmt.Errorf("elevated handoff: %w (after: %v)", herr, err)
		}
		return exitStatus(code)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "%s the %s gateway\n", verbInstall.done(), o.Profile)
	return nil
}

// lifecycleCommand is start, stop or restart, for one profile or --all.
func lifecycleCommand(v verb, usage string) *cli.Command {
	flags := append([]cli.Flag{profileFlag(""), allFlag(v.String()), systemFlag(), userFlag()}, waitFlags()...)
	if v != verbStop {
		flags = append(flags, settleFlag())
	}
	return &cli.Command{
		Name:      v.String(),
		Usage:     usage,
		ArgsUsage: " ",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			scope, err := scopeOf(c)
			if err != nil {
				return err
			}
			var settle time.Duration
			if v != verbStop {
				if settle, err = settleOf(c); err != nil {
					return err
				}
			}
			return withManager(c, scope, func(s *session, m service.Manager, _ detect.Detection) error {
				return runLifecycle(s.ctx, m, lifecycleOptions{Verb: v, Profile: s.profile, All: c.Bool("all"), Home: s.home,
					NoWait: c.Bool("no-wait"), Timeout: c.Duration("timeout"), Settle: settle, Out: s.stdout, Progress: newProgress(s.stderr)})
			})
		},
	}
}

// removeCommand is uninstall or unregister.
func removeCommand(v verb, usage string) *cli.Command {
	return &cli.Command{
		Name:      v.String(),
		Usage:     usage,
		ArgsUsage: " ",
		Flags:     []cli.Flag{profileFlag(""), systemFlag(), userFlag()},
		Action: func(c *cli.Context) error {
			scope, err := scopeOf(c)
			if err != nil {
				return err
			}
			return withManager(c, scope, func(s *session, m service.Manager, _ detect.Detection) error {
				return runRemove(s.ctx, m, removeOptions{Verb: v, Profile: s.profile, Out: s.stdout})
			})
		},
	}
}

// statusOptions are status's choices.
type statusOptions struct {
	Profile string
	// All shows every profile of Home.
	All  bool
	Home string
	JSON bool
	// Deep adds what the gateway's own files say and its last log lines.
	Deep bool
	// Backend says which backend answered and why.
	Backend string
	Out     io.Writer
	Now     func() time.Time
}

func status(c *cli.Context) error {
	if c.Bool("all") {
		plugin.ShortLivedGC()
	}
	scope, err := scopeOf(c)
	if err != nil {
		return err
	}
	return withManager(c, scope, func(s *session, m service.Manager, d detect.Detection) error {
		return runStatus(s.ctx, m, statusOptions{Profile: s.profile, All: c.Bool("all"), Home: s.home, JSON: c.Bool("json"),
			Deep: c.Bool("deep") || c.Bool("full"), Backend: d.Reason, Out: s.stdout, Now: time.Now})
	})
}

// runStatus shows one profile (exit 3 when it is not running) or all.
func runStatus(ctx context.Context, m service.Manager, o statusOptions) error {
	if o.All {
		profiles, err := gateway.Home{Root: o.Home}.Profiles()
		if err != nil {
			return err
		}
		sts, err := m.Statuses(ctx, profiles)
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(o.Out, sts)
		}
		printStatusTable(o.Out, sts, o.Now())
		fmt.Fprintf(o.Out, "backend: %s\n", o.Backend)
		return nil
	}
	st, err := m.Status(ctx, o.Profile)
	if err != nil {
		return err
	}
	if o.JSON {
		if err := writeJSON(o.Out, st); err != nil {
			return err
		}
	} else {
		printStatusTable(o.Out, []service.Status{st}, o.Now())
		if st.Detail != "" {
			fmt.Fprintf(o.Out, "detail: %s\n", st.Detail)
		}
		fmt.Fprintf(o.Out, "backend: %s\n", o.Backend)
		if o.Deep {
			printDeep(ctx, m, o)
		}
	}
	if st.State != service.StateRunning {
		return exitStatus(ExitNotRunning)
	}
	return nil
}

// deepLogLines is how many log lines status --deep shows.
const deepLogLines = 10

// printDeep is status --deep's detail: the gateway's own files, read as
// they are (never through a link), and its last log lines.
func printDeep(ctx context.Context, m service.Manager, o statusOptions) {
	dir, err := gateway.Home{Root: o.Home}.ProfileDir(o.Profile)
	if err != nil {
		return
	}
	st, err := gateway.ReadState(dir)
	switch {
	case err != nil:
		fmt.Fprintf(o.Out, "state file: %v\n", err)
	case !st.Exists():
		fmt.Fprintf(o.Out, "state file: none (%s)\n", filepath.Join(dir, gateway.StateFile))
	default:
		fmt.Fprintf(o.Out, "state file: gateway_state %s, desired_state %s, pid %d\n",
			orNone(st.GatewayState()), orNone(st.DesiredState()), st.PID())
		if raw := st.Raw(gateway.KeyExitReason); raw != nil && string(raw) != "null" {
			fmt.Fprintf(o.Out, "exit reason: %s\n", raw)
		}
	}
	for _, c := range []gateway.Claim{gateway.Upstream, gateway.Runner} {
		if rec, err := c.ReadPIDRecord(dir); err == nil && rec != nil {
			fmt.Fprintf(o.Out, "pid record %s: pid %d, alive %t\n", c.PIDFile, rec.PID, gateway.Alive(rec.PID))
		}
	}
	if gateway.ProbeMarker(dir, st.PID()) {
		fmt.Fprintf(o.Out, "planned-stop marker: present, for pid %d\n", st.PID())
	}
	fmt.Fprintf(o.Out, "last %d log lines:\n", deepLogLines)
	err = m.Logs(ctx, o.Profile, service.LogOptions{Lines: deepLogLines}, func(l service.LogLine) error {
		_, err := fmt.Fprintf(o.Out, "  %s\n", l.Text)
		return err
	})
	if err != nil {
		fmt.Fprintf(o.Out, "  (%s)\n", oneLine(err))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// oneLine is an error's first line.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// registerOptions are register's choices.
type registerOptions struct {
	Profile string
	service.RegisterOptions
	Out io.Writer
}

func register(c *cli.Context) error {
	env, err := parseEnv(c.StringSlice("env"))
	if err != nil {
		return err
	}
	program, err := gatewayProgramOf(c)
	if err != nil {
		return err
	}
	return withManager(c, defaultScope(), func(s *session, m service.Manager, _ detect.Detection) error {
		argv, err := serviceArgv(s.profile, program)
		if err != nil {
			return err
		}
		dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
		if err != nil {
			return &UsageError{Err: err}
		}
		// Kept on the volume before the slot exists, so a boot's reconcile
		// rebuilds the slot as registered; taken back if it is refused.
		undo, err := registration.Save(dir, settingsOf(argv, env, program.StopTimeout))
		if err != nil {
			return err
		}
		err = runRegister(s.ctx, m, registerOptions{Profile: s.profile, Out: s.stdout,
			RegisterOptions: service.RegisterOptions{StartNow: onOff(c, "start-now"), Env: env, Command: argv,
				StopTimeout: program.StopTimeout, Force: c.Bool("force")}})
		if err != nil {
			undo()
		}
		return err
	})
}

// runRegister registers the profile's gateway with the runtime supervisor.
func runRegister(ctx context.Context, m service.Manager, o registerOptions) error {
	if err := m.Register(ctx, o.Profile, o.RegisterOptions); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "%s the %s gateway\n", verbRegister.done(), o.Profile)
	return nil
}

// listOptions are list's choices.
type listOptions struct {
	JSON bool
	Out  io.Writer
}

func list(c *cli.Context) error {
	return withManager(c, defaultScope(), func(s *session, m service.Manager, _ detect.Detection) error {
		return runList(s.ctx, m, listOptions{JSON: c.Bool("json"), Out: s.stdout})
	})
}

// runList prints the registered profiles.
func runList(ctx context.Context, m service.Manager, o listOptions) error {
	profiles, err := m.List(ctx)
	if err != nil {
		return err
	}
	if o.JSON {
		return json.NewEncoder(o.Out).Encode(profiles)
	}
	for _, p := range profiles {
		fmt.Fprintln(o.Out, p)
	}
	return nil
}

// logsOptions are logs's choices.
type logsOptions struct {
	Profile string
	service.LogOptions
	Out io.Writer
}

func logs(c *cli.Context) error {
	if c.Int("lines") < 0 {
		return usagef("--lines must not be negative")
	}
	return withManager(c, defaultScope(), func(s *session, m service.Manager, _ detect.Detection) error {
		return runLogs(s.ctx, m, logsOptions{Profile: s.profile, Out: s.stdout,
			LogOptions: service.LogOptions{Lines: c.Int("lines"), Follow: c.Bool("follow")}})
	})
}

// runLogs prints the profile's recent log lines, and follows them until ctx
// ends with Follow.
func runLogs(ctx context.Context, m service.Manager, o logsOptions) error {
	err := m.Logs(ctx, o.Profile, o.LogOptions, func(l service.LogLine) error {
		_, err := fmt.Fprintln(o.Out, l.Text)
		return err
	})
	if o.Follow && ctx.Err() != nil {
		return nil // Ctrl-C is how a follow ends
	}
	return err
}

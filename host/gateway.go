package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

func gatewayCommand() *cli.Command {
	return &cli.Command{
		Name:  "gateway",
		Usage: "install, run and watch a profile's gateway service",
		Description: "Every gateway command acts on one profile, chosen with -p (the default profile when absent),\n" +
			"through the backend detected on this machine or chosen with --backend.",
		Action: unknownSubcommand,
		Subcommands: []*cli.Command{
			{
				Name:      "install",
				Usage:     "install the profile's gateway as a service, enable it and start it",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					profileFlag(""),
					&cli.BoolFlag{Name: "force", Usage: "replace an existing service definition"},
					&cli.BoolFlag{Name: "no-start", Usage: "install without starting the gateway now"},
					&cli.BoolFlag{Name: "no-start-on-login", Usage: "do not start the gateway at boot or login"},
					&cli.BoolFlag{Name: "system", Usage: "install a system-wide service instead of a per-user one (needs root)"},
					&cli.StringFlag{Name: "run-as-user", Usage: "the account a system-wide service runs as"},
					&cli.BoolFlag{Name: "elevated-handoff", Usage: "on Windows, re-run elevated (UAC) when not already"},
					envFlag(),
				},
				Action: install,
			},
			lifecycleCommand("uninstall", "stop the gateway and remove its service definition", service.Manager.Uninstall),
			lifecycleVerb("start", "start the profile's gateway and wait until it runs"),
			stopCommand(),
			lifecycleVerb("restart", "restart the profile's gateway and wait until it runs again"),
			{
				Name:      "status",
				Usage:     "show the profile's gateway, or --all: state, pid, uptime, restarts (exit 3 when not running)",
				ArgsUsage: " ",
				Flags:     []cli.Flag{profileFlag(""), allFlag("show"), jsonFlag()},
				Action:    status,
			},
			{
				Name:      "register",
				Usage:     "register the profile's gateway with a runtime supervisor (s6) and start it",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					profileFlag(""),
					&cli.BoolFlag{Name: "no-start", Usage: "register it down, without starting it"},
					envFlag(),
				},
				Action: register,
			},
			lifecycleCommand("unregister", "stop the gateway and remove its runtime registration", service.Manager.Unregister),
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
		},
	}
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print JSON for scripts instead of text"}
}

func envFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "env", Usage: "extra `KEY=VALUE` for the gateway's environment (repeatable); " +
		gateway.EnvGatewayCommand + " sets the program the gateway runs"}
}

// noArgs refuses stray arguments: every gateway command takes flags only.
func noArgs(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("hermes gateway %s takes no arguments, got %q (the profile comes from -p)", c.Command.Name, c.Args().First())
	}
	return nil
}

// parseEnv turns --env KEY=VALUE flags into a map, refusing bad input
// before any plugin runs.
func parseEnv(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(values))
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usagef("--env %q: want KEY=VALUE", kv)
		}
		env[k] = v
	}
	if err := service.ValidateEnv(env); err != nil {
		return nil, &UsageError{Err: err}
	}
	return env, nil
}

// gatewayArgv is what a service runs for the profile: this hermes binary's
// own gateway runner.
func gatewayArgv(profile string) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("cannot find the hermes executable to put in the service: %w", err)}
	}
	return gateway.RunnerArgv(exe, profile), nil
}

// withManager runs fn with the session and the launched backend, closing
// the plugin afterwards.
func withManager(c *cli.Context, scope detect.Scope, fn func(*session, *plugin.Client, detect.Detection) error) error {
	if err := noArgs(c); err != nil {
		return err
	}
	s, err := newSession(c)
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

func defaultScope() detect.Scope {
	if os.Geteuid() == 0 {
		return detect.ScopeSystem
	}
	return detect.ScopeUser
}

func install(c *cli.Context) error {
	env, err := parseEnv(c.StringSlice("env"))
	if err != nil {
		return err
	}
	scope := defaultScope()
	if c.Bool("system") {
		scope = detect.ScopeSystem
	}
	return withManager(c, scope, func(s *session, m *plugin.Client, _ detect.Detection) error {
		argv, err := gatewayArgv(s.profile)
		if err != nil {
			return err
		}
		err = m.Install(s.ctx, s.profile, service.InstallOptions{
			Force: c.Bool("force"), StartNow: !c.Bool("no-start"), StartOnLogin: !c.Bool("no-start-on-login"),
			ElevatedHandoff: c.Bool("elevated-handoff"), System: c.Bool("system"), RunAsUser: c.String("run-as-user"),
			Env: env, Command: argv,
		})
		if errors.Is(err, service.ErrPermission) && c.Bool("elevated-handoff") {
			// Not elevated: hand the same command to an elevated hermes
			// (Windows' UAC prompt) and wait for it.
			fmt.Fprintln(s.stderr, "hermes: not elevated; asking Windows to run the install elevated")
			code, herr := elevatedRerun(os.Args[1:])
			if herr != nil {
				return fmt.Errorf("elevated handoff: %w (after: %v)", herr, err)
			}
			return exitStatus(code)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "installed the %s gateway\n", s.profile)
		return nil
	})
}

func lifecycleCommand(name, usage string, op func(service.Manager, context.Context, string) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: " ",
		Flags:     []cli.Flag{profileFlag("")},
		Action: func(c *cli.Context) error {
			return withManager(c, defaultScope(), func(s *session, m *plugin.Client, _ detect.Detection) error {
				if err := op(m, s.ctx, s.profile); err != nil {
					return err
				}
				fmt.Fprintf(s.stdout, "%s the %s gateway\n", pastTense(name), s.profile)
				return nil
			})
		},
	}
}

func pastTense(verb string) string {
	if verb == "stop" {
		return "stopped"
	}
	return verb + "ed"
}

func status(c *cli.Context) error {
	return withManager(c, defaultScope(), func(s *session, m *plugin.Client, d detect.Detection) error {
		if c.Bool("all") {
			profiles, err := homeProfiles(s.home)
			if err != nil {
				return err
			}
			sts, err := m.Statuses(s.ctx, profiles)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(s.stdout, sts)
			}
			printStatusTable(s.stdout, sts, time.Now())
			fmt.Fprintf(s.stdout, "backend: %s\n", d.Reason)
			return nil
		}
		st, err := m.Status(s.ctx, s.profile)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			if err := writeJSON(s.stdout, st); err != nil {
				return err
			}
		} else {
			printStatusTable(s.stdout, []service.Status{st}, time.Now())
			if st.Detail != "" {
				fmt.Fprintf(s.stdout, "detail: %s\n", st.Detail)
			}
			fmt.Fprintf(s.stdout, "backend: %s\n", d.Reason)
		}
		if st.State != service.StateRunning {
			return exitStatus(ExitNotRunning)
		}
		return nil
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func register(c *cli.Context) error {
	env, err := parseEnv(c.StringSlice("env"))
	if err != nil {
		return err
	}
	return withManager(c, defaultScope(), func(s *session, m *plugin.Client, _ detect.Detection) error {
		argv, err := gatewayArgv(s.profile)
		if err != nil {
			return err
		}
		if err := m.Register(s.ctx, s.profile, service.RegisterOptions{StartNow: !c.Bool("no-start"), Env: env, Command: argv}); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "registered the %s gateway\n", s.profile)
		return nil
	})
}

func list(c *cli.Context) error {
	return withManager(c, defaultScope(), func(s *session, m *plugin.Client, _ detect.Detection) error {
		profiles, err := m.List(s.ctx)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return json.NewEncoder(s.stdout).Encode(profiles)
		}
		for _, p := range profiles {
			fmt.Fprintln(s.stdout, p)
		}
		return nil
	})
}

func logs(c *cli.Context) error {
	if c.Int("lines") < 0 {
		return usagef("--lines must not be negative")
	}
	return withManager(c, defaultScope(), func(s *session, m *plugin.Client, _ detect.Detection) error {
		err := m.Logs(s.ctx, s.profile, service.LogOptions{Lines: c.Int("lines"), Follow: c.Bool("follow")},
			func(l service.LogLine) error {
				_, err := fmt.Fprintln(s.stdout, l.Text)
				return err
			})
		if c.Bool("follow") && s.ctx.Err() != nil {
			return nil // Ctrl-C is how a follow ends
		}
		return err
	})
}

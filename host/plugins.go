package host

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/discovery"
	"github.com/nousresearch/hermes-service/internal/fserr"
	"github.com/nousresearch/hermes-service/shared/conformance"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

func pluginsCommand() *cli.Command {
	return &cli.Command{
		Name:      "plugins",
		Usage:     "show every backend plugin found, in search order, with its version and verification; check one",
		ArgsUsage: " ",
		Flags:     []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q for hermes gateway plugins (want: check PATH)", c.Args().First())
			}
			return pluginList(c)
		},
		Subcommands: []*cli.Command{
			{
				Name:      "check",
				Usage:     "run the conformance checks against one plugin binary",
				ArgsUsage: "PATH",
				Description: "The checks launch the plugin as hermes does and test the contract: handshake, name\n" +
					"validation, not-found and unsupported errors, status, concurrency and cancellation. Each runs in\n" +
					"a private world of its own (a fresh home, scandir, unit and config folders, all removed after),\n" +
					"and only uses a profile that does not exist: nothing on this machine is read or changed.\n\n" +
					"--lifecycle HOOK adds the lifecycle tier: a real supervisor, which HOOK starts privately\n" +
					"(`HOOK setup DIR` prints the plugin's environment as NAME=VALUE lines; `HOOK restart DIR`\n" +
					"restarts the supervisor as a reboot would; `HOOK teardown DIR` ends it), runs a gateway under\n" +
					"each protocol through install, restart, stop, start, a supervisor restart and uninstall,\n" +
					"checking the planned-stop marker, the recorded intent, status and logs at every step.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "lifecycle", Usage: "run the lifecycle tier too, with the supervisor `HOOK` (a program) starts"},
				},
				Action: pluginCheck,
			},
		},
	}
}

// pluginInfo is one row of `hermes gateway plugins`.
type pluginInfo struct {
	Kind         string   `json:"kind"`
	Path         string   `json:"path"`
	Origin       string   `json:"origin"`
	Version      *string  `json:"version"`
	Protocol     *int     `json:"protocol"`
	Capabilities []string `json:"capabilities"`
	// Checksum is "verified", "absent" or "mismatch".
	Checksum     string  `json:"checksum"`
	ChecksumFile *string `json:"checksum_file"`
	Verified     bool    `json:"verified"`
	Shadowed     bool    `json:"shadowed"`
	Error        *string `json:"error"`
}

func capabilityNames(c service.Capabilities) []string {
	names := []string{}
	for _, f := range []struct {
		on   bool
		name string
	}{{c.Install, "install"}, {c.Registration, "registration"}, {c.Logs, "logs"}, {c.FollowLogs, "follow-logs"},
		{c.SystemScope, "system-scope"}, {c.ElevatedHandoff, "elevated-handoff"}} {
		if f.on {
			names = append(names, f.name)
		}
	}
	return names
}

// inspect launches one candidate to learn its identity.
func inspect(ctx context.Context, s *session, c discovery.Candidate) pluginInfo {
	info := pluginInfo{Kind: c.Kind, Path: c.Path, Origin: c.Dir.Origin, Shadowed: c.Shadowed,
		Checksum: "absent", Capabilities: []string{}}
	if c.ChecksumFile != "" {
		info.ChecksumFile = &c.ChecksumFile
	}
	fail := func(err error) pluginInfo {
		msg := err.Error()
		info.Error = &msg
		return info
	}
	if c.Refused != nil {
		return fail(c.Refused)
	}
	client, err := plugin.Launch(ctx, s.launchConfig(c, ""))
	var ce *plugin.ChecksumError
	if errors.As(err, &ce) {
		info.Checksum = "mismatch"
	}
	if err != nil {
		return fail(err)
	}
	defer client.Close()
	if c.Checksum != nil {
		info.Checksum, info.Verified = "verified", true
	}
	id, err := client.Identify(ctx)
	if err != nil {
		return fail(err)
	}
	proto := client.Protocol()
	info.Protocol = &proto
	info.Version = &id.Version
	info.Capabilities = capabilityNames(id.Capabilities)
	if id.Kind != c.Kind {
		return fail(fmt.Errorf("named for kind %q but identifies as %q", c.Kind, id.Kind))
	}
	return info
}

func pluginList(c *cli.Context) error {
	s, err := flagsOnlySession(c)
	if err != nil {
		return err
	}
	srch := s.searcher()
	cands, notes := srch.All()
	infos := make([]pluginInfo, len(cands))
	for i, cand := range cands {
		infos[i] = inspect(s.ctx, s, cand)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(s.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	printPlugins(s.stdout, infos, notes, srch.Dirs)
	return nil
}

func printPlugins(w io.Writer, infos []pluginInfo, notes []discovery.Note, dirs []discovery.SearchDir) {
	if len(infos) == 0 {
		fmt.Fprintln(w, "no backend plugins found; searched, in order:")
		for _, d := range dirs {
			fmt.Fprintf(w, "  %s (%s)\n", d.Path, d.Origin)
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tVERSION\tPROTOCOL\tCHECKSUM\tPATH")
		for _, p := range infos {
			version, proto := "-", "-"
			if p.Version != nil {
				version = *p.Version
			}
			if p.Protocol != nil {
				proto = fmt.Sprint(*p.Protocol)
			}
			path := p.Path
			if p.Shadowed {
				path += " (shadowed by an earlier one)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Kind, version, proto, p.Checksum, path)
		}
		tw.Flush()
		for _, p := range infos {
			if p.Error != nil {
				fmt.Fprintf(w, "\n%s: %s\n", p.Kind, indent(*p.Error))
			}
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s: %s\n", n.Path, n.Reason)
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

func pluginCheck(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef(gateway.CommandLinePluginsCheck + " takes one PATH, the plugin binary to check")
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	path, err := filepath.Abs(c.Args().First())
	if err != nil {
		return usagef("plugin path %q: %v", c.Args().First(), err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return usagef("plugin path %s: %v", path, fserr.Reason(err))
	}
	lifecycle, err := lifecycleOf(c.String("lifecycle"))
	if err != nil {
		return err
	}
	cand, ok := discovery.Examine(path, "command line")
	if !ok {
		return usagef("%s is not an executable file (mode %s)", path, info.Mode())
	}
	if cand.Refused != nil {
		return &ConfigError{Err: cand.Refused}
	}
	fmt.Fprintf(s.stdout, "checking %s\n", path)
	if cand.ChecksumFile != "" {
		fmt.Fprintf(s.stdout, "  checksum %s from %s\n", hex.EncodeToString(cand.Checksum), cand.ChecksumFile)
	}
	cfg := conformance.Config{Binary: cand.Exec, Checksum: cand.Checksum, Logger: s.log, Setup: privateWorld}
	results := conformance.Check(s.ctx, cfg)
	if lifecycle != nil {
		cfg.Lifecycle = lifecycle
		results = append(results, conformance.CheckLifecycle(s.ctx, cfg)...)
	}
	failed, skipped := 0, 0
	for _, r := range results {
		took := r.Elapsed.Round(time.Millisecond)
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(s.stdout, "  FAIL  %s (%s)\n        %s\n", r.Name, took, strings.ReplaceAll(r.Err.Error(), "\n", "\n        "))
		case r.Skipped != "":
			skipped++
			fmt.Fprintf(s.stdout, "  SKIP  %s: %s\n", r.Name, r.Skipped)
		default:
			fmt.Fprintf(s.stdout, "  PASS  %s (%s)\n", r.Name, took)
		}
	}
	fmt.Fprintf(s.stdout, "%d of %d checks passed (%d failed, %d skipped)\n",
		len(results)-failed-skipped, len(results), failed, skipped)
	if failed > 0 {
		return &pluginCheckFailed{failed: failed}
	}
	return nil
}

// lifecycleOf is the lifecycle tier for --lifecycle HOOK, nil without it.
// Its services run this very hermes binary.
func lifecycleOf(hook string) (*conformance.Lifecycle, error) {
	if hook == "" {
		return nil, nil
	}
	abs, err := filepath.Abs(hook)
	if err != nil {
		return nil, usagef("--lifecycle %q: %v", hook, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, usagef("--lifecycle %s: %s", abs, fserr.Reason(err))
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return nil, usagef("--lifecycle %s is not an executable program (mode %s): it is run as HOOK setup|restart|teardown DIR", abs, info.Mode())
	}
	hermes, err := executable()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("cannot find the hermes executable the lifecycle tier's services run: %w", err)}
	}
	return &conformance.Lifecycle{Hook: conformance.CommandHook(abs), Hermes: hermes}, nil
}

// privateWorld is a check's world of its own: a fresh home, and empty
// folders for everything our backends would otherwise read of this machine
// (s6's scandir, systemd's unit and linger folders, launchd's daemons, the
// user's config and runtime folders), so that the checks neither see the
// machine's gateways nor leave anything behind (no lock file, no state).
func privateWorld(context.Context) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "hermes-check-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	env := []string{gateway.EnvPair("DBUS_SESSION_BUS_ADDRESS", "")}
	for _, v := range []struct{ name, sub string }{
		{gateway.EnvHome, "home"}, {"HOME", "user"}, {"XDG_CONFIG_HOME", "user/.config"}, {"XDG_DATA_HOME", "user/.local/share"},
		{"XDG_STATE_HOME", "user/.local/state"}, {"XDG_RUNTIME_DIR", "run"}, {gateway.EnvS6ScanDir, "scandir"},
		{gateway.EnvSystemdSystemDir, "systemd"}, {gateway.EnvSystemdLingerDir, "linger"}, {gateway.EnvLaunchdDaemonsDir, "daemons"},
	} {
		path := filepath.Join(dir, v.sub)
		if err := os.MkdirAll(path, 0o700); err != nil {
			cleanup()
			return nil, nil, err
		}
		env = append(env, gateway.EnvPair(v.name, path))
	}
	return env, cleanup, nil
}

// witnessCommand is the hidden `gateway conformance-gateway`: the gateway
// the lifecycle tier's services run (conformance.Witness).
func witnessCommand() *cli.Command {
	return &cli.Command{
		Name:            conformance.WitnessCommand,
		Usage:           "the conformance kit's stand-in gateway (for the lifecycle tier's services)",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if code := conformance.Witness(c.Args().Slice(), c.App.Writer); code != 0 {
				return exitStatus(code)
			}
			return nil
		},
	}
}

type pluginCheckFailed struct{ failed int }

func (e *pluginCheckFailed) Error() string {
	return fmt.Sprintf("the plugin failed %d conformance check(s)", e.failed)
}

func (e *pluginCheckFailed) Hint() string {
	return "each FAIL above says what the contract expects; see the SDK docs of package shared/service"
}

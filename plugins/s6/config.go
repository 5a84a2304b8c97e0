//go:build !windows

package s6

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// DefaultScanDir is s6-overlay's dynamic scandir.
const DefaultScanDir = "/run/service"

// overlayBinDir is where s6-overlay installs the s6 tools.
const overlayBinDir = "/command"

// s6-overlay's names, as its v3 lays them out and reads them.
const (
	// DefaultOverlayDir is s6-overlay's run folder.
	DefaultOverlayDir = "/run/s6"
	// overlayBaseDir, in it, is a folder only under s6-overlay (host
	// detection reads the same one).
	overlayBaseDir = "basedir"
	// overlayEnvDir, in it, holds the container's environment, a file per
	// variable (what with-contenv gives scripts).
	overlayEnvDir = "container_environment"
	// envServicesGrace is how long s6-overlay's stop waits for the slots
	// it brought down; envKillGrace, how long it then waits after its
	// kill -TERM -1 before its kill -KILL -1. Milliseconds, each
	// defaultOverlayGrace when unset.
	envServicesGrace    = "S6_SERVICES_GRACETIME"
	envKillGrace        = "S6_KILL_GRACETIME"
	defaultOverlayGrace = 3000 * time.Millisecond
)

// Config is where the backend finds s6 and the Hermes home.
type Config struct {
	backend.Settings
	// ScanDir is the folder s6-svscan watches.
	ScanDir string
	// BinDir holds the s6 tools; "" finds them on PATH.
	BinDir string
	// User is the account a slot's gateway runs as when the slot starts as
	// root; "" runs it as root.
	User string
	// Hermes is the hermes binary run scripts execute; "" uses the
	// registering one.
	Hermes string
	// OverlayDir is s6-overlay's run folder (DefaultOverlayDir).
	OverlayDir string
}

// ConfigFromEnv reads the configuration the host passes in the environment.
func ConfigFromEnv(log hclog.Logger) (Config, error) {
	set, err := backend.SettingsFromEnv(log)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Settings: set, ScanDir: os.Getenv(gateway.EnvS6ScanDir), BinDir: os.Getenv(gateway.EnvS6BinDir),
		Hermes: os.Getenv(gateway.EnvS6Hermes), OverlayDir: os.Getenv(gateway.EnvS6OverlayDir)}
	if cfg.ScanDir == "" {
		cfg.ScanDir = DefaultScanDir
	}
	if cfg.OverlayDir == "" {
		cfg.OverlayDir = DefaultOverlayDir
	}
	if cfg.BinDir == "" {
		if info, err := os.Stat(overlayBinDir); err == nil && info.IsDir() {
			cfg.BinDir = overlayBinDir
		}
	}
	if user, ok := os.LookupEnv(gateway.EnvS6User); ok {
		cfg.User = user
	} else {
		cfg.User = "hermes"
	}
	if cfg.ScanDir, err = filepath.Abs(cfg.ScanDir); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// tool is the path to run an s6 tool by: inside BinDir, or its name for a
// PATH lookup.
func (c Config) tool(name string) string {
	if c.BinDir != "" {
		return filepath.Join(c.BinDir, name)
	}
	return name
}

// toolPath resolves a tool to an absolute path for the scripts s6 runs
// (their PATH is s6-svscan's, not ours); the bare name when it cannot.
func (c Config) toolPath(name string) string {
	if c.BinDir != "" {
		return filepath.Join(c.BinDir, name)
	}
	return remember("tool\x00"+os.Getenv("PATH")+"\x00"+name, func() string { return lookTool(name) })
}

// lookTool is name's absolute path on PATH; the bare name when it cannot be
// found.
func lookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return name
}

// runnerArgv is the command line the run script executes: the
// registration's whole argv (built by the host with gateway.RunnerArgv),
// its program replaced by HERMES_S6_HERMES when that is set, or built here
// from the hermes on PATH when the registration named none; then
// --replace, as upstream's own run line does, so a slot's start takes over
// from a gateway someone started by hand.
func (c Config) runnerArgv(profile string, command []string) ([]string, error) {
	argv := slices.Clone(command)
	if len(argv) == 0 {
		argv = gateway.RunnerArgv("", profile)
	}
	switch {
	case c.Hermes != "":
		argv[0] = c.Hermes
	case filepath.IsAbs(argv[0]):
	default:
		p, err := exec.LookPath("hermes")
		if err != nil {
			return nil, errors.New("no hermes binary for the run script: the registration named none and hermes is not on PATH (set " +
				gateway.EnvS6Hermes + ")")
		}
		if argv[0], err = filepath.Abs(p); err != nil {
			return nil, err
		}
	}
	if gateway.RunnerProtocol(argv) == gateway.ProtocolHermes {
		// The gateway keeps its own protocol: --replace is its flag, as on
		// upstream's own run line.
		return append(argv, gateway.FlagReplace), nil
	}
	return gateway.AddRunnerFlags(argv, gateway.FlagReplace), nil
}

// slotName is the service slot of profile.
func slotName(profile string) string { return slotNames.Name(profile) }

// slotNames names the slots: gateway-<profile>, the default profile too.
var slotNames = service.Naming{Prefix: "gateway-"}

func (c Config) slot(profile string) string { return filepath.Join(c.ScanDir, slotName(profile)) }

func (c Config) String() string {
	return fmt.Sprintf("scandir=%s bin=%s user=%q home=%s", c.ScanDir, c.BinDir, c.User, c.Home)
}

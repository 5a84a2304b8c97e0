package systemd

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Config is where units go and who installs them.
type Config struct {
	backend.Settings
	// UserUnitDir holds user units ($XDG_CONFIG_HOME/systemd/user).
	UserUnitDir string
	// SystemUnitDir holds system units (/etc/systemd/system).
	SystemUnitDir string
	// LingerDir is where logind records lingering users.
	LingerDir string
	// User is the account running hermes.
	User string
	// Root is true when hermes runs as root.
	Root bool
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv(log hclog.Logger) (Config, error) {
	set, err := backend.SettingsFromEnv(log)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Settings: set, SystemUnitDir: os.Getenv(gateway.EnvSystemdSystemDir),
		LingerDir: os.Getenv(gateway.EnvSystemdLingerDir), Root: os.Geteuid() == 0}
	if cfg.SystemUnitDir == "" {
		cfg.SystemUnitDir = "/etc/systemd/system"
	}
	if cfg.LingerDir == "" {
		cfg.LingerDir = "/var/lib/systemd/linger"
	}
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		dir, err := os.UserHomeDir()
		if err != nil {
			return Config{}, errors.New("cannot find the user's home for user units: set HOME or XDG_CONFIG_HOME")
		}
		config = filepath.Join(dir, ".config")
	}
	cfg.UserUnitDir = filepath.Join(config, "systemd", "user")
	if u, err := user.Current(); err == nil {
		cfg.User = u.Username
	} else {
		cfg.User = os.Getenv("USER")
	}
	return cfg, nil
}

// scope is where a unit lives and which manager runs it.
type scope struct {
	system bool
	dir    string
}

func (c Config) userScope() scope   { return scope{system: false, dir: c.UserUnitDir} }
func (c Config) systemScope() scope { return scope{system: true, dir: c.SystemUnitDir} }

// flag is systemctl's and journalctl's scope flag.
func (s scope) flag() []string {
	if s.system {
		return nil
	}
	return []string{"--user"}
}

func (s scope) path(profile string) string { return filepath.Join(s.dir, UnitName(profile)) }

// find is the scope whose folder holds the profile's unit: the user's
// first, except for root, whose units are the system's.
func (c Config) find(profile string) (scope, bool) {
	order := []scope{c.userScope(), c.systemScope()}
	if c.Root {
		order = []scope{c.systemScope(), c.userScope()}
	}
	for _, s := range order {
		if _, err := os.Stat(s.path(profile)); err == nil {
			return s, true
		}
	}
	return scope{}, false
}

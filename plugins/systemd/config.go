package systemd

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"

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
	// UserHome is the home folder of the account running hermes: a home
	// under it (~/.hermes, the default) moves to the run-as user's for a
	// system unit.
	UserHome string
	// UserScope keeps root in the user scope: root's own user manager
	// (--user), instead of the system's.
	UserScope bool
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
	cfg.UserHome, _ = os.UserHomeDir()
	cfg.UserScope = os.Getenv(gateway.EnvSystemdScope) == "user"
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
// first, except for root, whose units are the system's (unless --user).
func (c Config) find(profile string) (scope, bool) {
	order := []scope{c.userScope(), c.systemScope()}
	switch {
	case c.UserScope:
		order = order[:1]
	case c.Root:
		order = []scope{c.systemScope(), c.userScope()}
	}
	for _, s := range order {
		if _, err := os.Stat(s.path(profile)); err == nil {
			return s, true
		}
	}
	return scope{}, false
}

// homeFor is the Hermes home a system unit gives an account whose home
// folder is accountHome: the home hermes serves, except that one in the
// invoking user's home folder (root's ~/.hermes, under sudo) moves to the
// same place in the account's, as upstream's installer does. A unit running
// alice's gateway with root's home would fail at every start.
func (c Config) homeFor(accountHome string) string {
	if c.UserHome == "" || accountHome == "" || accountHome == c.UserHome {
		return c.Home
	}
	rel, err := filepath.Rel(c.UserHome, c.Home)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || !strings.HasPrefix(rel, ".hermes") {
		return c.Home
	}
	if rel != ".hermes" && !strings.HasPrefix(rel, ".hermes/") {
		return c.Home
	}
	return filepath.Join(accountHome, rel)
}

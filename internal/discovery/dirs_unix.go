//go:build !windows && !darwin

package discovery

import (
	"os"
	"path/filepath"
)

func userPluginDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "hermes", "plugins")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "hermes", "plugins")
	}
	return ""
}

func systemPluginDirs() []string {
	return []string{"/usr/local/lib/hermes/plugins", "/usr/lib/hermes/plugins"}
}

//go:build darwin

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
		return filepath.Join(home, "Library", "Application Support", "hermes", "plugins")
	}
	return ""
}

func systemPluginDirs() []string {
	return []string{"/usr/local/lib/hermes/plugins", "/opt/homebrew/lib/hermes/plugins", "/usr/lib/hermes/plugins"}
}

//go:build !windows

package discovery

import (
	"os"
	"path/filepath"
	"runtime"
)

// userPluginDir is the user's own plugin folder: $XDG_DATA_HOME, else the
// platform's data folder (~/.local/share; ~/Library/Application Support on
// macOS).
func userPluginDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "hermes", "plugins")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Application Support", "hermes", "plugins")
	}
	return filepath.Join(home, ".local", "share", "hermes", "plugins")
}

// systemPluginDirs are where packages install plugins (Homebrew's prefix
// too, on macOS).
func systemPluginDirs() []string {
	if runtime.GOOS == "darwin" {
		return []string{"/usr/local/lib/hermes/plugins", "/opt/homebrew/lib/hermes/plugins", "/usr/lib/hermes/plugins"}
	}
	return []string{"/usr/local/lib/hermes/plugins", "/usr/lib/hermes/plugins"}
}

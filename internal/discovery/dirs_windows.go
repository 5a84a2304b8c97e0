//go:build windows

package discovery

import (
	"os"
	"path/filepath"
)

func userPluginDir() string {
	if d := os.Getenv("LOCALAPPDATA"); d != "" {
		return filepath.Join(d, "hermes", "plugins")
	}
	return ""
}

func systemPluginDirs() []string {
	if d := os.Getenv("ProgramFiles"); d != "" {
		return []string{filepath.Join(d, "hermes", "plugins")}
	}
	return nil
}

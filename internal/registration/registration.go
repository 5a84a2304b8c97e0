// Package registration keeps what an operator chose when registering a
// profile's gateway (the protocol, the gateway program, the extra
// environment, the stop timeout) in the profile's home, on the volume: an s6 container's
// /run/service is empty at every start, and the boot's reconcile rebuilds
// each slot from these settings rather than from defaults.
package registration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// File is the settings' file in a profile home. It is hermes's own (upstream
// never reads it) and may hold secrets from --env: it is written 0600.
const File = ".hermes-registration.json"

// maxSize bounds what Load reads: settings are a few lines.
const maxSize = homefs.MaxFileSize

// Settings are one profile's registration choices.
type Settings struct {
	// Protocol is the runner's --protocol ("" for its default).
	Protocol string `json:"protocol,omitempty"`
	// Program is the gateway program and its arguments, its program an
	// absolute path (empty: the runner's default, from the environment).
	Program []string `json:"program,omitempty"`
	// Env is the extra environment for the gateway.
	Env map[string]string `json:"env,omitempty"`
	// StopTimeout is the service manager's stop timeout chosen at
	// registration (0: the default, gateway.StopBudget).
	StopTimeout Duration `json:"stop_timeout,omitempty"`
}

// Duration is a time.Duration written as Go spells it ("2m0s"), so a person
// reading the file reads it too.
type Duration time.Duration

// MarshalText is d as Go spells it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads Go's spelling of a duration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Save replaces dir's settings, 0600 and the home owner's (whoever runs
// hermes), and returns a function that puts back what was there before
// (for a registration that then fails). A symlink where the file or the
// profile's folder should be is refused (internal/homefs).
func Save(dir string, s Settings) (undo func(), err error) {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	h, rel, err := homefs.OpenProfile(dir, true)
	if err != nil {
		return nil, fmt.Errorf("record the registration: %w", err)
	}
	defer h.Close()
	file := homefs.Join(rel, File)
	old, readErr := h.ReadFile(file, maxSize)
	if readErr != nil && !errors.Is(readErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("record the registration: %w", readErr)
	}
	if err := h.WriteFileAtomic(file, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("record the registration: %w", err)
	}
	return func() {
		h, rel, err := homefs.OpenProfile(dir, false)
		if err != nil {
			return
		}
		defer h.Close()
		if readErr == nil {
			_ = h.WriteFileAtomic(homefs.Join(rel, File), old, 0o600)
		} else {
			_ = h.Remove(homefs.Join(rel, File))
		}
	}, nil
}

// Load reads dir's settings; ok is false when none were saved. A file that
// cannot be read as settings (a symlink, over 1 MiB, not JSON) is an error
// that names it.
func Load(dir string) (s Settings, ok bool, err error) {
	path := filepath.Join(dir, File)
	h, rel, err := homefs.OpenProfile(dir, false)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, false, nil
	}
	if err != nil {
		return Settings{}, false, fmt.Errorf("the registration settings: %w", err)
	}
	defer h.Close()
	data, err := h.ReadFile(homefs.Join(rel, File), maxSize)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, false, nil
	}
	if err != nil {
		return Settings{}, false, fmt.Errorf("the registration settings: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return Settings{}, false, fmt.Errorf("the registration settings %s: %w (register the profile again to rewrite them)", path, err)
	}
	return s, true, nil
}

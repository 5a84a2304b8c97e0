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
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
)

// File is the settings' file in a profile home. It is hermes's own (upstream
// never reads it) and may hold secrets from --env: it is written 0600.
const File = ".hermes-registration.json"

// maxSize bounds what Load reads: settings are a few lines.
const maxSize = 1 << 20

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

// Save replaces dir's settings, 0600, and returns a function that puts back
// what was there before (for a registration that then fails).
func Save(dir string, s Settings) (undo func(), err error) {
	path := filepath.Join(dir, File)
	old, readErr := os.ReadFile(path)
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("record the registration in %s: %w", path, err)
	}
	return func() {
		if readErr == nil {
			_ = atomicfile.WriteFile(path, old, 0o600)
		} else {
			_ = os.Remove(path)
		}
	}, nil
}

// Load reads dir's settings; ok is false when none were saved. A file that
// cannot be read as settings is an error that names it.
func Load(dir string) (s Settings, ok bool, err error) {
	path := filepath.Join(dir, File)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, false, nil
	}
	if err != nil {
		return Settings{}, false, err
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxSize))
	if err := dec.Decode(&s); err != nil {
		return Settings{}, false, fmt.Errorf("the registration settings %s: %w (register the profile again to rewrite them)", path, err)
	}
	return s, true, nil
}

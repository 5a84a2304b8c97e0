package gateway

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/nousresearch/hermes-service/internal/homefs"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Home is a Hermes home: its root is the default profile's folder, and each
// named profile lives at <root>/profiles/<name>.
type Home struct {
	Root string
}

// DefaultRoot is $HERMES_HOME, else ~/.hermes, made absolute.
func DefaultRoot() (string, error) {
	root := os.Getenv(EnvHome)
	if root == "" {
		dir, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the Hermes home: %w (set "+EnvHome+")", err)
		}
		root = filepath.Join(dir, ".hermes")
	}
	return filepath.Abs(root)
}

// ProfileDir is the folder of profile (validated first).
func (h Home) ProfileDir(profile string) (string, error) {
	if err := service.ValidateProfile(profile); err != nil {
		return "", err
	}
	if profile == service.DefaultProfile {
		return h.Root, nil
	}
	return filepath.Join(h.Root, "profiles", profile), nil
}

// ProfileOf is the profile whose folder dir is, or false when dir is no
// profile folder of this home.
func (h Home) ProfileOf(dir string) (string, bool) {
	dir, root := filepath.Clean(dir), filepath.Clean(h.Root)
	if dir == root {
		return service.DefaultProfile, true
	}
	if filepath.Dir(dir) != filepath.Join(root, "profiles") {
		return "", false
	}
	name := filepath.Base(dir)
	if name == service.DefaultProfile || service.ValidateProfile(name) != nil {
		return "", false
	}
	return name, true
}

// Profiles lists default and every valid name under profiles/, sorted after
// default. A folder named profiles/default is skipped (it would shadow the
// root); so is anything that is not a valid profile name or not a folder (a
// symlink included: hermes follows none in a home). A profiles/ that is a
// symlink is an error (homefs.SymlinkError).
func (h Home) Profiles() ([]string, error) {
	out := []string{service.DefaultProfile}
	fsys, err := homefs.Open(h.Root)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer fsys.Close()
	entries, err := fsys.ReadDir("profiles")
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	var named []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != service.DefaultProfile && service.ValidateProfile(e.Name()) == nil {
			named = append(named, e.Name())
		}
	}
	sort.Strings(named)
	return append(out, named...), nil
}

// File names inside a profile's folder, shared with the Python gateway.
const (
	StateFile = "gateway_state.json"
	PIDFile   = "gateway.pid"
	LockFile  = "gateway.lock"
	// RunnerPIDFile and RunnerLockFile are a plain-protocol runner's claim:
	// names upstream never reads.
	RunnerPIDFile  = ".hermes-runner.pid"
	RunnerLockFile = ".hermes-runner.lock"
	// RunnerGroupFile is a plain-protocol runner's record of its gateway's
	// process group (ChildGroup), so the next runner can end what a killed
	// one left behind.
	RunnerGroupFile = ".hermes-runner.group"
	PlannedStopFile = ".gateway-planned-stop.json"
	// TakeoverFile is upstream's --replace marker: written by a `gateway run
	// --replace` naming the gateway it is about to SIGTERM, which then exits
	// 0 as a planned takeover.
	TakeoverFile = ".gateway-takeover.json"
)

// Package privatetree runs a private s6 supervision tree for one Hermes
// home (hermes gateway supervise): s6-svscan, owned by the user, on
// <home>/run/service, for machines without a usable init system (a plain
// container, WSL without systemd, CI). While it runs, hermes uses it as
// its s6 backend.
package privatetree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/internal/discovery"
	"github.com/nousresearch/hermes-service/internal/homefs"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// overlayBinDir is where s6-overlay installs the s6 tools.
const overlayBinDir = "/command"

// Tree is the layout of a home's private tree: <home>/run/service, with
// s6-svscan's pid and log beside it.
type Tree struct {
	RunDir  string
	ScanDir string
	PIDFile string
	LogFile string
	// home is the home's root: the files above are reached through
	// internal/homefs, never through a symlink.
	home string
}

// Paths of the tree below the home's root.
const (
	relScanDir = "run/service"
	relPIDFile = "run/s6-svscan.pid"
	relLogFile = "run/s6-svscan.log"
)

// Of is the private tree of the home at root.
func Of(root string) Tree {
	run := filepath.Join(root, "run")
	return Tree{RunDir: run, ScanDir: filepath.Join(run, "service"),
		PIDFile: filepath.Join(run, "s6-svscan.pid"), LogFile: filepath.Join(run, "s6-svscan.log"), home: root}
}

// Alive is the tree's s6-svscan pid when it runs, else 0. Every command
// asks: the pid file is read without following a symlink, and only its
// first bytes.
func (t Tree) Alive() int {
	h, err := homefs.Open(t.home)
	if err != nil {
		return 0
	}
	defer h.Close()
	data, err := h.ReadFile(relPIDFile, 64)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !gateway.Alive(pid) {
		return 0
	}
	if _, err := os.Stat(filepath.Join(t.ScanDir, ".s6-svscan", "control")); err != nil {
		return 0
	}
	return pid
}

// Start starts s6-svscan on the tree in the background and waits until it
// listens. started is false when it already ran; pid is its pid either way.
func (t Tree) Start(ctx context.Context) (pid int, started bool, err error) {
	if pid := t.Alive(); pid > 0 {
		return pid, false, nil
	}
	svscan, err := FindTool("s6-svscan")
	if err != nil {
		return 0, false, err
	}
	h, err := homefs.OpenCreate(t.home)
	if err != nil {
		return 0, false, fmt.Errorf("private tree: %w", err)
	}
	defer h.Close()
	if err := notAnothersHome(h); err != nil {
		return 0, false, err
	}
	if err := h.MkdirAll(relScanDir, 0o755); err != nil {
		return 0, false, fmt.Errorf("private tree: %w", err)
	}
	log, err := h.Append(relLogFile, 0o644)
	if err != nil {
		return 0, false, fmt.Errorf("private tree: %w", err)
	}
	max := maxServices(countSlots(h))
	raiseOpenFiles(max + openFilesSpare)
	pid, err = spawnDetached(svscan, []string{"-c", strconv.Itoa(max), t.ScanDir}, log)
	log.Close()
	if err != nil {
		return 0, false, fmt.Errorf("start s6-svscan: %w", err)
	}
	if err := h.WriteFileAtomic(relPIDFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return 0, false, fmt.Errorf("private tree: %w", err)
	}
	if err := wait.For(ctx, "s6-svscan to start", 5*time.Second, func() bool { return t.Alive() != 0 }); err != nil {
		log, _ := h.ReadFile(relLogFile, 4<<10)
		return 0, false, fmt.Errorf("s6-svscan did not start on %s: %w: %s", t.ScanDir, err, strings.TrimSpace(string(log)))
	}
	return pid, true, nil
}

// svscanDefaultMax is s6-svscan's own -c default (s6 2.11): it starts at
// most that many s6-supervise processes, and a slot with a logger (every
// hermes slot: log/) takes two. Without -c, a tree ran 500 gateways at most
// and left the others unsupervised, "too many services" in its log.
const svscanDefaultMax = 1000

// openFilesSpare is the descriptors s6-svscan needs besides its loggers'
// pipes (a pair per logged slot, about one per supervisor).
const openFilesSpare = 64

// maxServices is the -c for a tree whose home has slots gateway slots (the
// default profile's and one per named profile): two supervisors each, then
// as many again for the profiles added while the tree runs, and never below
// s6-svscan's own default. A tree started for more must be restarted
// (hermes gateway supervise --stop, then again) to take them all; the
// ones past the limit are in its log as "too many services".
func maxServices(slots int) int {
	return max(svscanDefaultMax, 2*2*slots)
}

// countSlots is how many gateway slots the tree may have to run: the
// default profile plus each folder in <home>/profiles, or the folders
// already in the scandir when there are more.
func countSlots(h *homefs.Home) int {
	profiles := 1
	if entries, err := h.ReadDir("profiles"); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				profiles++
			}
		}
	}
	slots := 0
	if entries, err := h.ReadDir(relScanDir); err == nil {
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				slots++
			}
		}
	}
	return max(profiles, slots)
}

// Stop ends the tree cleanly (s6-svscanctl -t: its gateways are stopped
// first), killing s6-svscan if it is still there after 15 s. pid is the
// s6-svscan that ran, 0 when none did.
func (t Tree) Stop(ctx context.Context) (pid int, err error) {
	pid = t.Alive()
	if pid == 0 {
		t.removePIDFile()
		return 0, nil
	}
	ctl, err := FindTool("s6-svscanctl")
	if err != nil {
		return pid, err
	}
	if out, err := runTool(ctl, "-t", t.ScanDir); err != nil {
		return pid, fmt.Errorf("s6-svscanctl -t %s: %v: %s", t.ScanDir, err, out)
	}
	if err := wait.For(ctx, "s6-svscan to exit", 15*time.Second, func() bool { return !gateway.Alive(pid) }); err != nil {
		_ = gateway.Kill(pid)
	}
	t.removePIDFile()
	return pid, nil
}

func (t Tree) removePIDFile() {
	if h, err := homefs.Open(t.home); err == nil {
		_ = h.Remove(relPIDFile)
		h.Close()
	}
}

// FindTool finds an s6 tool where the s6 backend would: HERMES_S6_BIN_DIR,
// s6-overlay's /command, then PATH. A missing one is a *MissingToolError.
func FindTool(name string) (string, error) {
	for _, d := range []string{os.Getenv(gateway.EnvS6BinDir), overlayBinDir} {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, name); isExecutableFile(p) {
			return p, nil
		}
	}
	if p, err := lookPath(name); err == nil {
		return p, nil
	}
	return "", &MissingToolError{Tool: name}
}

// AnothersHomeError is root asked to run a private tree in a home another
// user owns.
type AnothersHomeError struct{ Home, Owner string }

func (e *AnothersHomeError) Error() string {
	return fmt.Sprintf("refusing to run a private supervision tree as root in %s, which %s owns: "+
		"s6-svscan would run as root whatever %s puts in its scandir", e.Home, e.Owner, e.Owner)
}

// Hint says who should run it.
func (e *AnothersHomeError) Hint() string {
	return "run hermes gateway supervise as " + e.Owner + " (the gateways run as that user anyway)"
}

// MissingToolError is an s6 tool found nowhere.
type MissingToolError struct{ Tool string }

func (e *MissingToolError) Error() string { return e.Tool + " is not installed" }

// Hint says how to install it.
func (e *MissingToolError) Hint() string {
	return "install s6 (Debian: sudo apt-get install s6), or point " + gateway.EnvS6BinDir + " at its tools"
}

func isExecutableFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && discovery.IsExecutable(info)
}

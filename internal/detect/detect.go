// Package detect says which service manager runs on a machine, and why,
// from what the machine shows: its files, its environment and its OS.
// Detection costs no plugin launch.
package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/nousresearch/hermes-service/internal/fserr"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Scope is the systemd scope a command works in.
type Scope int

// The scopes.
const (
	ScopeUser Scope = iota
	ScopeSystem
)

// Detection is which backend runs here, and why.
type Detection struct {
	// Kind is the backend's kind, "" when none fits.
	Kind string
	// Reason says what was seen, e.g. `s6: /proc/1/comm is "s6-svscan" and
	// /run/s6/basedir is a folder`.
	Reason string
}

// Probe is the machine as detection reads it. Tests hand it a fake one
// (an fstest.MapFS, their own environment and OS).
type Probe struct {
	// FS is the machine's file system, rooted at "/": fs.FS names have no
	// leading slash, so /proc/1/comm is read as proc/1/comm.
	FS fs.FS
	// Getenv reads the environment: $XDG_RUNTIME_DIR and
	// $DBUS_SESSION_BUS_ADDRESS say whether a user manager runs.
	Getenv func(string) string
	// GOOS picks the rules (a runtime.GOOS value).
	GOOS string
}

// ThisMachine is the probe of the machine this process runs on.
func ThisMachine() Probe {
	return Probe{FS: os.DirFS("/"), Getenv: os.Getenv, GOOS: runtime.GOOS}
}

// Detect picks the backend for scope: the Service Control Manager on
// Windows, launchd on macOS (every one has them), else s6 inside
// s6-overlay, else systemd when a manager answers for scope, else none.
func (p Probe) Detect(scope Scope) Detection {
	switch p.GOOS {
	case "windows":
		return Detection{Kind: service.KindWindows, Reason: "windows: the Service Control Manager"}
	case "darwin":
		return Detection{Kind: service.KindLaunchd, Reason: "launchd: this is macOS"}
	}
	s6, s6why := p.s6()
	if s6 {
		return Detection{Kind: service.KindS6, Reason: "s6: " + s6why}
	}
	sd, sdwhy := p.systemd(scope)
	if sd {
		return Detection{Kind: service.KindSystemd, Reason: "systemd: " + sdwhy}
	}
	return Detection{Reason: "none: " + s6why + ", " + sdwhy}
}

// stat reads the absolute path name through FS, which knows it without its
// leading slash.
func (p Probe) stat(name string) (fs.FileInfo, error) {
	return fs.Stat(p.FS, strings.TrimPrefix(path.Clean(name), "/"))
}

// isDir is true only when name is certainly a folder: any error (missing,
// permission denied) reads as false, so detection fails closed.
func (p Probe) isDir(name string) (bool, string) {
	info, err := p.stat(name)
	switch {
	case err == nil && info.IsDir():
		return true, name + " is a folder"
	case err == nil:
		return false, name + " is not a folder"
	case errors.Is(err, fs.ErrNotExist):
		return false, name + " missing"
	default:
		return false, name + " unreadable (" + fserr.Reason(err) + ")"
	}
}

func (p Probe) exists(name string) (bool, string) {
	_, err := p.stat(name)
	switch {
	case err == nil:
		return true, name + " exists"
	case errors.Is(err, fs.ErrNotExist):
		return false, name + " missing"
	default:
		return false, name + " unreadable (" + fserr.Reason(err) + ")"
	}
}

// s6 is true when PID 1 is s6-svscan and s6-overlay's basedir exists.
func (p Probe) s6() (bool, string) {
	data, err := fs.ReadFile(p.FS, "proc/1/comm")
	var comm string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, "/proc/1/comm missing"
	case err != nil:
		return false, "/proc/1/comm unreadable (" + fserr.Reason(err) + ")"
	default:
		comm = strings.TrimSpace(string(data))
	}
	if comm != "s6-svscan" {
		return false, fmt.Sprintf("/proc/1/comm is %q", comm)
	}
	ok, why := p.isDir("/run/s6/basedir")
	return ok, `/proc/1/comm is "s6-svscan", ` + why
}

// systemd is true when a systemd manager answers for the scope: the system
// manager's /run/systemd/system, or the user manager's private socket or
// the user's session bus.
func (p Probe) systemd(scope Scope) (bool, string) {
	if scope == ScopeSystem {
		return p.isDir("/run/systemd/system")
	}
	runtimeDir, bus := p.Getenv("XDG_RUNTIME_DIR"), p.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if runtimeDir == "" && bus == "" {
		return false, "no user systemd manager (XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS unset)"
	}
	if runtimeDir != "" {
		if ok, why := p.exists(path.Join(runtimeDir, "systemd", "private")); ok {
			return true, why
		}
		if ok, why := p.exists(path.Join(runtimeDir, "bus")); ok {
			return true, why
		}
	}
	if bus != "" {
		return true, "DBUS_SESSION_BUS_ADDRESS is set"
	}
	return false, "no user systemd manager (" + path.Join(runtimeDir, "systemd", "private") + " missing)"
}

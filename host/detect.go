package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Probe reads the machine for Detect. Root prefixes every path it reads, so
// tests point it at a fake machine (HERMES_PROBE_ROOT does the same for the
// CLI's scripted tests); it is "" in production.
type Probe struct {
	Root string
	// XDGRuntimeDir is the user's runtime folder ($XDG_RUNTIME_DIR).
	XDGRuntimeDir string
	// SessionBus is $DBUS_SESSION_BUS_ADDRESS.
	SessionBus string
}

// ProbeFromEnv is the probe for this process.
func ProbeFromEnv() Probe {
	return Probe{
		Root:          os.Getenv("HERMES_PROBE_ROOT"),
		XDGRuntimeDir: os.Getenv("XDG_RUNTIME_DIR"),
		SessionBus:    os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
	}
}

func (p Probe) path(name string) string {
	if p.Root == "" {
		return name
	}
	return filepath.Join(p.Root, name)
}

// isDir is true only when path is certainly a folder: any error (missing,
// permission denied) reads as false, so detection fails closed.
func (p Probe) isDir(name string) (bool, string) {
	info, err := os.Stat(p.path(name))
	switch {
	case err == nil && info.IsDir():
		return true, name + " is a folder"
	case err == nil:
		return false, name + " is not a folder"
	case os.IsNotExist(err):
		return false, name + " missing"
	default:
		return false, name + " unreadable (" + errText(err) + ")"
	}
}

func (p Probe) exists(name string) (bool, string) {
	_, err := os.Stat(p.path(name))
	switch {
	case err == nil:
		return true, name + " exists"
	case os.IsNotExist(err):
		return false, name + " missing"
	default:
		return false, name + " unreadable (" + errText(err) + ")"
	}
}

// s6 is true when PID 1 is s6-svscan and s6-overlay's basedir exists.
func (p Probe) s6() (bool, string) {
	data, err := os.ReadFile(p.path("/proc/1/comm"))
	var comm string
	switch {
	case os.IsNotExist(err):
		return false, "/proc/1/comm missing"
	case err != nil:
		return false, "/proc/1/comm unreadable (" + errText(err) + ")"
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
	if p.XDGRuntimeDir == "" && p.SessionBus == "" {
		return false, "no user systemd manager (XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS unset)"
	}
	if p.XDGRuntimeDir != "" {
		if ok, why := p.exists(filepath.Join(p.XDGRuntimeDir, "systemd", "private")); ok {
			return true, why
		}
		if ok, why := p.exists(filepath.Join(p.XDGRuntimeDir, "bus")); ok {
			return true, why
		}
	}
	if p.SessionBus != "" {
		return true, "DBUS_SESSION_BUS_ADDRESS is set"
	}
	return false, "no user systemd manager (" + filepath.Join(p.XDGRuntimeDir, "systemd", "private") + " missing)"
}

// detectLinux is detection for Linux and every other Unix but macOS.
func (p Probe) detectLinux(scope Scope) Detection {
	s6, s6why := p.s6()
	if s6 {
		return Detection{Kind: "s6", Reason: "s6: " + s6why}
	}
	sd, sdwhy := p.systemd(scope)
	if sd {
		return Detection{Kind: "systemd", Reason: "systemd: " + sdwhy}
	}
	return Detection{Reason: "none: " + s6why + ", " + sdwhy}
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

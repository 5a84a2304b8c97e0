package detect_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nousresearch/hermes-service/internal/detect"
)

// machine lays out a fake file system; a name ending in "/" is a folder.
func machine(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, content := range files {
		if dir, ok := strings.CutSuffix(name, "/"); ok {
			m[dir] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			continue
		}
		m[name] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	}
	return m
}

// denied is a file system where some names cannot be read, as under a
// stricter user than the one running the tests.
type denied struct {
	fs.FS
	names map[string]bool
}

func (d denied) Open(name string) (fs.File, error) {
	if d.names[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.FS.Open(name)
}

func TestDetect(t *testing.T) {
	const comm = "proc/1/comm"
	// The machines the CLI's scripts used to fake, kept as they were.
	s6Machine := map[string]string{comm: "s6-svscan\n", "run/s6/basedir/": "", "run/systemd/system/": "", "run/user/1000/systemd/private": ""}
	s6NoBasedir := map[string]string{comm: "s6-svscan\n", "run/systemd/system/": "", "run/user/1000/systemd/private": ""}
	tests := []struct {
		name    string
		goos    string // linux when empty
		files   map[string]string
		denied  []string // names that cannot be read
		scope   detect.Scope
		runtime string // XDG_RUNTIME_DIR
		bus     string // DBUS_SESSION_BUS_ADDRESS
		kind    string
		reason  string
	}{
		{name: "s6 overlay", files: map[string]string{comm: "s6-svscan\n", "run/s6/basedir/": ""},
			kind: "s6", reason: `s6: /proc/1/comm is "s6-svscan", /run/s6/basedir is a folder`},
		{name: "s6-svscan without basedir", files: map[string]string{comm: "s6-svscan\n"},
			reason: `none: /proc/1/comm is "s6-svscan", /run/s6/basedir missing, no user systemd manager`},
		{name: "basedir is a file", files: map[string]string{comm: "s6-svscan\n", "run/s6/basedir": "x"},
			reason: `/run/s6/basedir is not a folder`},
		{name: "basedir unreadable", files: map[string]string{comm: "s6-svscan\n", "run/s6/basedir/": ""}, denied: []string{"run/s6/basedir"},
			reason: `none: /proc/1/comm is "s6-svscan", /run/s6/basedir unreadable (permission denied)`},
		{name: "wrong comm", files: map[string]string{comm: "process_api\n", "run/s6/basedir/": ""},
			reason: `none: /proc/1/comm is "process_api", no user systemd manager (XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS unset)`},
		{name: "comm unreadable", files: map[string]string{comm: "s6-svscan\n", "run/s6/basedir/": ""}, denied: []string{comm},
			reason: `none: /proc/1/comm unreadable (permission denied)`},
		{name: "comm is a folder", files: map[string]string{comm + "/": "", "run/s6/basedir/": ""},
			reason: `none: /proc/1/comm unreadable (`},
		{name: "comm missing", files: map[string]string{"run/s6/basedir/": ""},
			reason: `none: /proc/1/comm missing`},
		{name: "systemd system scope", files: map[string]string{comm: "systemd\n", "run/systemd/system/": ""},
			scope: detect.ScopeSystem, kind: "systemd", reason: "systemd: /run/systemd/system is a folder"},
		{name: "system scope without manager", files: map[string]string{comm: "bash\n"},
			scope: detect.ScopeSystem, reason: `none: /proc/1/comm is "bash", /run/systemd/system missing`},
		{name: "user manager private socket", files: map[string]string{comm: "systemd\n", "run/user/1000/systemd/private": ""},
			runtime: "/run/user/1000", kind: "systemd", reason: "systemd: /run/user/1000/systemd/private exists"},
		{name: "user manager, runtime dir not clean", files: map[string]string{comm: "systemd\n", "run/user/1000/systemd/private": ""},
			runtime: "/run/user/1000/", kind: "systemd", reason: "systemd: /run/user/1000/systemd/private exists"},
		{name: "user bus socket", files: map[string]string{comm: "systemd\n", "run/user/1000/bus": ""},
			runtime: "/run/user/1000", kind: "systemd", reason: "systemd: /run/user/1000/bus exists"},
		{name: "session bus address", files: map[string]string{comm: "systemd\n"},
			bus: "unix:path=/tmp/bus", kind: "systemd", reason: "systemd: DBUS_SESSION_BUS_ADDRESS is set"},
		{name: "user scope, runtime dir without manager", files: map[string]string{comm: "systemd\n", "run/systemd/system/": ""},
			runtime: "/run/user/1000", reason: "/run/user/1000/systemd/private missing"},
		{name: "s6 wins over systemd", files: s6Machine,
			scope: detect.ScopeSystem, kind: "s6", reason: "s6: "},
		{name: "s6 wins over a user manager", files: s6Machine,
			runtime: "/run/user/1000", kind: "s6", reason: "s6: "},
		{name: "s6-svscan without basedir falls through to systemd", files: s6NoBasedir,
			runtime: "/run/user/1000", kind: "systemd", reason: "systemd: /run/user/1000/systemd/private exists"},
		{name: "empty machine", files: nil,
			reason: "none: /proc/1/comm missing, no user systemd manager"},
		{name: "macOS is launchd", goos: "darwin", files: s6Machine,
			kind: "launchd", reason: "launchd: this is macOS"},
		{name: "Windows is the SCM", goos: "windows", files: s6Machine,
			kind: "windows", reason: "windows: the Service Control Manager"},
		{name: "another Unix follows the Linux rules", goos: "freebsd", files: map[string]string{comm: "init\n", "run/systemd/system/": ""},
			scope: detect.ScopeSystem, kind: "systemd", reason: "systemd: /run/systemd/system is a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goos := tt.goos
			if goos == "" {
				goos = "linux"
			}
			env := map[string]string{"XDG_RUNTIME_DIR": tt.runtime, "DBUS_SESSION_BUS_ADDRESS": tt.bus}
			var fsys fs.FS = machine(tt.files)
			if len(tt.denied) > 0 {
				d := denied{FS: fsys, names: map[string]bool{}}
				for _, n := range tt.denied {
					d.names[n] = true
				}
				fsys = d
			}
			p := detect.Probe{FS: fsys, Getenv: func(k string) string { return env[k] }, GOOS: goos}
			d := p.Detect(tt.scope)
			if d.Kind != tt.kind || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("got %q %q, want %q with reason containing %q", d.Kind, d.Reason, tt.kind, tt.reason)
			}
		})
	}
}

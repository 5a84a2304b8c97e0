package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeMachine lays out files under a root; a name ending in "/" is a folder.
func fakeMachine(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDetectLinux(t *testing.T) {
	const comm = "/proc/1/comm"
	tests := []struct {
		name    string
		files   map[string]string
		scope   Scope
		runtime string // XDG_RUNTIME_DIR
		bus     string // DBUS_SESSION_BUS_ADDRESS
		kind    string
		reason  string
	}{
		{name: "s6 overlay", files: map[string]string{comm: "s6-svscan\n", "/run/s6/basedir/": ""},
			kind: "s6", reason: `s6: /proc/1/comm is "s6-svscan", /run/s6/basedir is a folder`},
		{name: "s6-svscan without basedir", files: map[string]string{comm: "s6-svscan\n"},
			reason: `none: /proc/1/comm is "s6-svscan", /run/s6/basedir missing, no user systemd manager`},
		{name: "basedir is a file", files: map[string]string{comm: "s6-svscan\n", "/run/s6/basedir": "x"},
			reason: `/run/s6/basedir is not a folder`},
		{name: "wrong comm", files: map[string]string{comm: "process_api\n", "/run/s6/basedir/": ""},
			reason: `none: /proc/1/comm is "process_api", no user systemd manager (XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS unset)`},
		{name: "comm unreadable", files: map[string]string{comm + "/": "", "/run/s6/basedir/": ""},
			reason: `none: /proc/1/comm unreadable (is a directory)`},
		{name: "comm missing", files: map[string]string{"/run/s6/basedir/": ""},
			reason: `none: /proc/1/comm missing`},
		{name: "systemd system scope", files: map[string]string{comm: "systemd\n", "/run/systemd/system/": ""},
			scope: ScopeSystem, kind: "systemd", reason: "systemd: /run/systemd/system is a folder"},
		{name: "system scope without manager", files: map[string]string{comm: "bash\n"},
			scope: ScopeSystem, reason: `none: /proc/1/comm is "bash", /run/systemd/system missing`},
		{name: "user manager private socket", files: map[string]string{comm: "systemd\n", "/run/user/1000/systemd/private": ""},
			runtime: "/run/user/1000", kind: "systemd", reason: "systemd: /run/user/1000/systemd/private exists"},
		{name: "user bus socket", files: map[string]string{comm: "systemd\n", "/run/user/1000/bus": ""},
			runtime: "/run/user/1000", kind: "systemd", reason: "systemd: /run/user/1000/bus exists"},
		{name: "session bus address", files: map[string]string{comm: "systemd\n"},
			bus: "unix:path=/tmp/bus", kind: "systemd", reason: "systemd: DBUS_SESSION_BUS_ADDRESS is set"},
		{name: "user scope, runtime dir without manager", files: map[string]string{comm: "systemd\n", "/run/systemd/system/": ""},
			runtime: "/run/user/1000", reason: "/run/user/1000/systemd/private missing"},
		{name: "s6 wins over systemd", files: map[string]string{comm: "s6-svscan", "/run/s6/basedir/": "", "/run/systemd/system/": ""},
			scope: ScopeSystem, kind: "s6", reason: "s6: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Probe{Root: fakeMachine(t, tt.files), XDGRuntimeDir: tt.runtime, SessionBus: tt.bus}
			d := p.detectLinux(tt.scope)
			if d.Kind != tt.kind || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("got %q %q, want %q with reason containing %q", d.Kind, d.Reason, tt.kind, tt.reason)
			}
		})
	}
}

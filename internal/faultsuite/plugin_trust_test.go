//go:build linux

package faultsuite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// The plugin trust cases: hermes runs as root, and a plugin is launched
// only when it and every folder up to / belong to root and nobody else can
// write them (as sudo and ssh's StrictModes demand), when the checksum
// files beside it vouch for it, when it is the kind it is named for, and
// when it talks only on the socket hermes made for it. Each case plants
// what the service user (or a careless install) could, and asserts exit
// 78, a message naming what is wrong, and that the planted plugin never
// ran (it would leave a marker).

// trustCase is one hostile plugin setup.
type trustCase struct {
	name string
	// plant builds the setup in w and returns the environment and the
	// arguments hermes runs with (the command defaults to gateway status).
	plant func(t *testing.T, w *world) (env []string, args []string)
	// want are regular expressions stderr must match.
	want []string
	// ran is true when the plugin runs before it is refused (the kind, the
	// handshake and the timeout cases); real, when it is a real plugin that
	// leaves no marker.
	ran, real bool
	// within bounds how long hermes may take.
	within time.Duration
}

// world is one case's folders: a root-owned folder only root can change,
// all the way up to / (safe), a folder the service user owns inside it
// (evil), and a place for the marker a planted plugin leaves when run.
type world struct {
	safe, evil, marker string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	safe, err := testbin.TrustedTemp("fault-trust-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(safe) })
	w := &world{safe: safe, evil: filepath.Join(safe, "evil"), marker: filepath.Join(safe, "ran")}
	mkdir(t, w.evil, 0o755)
	if err := os.Chown(w.evil, svc.uid, svc.gid); err != nil {
		t.Fatal(err)
	}
	return w
}

// markerPlugin is a shell script plugin that leaves w.marker when run.
func (w *world) markerPlugin() string {
	return "#!/bin/sh\ntouch " + w.marker + "\nexec sleep 30\n"
}

// plantAs writes an executable file at path as the service user (the
// attacker's own file).
func plantAs(t *testing.T, path, content string) {
	t.Helper()
	cmd := asUser(exec.Command("sh", "-ec", `mkdir -p "$(dirname "$1")" && printf '%s' "$2" > "$1" && chmod 0755 "$1"`, "sh", path, content))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("planting %s as %s: %v\n%s", path, svc.name, err, out)
	}
}

// writeRoot writes a root-owned file with mode, making its folders (0755).
func writeRoot(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	mkdir(t, filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// testPluginCopy copies the real test plugin (a hermes plugin of kind
// test) to path, root-owned.
func testPluginCopy(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(bins.testPlugin)
	if err != nil {
		t.Fatal(err)
	}
	writeRoot(t, path, string(data), 0o755)
}

// hermesIn runs hermes as root in dir (the working directory matters to
// the relative-path cases) with env, like home.hermes.
func hermesIn(t *testing.T, h *home, dir string, env []string, args ...string) (result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, env, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("hermes %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errOut.String(), code}, took
}

func pluginPath(dirs ...string) string { return "HERMES_PLUGIN_PATH=" + strings.Join(dirs, ":") }

const test = "HERMES_SERVICE_BACKEND=test"

func TestPluginTrust(t *testing.T) {
	cases := []trustCase{
		{
			name: "a plugin folder the service user owns",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				plantAs(t, filepath.Join(w.evil, "hermes-service-test"), w.markerPlugin())
				return []string{pluginPath(w.evil), test}, nil
			},
			want: []string{`refusing plugin \S+/evil/hermes-service-test: its folder \S+/evil is owned by hermes-fault \(uid \d+, mode 0755\): a plugin and every folder above it must belong to root`,
				`hint: chown root \S+/evil$`},
		},
		{
			name: "a root-owned plugin folder inside one the service user owns",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				testPluginCopy(t, filepath.Join(w.evil, "rootplugins", "hermes-service-test"))
				return []string{pluginPath(filepath.Join(w.evil, "rootplugins")), test}, nil
			},
			want: []string{`its folder \S+/evil is owned by hermes-fault`, `hint: chown root \S+/evil$`},
		},
		{
			name: "a root-owned plugin folder under the sticky world-writable /tmp",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				dir, err := os.MkdirTemp("/tmp", "hermes-fault-plugins-")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				mkdir(t, dir, 0o755)
				writeRoot(t, filepath.Join(dir, "hermes-service-test"), w.markerPlugin(), 0o755)
				return []string{pluginPath(dir), test}, nil
			},
			want: []string{`its folder /tmp is world-writable \(owner root, mode 1777\): anyone can plant a plugin folder there, the sticky bit notwithstanding`,
				`hint: move the plugin out of /tmp, into a folder only root can change`},
		},
		{
			name: "a folder writable by the service user's group",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				dir := filepath.Join(w.safe, "group")
				writeRoot(t, filepath.Join(dir, "hermes-service-test"), w.markerPlugin(), 0o755)
				chownGroup(t, dir, 0o775)
				return []string{pluginPath(dir), test}, nil
			},
			want: []string{`its folder \S+/group is writable by its group \(owner root, mode 0775, group hermes-fault\)`, `hint: chmod g-w \S+/group$`},
		},
		{
			name: "a plugin file writable by the service user's group",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, w.markerPlugin(), 0o755)
				chownGroup(t, p, 0o775)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`the file is writable by its group \(owner root, mode 0775, group hermes-fault\)`, `hint: chmod g-w \S+/hermes-service-test$`},
		},
		{
			name: "a world-writable plugin file",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, w.markerPlugin(), 0o757)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`the file is world-writable \(owner root, mode 0757\)`, `hint: chmod go-w `},
		},
		{
			name: "a plugin file the service user owns in a root folder",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, w.markerPlugin(), 0o755)
				if err := os.Chown(p, svc.uid, svc.gid); err != nil {
					t.Fatal(err)
				}
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`the file is owned by hermes-fault`, `hint: chown root \S+/plugins/hermes-service-test$`},
		},
		{
			name: "a link in a root folder to a plugin the service user controls",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				plantAs(t, filepath.Join(w.evil, "real", "hermes-service-test"), w.markerPlugin())
				dir := filepath.Join(w.safe, "linked")
				mkdir(t, dir, 0o755)
				if err := os.Symlink(filepath.Join(w.evil, "real", "hermes-service-test"), filepath.Join(dir, "hermes-service-test")); err != nil {
					t.Fatal(err)
				}
				return []string{pluginPath(dir), test}, nil
			},
			want: []string{`refusing plugin \S+/linked/hermes-service-test: its folder \S+/evil is owned by hermes-fault`},
		},
		{
			name: "a relative HERMES_PLUGIN_PATH entry (.) naming a plugin in the working directory",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				plantAs(t, filepath.Join(w.evil, "hermes-service-evil"), w.markerPlugin())
				return []string{pluginPath("."), "HERMES_SERVICE_BACKEND=evil", "CWD=" + w.evil}, nil
			},
			want: []string{`hermes: warning: ignoring plugin folder "\.": a relative folder \(from HERMES_PLUGIN_PATH\) is ignored: plugin folders must be absolute paths`,
				`no plugin for the evil backend`},
		},
		{
			name: "a relative HERMES_PLUGIN_PATH entry (bin) before an absolute one",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				plantAs(t, filepath.Join(w.evil, "bin", "hermes-service-evil"), w.markerPlugin())
				return []string{pluginPath("bin", filepath.Join(w.safe, "empty")), "HERMES_SERVICE_BACKEND=evil", "CWD=" + w.evil}, nil
			},
			want: []string{`warning: ignoring plugin folder "bin"`, `no plugin for the evil backend`},
		},
		{
			name: "a .sha256 that names another file",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, w.markerPlugin(), 0o755)
				writeRoot(t, p+".sha256", strings.Repeat("0", 64)+"  hermes-service-other\n", 0o644)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`its checksum file \S+/hermes-service-test\.sha256 does not name it \(it names hermes-service-other\)`,
				`hint: reinstall the plugin's package, or if you built it yourself: cd \S+ && sha256sum hermes-service-test > hermes-service-test\.sha256`},
		},
		{
			name: "a SHA256SUMS without a line for the plugin",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, w.markerPlugin(), 0o755)
				writeRoot(t, filepath.Join(filepath.Dir(p), "SHA256SUMS"), strings.Repeat("0", 64)+"  hermes-service-s6\n", 0o644)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`SHA256SUMS has no line for hermes-service-test \(it lists hermes-service-s6\)`},
		},
		{
			name: "a .sha256 of another file beside a SHA256SUMS that vouches for it",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, w.markerPlugin(), 0o755)
				sum, _ := exec.Command("sha256sum", p).Output()
				writeRoot(t, filepath.Join(filepath.Dir(p), "SHA256SUMS"), strings.Fields(string(sum))[0]+"  hermes-service-test\n", 0o644)
				writeRoot(t, p+".sha256", strings.Repeat("0", 64)+"  hermes-service-other\n", 0o644)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`hermes-service-test\.sha256 does not name it`},
		},
		{
			name: "a plugin that identifies as another kind than its name's",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-s6")
				testPluginCopy(t, p)
				return []string{pluginPath(filepath.Dir(p)), "HERMES_SERVICE_BACKEND=s6"}, nil
			},
			want: []string{`plugin \S+/plugins/hermes-service-s6 is named for the s6 backend but identifies as "test"; refusing to use it`,
				`hint: a plugin must be named hermes-service-<kind> for the kind it reports`},
			ran: true, real: true,
		},
		{
			name: "a handshake naming the service user's socket",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				sock := listenAsUser(t, filepath.Join(w.evil, "s"))
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, "#!/bin/sh\ntouch "+w.marker+"\necho '1|1|unix|"+sock+"|grpc|'\nexec sleep 30\n", 0o755)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want: []string{`launch: its handshake names the unix address \S+/evil/s, not a socket in \S+, the folder hermes made for this plugin; refusing to connect`,
				`hint: a hermes plugin listens where hermes tells it to`},
			ran:    true,
			within: 5 * time.Second,
		},
		{
			name: "a handshake naming a TCP port",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				writeRoot(t, p, "#!/bin/sh\ntouch "+w.marker+"\necho '1|1|tcp|127.0.0.1:9|grpc|'\nexec sleep 30\n", 0o755)
				return []string{pluginPath(filepath.Dir(p)), test}, nil
			},
			want:   []string{`its handshake names the tcp address 127\.0\.0\.1:9`},
			ran:    true,
			within: 5 * time.Second,
		},
		{
			name: "a wrapper script that never hands over",
			plant: func(t *testing.T, w *world) ([]string, []string) {
				p := filepath.Join(w.safe, "plugins", "hermes-service-test")
				// No exec: the child holds the output pipes; it must die too.
				writeRoot(t, p, "#!/bin/sh\ntouch "+w.marker+"\nsleep 60 &\necho $! > "+w.marker+"\nwait\n", 0o755)
				return []string{pluginPath(filepath.Dir(p)), test}, []string{"--plugin-timeout", "1s", "gateway", "status"}
			},
			want:   []string{`no handshake within 1s \(the plugin was killed, with its process group\)`},
			ran:    true,
			within: 6 * time.Second,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHome(t)
			w := newWorld(t)
			env, args := tc.plant(t, w)
			if len(args) == 0 {
				args = []string{"gateway", "status"}
			}
			dir := "/"
			for i, e := range env {
				if d, ok := strings.CutPrefix(e, "CWD="); ok {
					dir, env = d, append(env[:i:i], env[i+1:]...)
					break
				}
			}
			r, took := hermesIn(t, h, dir, env, args...)
			if r.code != 78 {
				t.Fatalf("want exit 78 (configuration), got:\n%s", r)
			}
			for _, re := range tc.want {
				if !regexp.MustCompile("(?m)" + re).MatchString(r.stderr) {
					t.Errorf("stderr does not match %q:\n%s", re, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("printed a result although refused:\n%s", r.stdout)
			}
			_, err := os.Stat(w.marker)
			switch {
			case !tc.ran && err == nil:
				t.Errorf("the refused plugin ran")
			case tc.ran && !tc.real && err != nil:
				t.Errorf("the plugin did not even run (the case tests nothing): %v", err)
			}
			if tc.within > 0 && took > tc.within {
				t.Errorf("took %s, want at most %s", took, tc.within)
			}
			if tc.name == "a wrapper script that never hands over" {
				childGone(t, w.marker)
			}
			h.ownedByUser()
		})
	}
}

// chownGroup gives path the service user's group, with mode.
func chownGroup(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chown(path, 0, svc.gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// listenAsUser listens on a Unix socket at path that the service user
// owns, as an attacker waiting for root to connect would; a connection
// fails the test.
func listenAsUser(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, svc.uid, svc.gid); err != nil {
		t.Fatal(err)
	}
	var connected atomic.Bool
	go func() {
		if c, err := l.Accept(); err == nil {
			connected.Store(true)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		l.Close() // after hermes ran: a connection was accepted by now
		if connected.Load() {
			t.Errorf("hermes connected to the service user's socket %s", path)
		}
	})
	return path
}

// childGone checks that the wrapper's child, whose pid the wrapper wrote to
// file, did not outlive it.
func childGone(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if !running(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the wrapper's child %d outlived the refused launch", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// running is false for a process that is gone or a zombie.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || len(stat) <= i+2 || stat[i+2] != 'Z'
}

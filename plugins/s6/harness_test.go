//go:build linux

package s6_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

// bins are the real programs the tests drive: hermes, this plugin, and a
// stand-in gateway, built once.
var bins struct {
	dir, hermes, plugin, gateway string
	// upstream is the stand-in of upstream's real gateway.
	upstream string
}

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("s6-svscan"); err != nil {
		fmt.Fprintln(os.Stderr, "s6 tests need s6-svscan on PATH (Debian package s6; make test installs it)")
		os.Exit(1)
	}
	testbin.Main(m, func(dir string) (err error) {
		bins.dir = dir
		if bins.hermes, err = testbin.Build(dir, "github.com/nousresearch/hermes-service/cmd/hermes"); err != nil {
			return err
		}
		if bins.plugin, err = testbin.Build(dir, "github.com/nousresearch/hermes-service/plugins/s6/cmd/hermes-service-s6"); err != nil {
			return err
		}
		if bins.gateway, err = testgateway.Build(dir); err != nil {
			return err
		}
		bins.upstream, err = upstreamgateway.Build(dir)
		return err
	})
}

// tree is a private s6 supervision tree: an s6-svscan of its own on a
// fresh scandir, and a Hermes home.
type tree struct {
	t       testing.TB
	scandir string
	home    string
	binDir  string // HERMES_S6_BIN_DIR, "" for PATH
	// overlay is HERMES_S6_OVERLAY_DIR; "" for a folder that does not
	// exist, so that no test depends on the machine's /run/s6.
	overlay string
	// boot is extra environment for s6-svscan, as a container's would be.
	boot   []string
	svscan *exec.Cmd
	out    *proctest.Buffer
	done   chan struct{}
}

func newTree(t testing.TB) *tree {
	t.Helper()
	root := t.TempDir()
	// The gateway program reaches the plain runner through the container's
	// environment (--env may not set HERMES_GATEWAY_COMMAND: hermes owns it).
	tr := &tree{t: t, scandir: filepath.Join(root, "service"), home: filepath.Join(root, "home"),
		boot: []string{gateway.EnvGatewayCommand + "=" + bins.gateway}}
	for _, d := range []string{tr.scandir, tr.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tr.start()
	t.Cleanup(tr.stop)
	return tr
}

// start runs s6-svscan on the scandir, with a plain environment: what the
// scripts see is what the slot gives them.
func (tr *tree) start() {
	tr.t.Helper()
	tr.out = &proctest.Buffer{}
	tr.svscan = exec.Command("s6-svscan", tr.scandir)
	tr.svscan.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tr.boot...)
	tr.svscan.Stdout, tr.svscan.Stderr = tr.out, tr.out
	tr.svscan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := tr.svscan.Start(); err != nil {
		tr.t.Fatal(err)
	}
	tr.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(tr.svscan, tr.done)
	tr.waitFor("s6-svscan to listen", func() bool {
		_, err := os.Stat(filepath.Join(tr.scandir, ".s6-svscan", "control"))
		return err == nil
	})
}

// stop ends the tree the way a container stop does: s6-svscan is told to
// terminate, its supervisors take their services down with SIGTERM (no
// planned-stop marker).
func (tr *tree) stop() {
	if tr.svscan == nil {
		return
	}
	_ = exec.Command("s6-svscanctl", "-t", tr.scandir).Run()
	select {
	case <-tr.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-tr.svscan.Process.Pid, syscall.SIGKILL)
		<-tr.done
	}
	// Supervisors and services finish on their own after s6-svscan; wait
	// for the gateways so the next step sees them gone.
	tr.waitFor("the supervision tree to end", func() bool { return len(tr.liveUnder()) == 0 })
	tr.svscan = nil
}

// liveUnder lists s6-supervise processes still working in this scandir.
func (tr *tree) liveUnder() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || !strings.HasPrefix(cwd, tr.scandir) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

func (tr *tree) waitFor(what string, cond func() bool) {
	tr.t.Helper()
	if err := wait.For(context.Background(), what, 20*time.Second, cond); err != nil {
		tr.t.Fatalf("%v\ns6-svscan output:\n%s", err, tr.out)
	}
}

// never is a negative wait: it watches for something that must not happen
// (a down slot coming up) for the whole window, and fails the moment it
// does.
func (tr *tree) never(what string, window time.Duration, happened func() bool) {
	tr.t.Helper()
	err := wait.For(context.Background(), what, window, happened)
	if err == nil {
		tr.t.Fatalf("%s, within %s\ns6-svscan output:\n%s", what, window, tr.out)
	}
	if !errors.Is(err, wait.ErrTimeout) {
		tr.t.Fatal(err)
	}
}

// env is what hermes runs with against this tree.
func (tr *tree) env(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tr.home,
		"HERMES_HOME=" + tr.home,
		"HERMES_S6_SCANDIR=" + tr.scandir,
		"HERMES_S6_USER=",
		"HERMES_SERVICE_BACKEND=s6",
		"HERMES_PLUGIN_PATH=" + bins.dir,
	}
	if tr.binDir != "" {
		env = append(env, "HERMES_S6_BIN_DIR="+tr.binDir)
	}
	overlay := tr.overlay
	if overlay == "" {
		overlay = filepath.Join(filepath.Dir(tr.scandir), "no-s6-overlay")
	}
	env = append(env, gateway.EnvS6OverlayDir+"="+overlay)
	return append(env, extra...)
}

// hermes runs the hermes CLI and returns stdout, stderr and the exit code.
func (tr *tree) hermes(args ...string) (string, string, int) {
	tr.t.Helper()
	cmd := exec.Command(bins.hermes, args...)
	cmd.Env = tr.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tr.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// must runs hermes and fails the test unless it exits 0.
func (tr *tree) must(args ...string) string {
	tr.t.Helper()
	out, errOut, code := tr.hermes(args...)
	if code != 0 {
		tr.t.Fatalf("hermes %v: exit %d\n%s%s\ns6-svscan output:\n%s", args, code, out, errOut, tr.out)
	}
	return out
}

// register registers profile running the test gateway (from the tree's
// environment).
func (tr *tree) register(profile string, args ...string) {
	tr.t.Helper()
	tr.must(append([]string{"-p", profile, "gateway", "register", "--protocol", "plain"}, args...)...)
}

func (tr *tree) slot(profile string) string { return filepath.Join(tr.scandir, "gateway-"+profile) }

func (tr *tree) profileDir(profile string) string {
	dir, _ := gateway.Home{Root: tr.home}.ProfileDir(profile)
	return dir
}

// svstat is s6's own word on a slot: the -o fields by name.
func (tr *tree) svstat(profile string, fields ...string) map[string]string {
	tr.t.Helper()
	out, err := exec.Command("s6-svstat", "-o", strings.Join(fields, ","), tr.slot(profile)).Output()
	if err != nil {
		return nil
	}
	vals := strings.Fields(string(out))
	m := map[string]string{}
	for i, f := range fields {
		if i < len(vals) {
			m[f] = vals[i]
		}
	}
	return m
}

func (tr *tree) waitUp(profile string) int {
	tr.t.Helper()
	var pid int
	tr.waitFor(profile+" to be up and running", func() bool {
		st, _ := gateway.ReadState(tr.profileDir(profile))
		m := tr.svstat(profile, "up", "pid")
		if m == nil || m["up"] != "true" || st.GatewayState() != gateway.GatewayRunning {
			return false
		}
		fmt.Sscan(m["pid"], &pid)
		return st.PID() == pid
	})
	return pid
}

func (tr *tree) waitDown(profile string) {
	tr.t.Helper()
	tr.waitFor(profile+" to be down", func() bool {
		m := tr.svstat(profile, "up")
		return m != nil && m["up"] == "false"
	})
}

// launch starts the plugin directly, for calls below the CLI.
func (tr *tree) launch() *plugin.Client {
	tr.t.Helper()
	c, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: bins.plugin,
		Env: tr.env(), Logger: hclog.NewNullLogger()})
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.t.Cleanup(c.Close)
	return c
}

// fakeTools makes a tool folder with the real s6 tools linked in and the
// named ones replaced by a script: it records its argv in calls.log and
// exits with code after printing stderr.
func (tr *tree) fakeTools(code int, stderr string, names ...string) string {
	tr.t.Helper()
	dir := filepath.Join(tr.t.TempDir(), "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tr.t.Fatal(err)
	}
	for _, tool := range []string{"s6-svc", "s6-svok", "s6-svscanctl", "s6-svstat", "s6-svwait", "s6-log", "s6-setuidgid"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			tr.t.Fatal(err)
		}
		if err := os.Symlink(real, filepath.Join(dir, tool)); err != nil {
			tr.t.Fatal(err)
		}
	}
	script := fmt.Sprintf("#!/bin/sh\necho \"$0 $*\" >> %q\necho %q >&2\nexit %d\n", filepath.Join(dir, "calls.log"), stderr, code)
	for _, n := range names {
		_ = os.Remove(filepath.Join(dir, n))
		if err := os.WriteFile(filepath.Join(dir, n), []byte(script), 0o755); err != nil {
			tr.t.Fatal(err)
		}
	}
	return dir
}

package host_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nousresearch/hermes-service/host"
	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/fakeupstream"
	"github.com/nousresearch/hermes-service/internal/privatetree"
	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hermes": func() { os.Exit(host.Main()) },
	})
}

var (
	buildOnce   sync.Once
	testPlugin  string
	testGateway string
	// fakeUpstream plays the Hermes CLI that commands are passed to.
	fakeUpstream string
	s6Plugin     string
	hermesBin    string
	buildErr     error
)

// builtPlugin is the test backend plugin (buildAll).
func builtPlugin(t *testing.T) string {
	t.Helper()
	return builtPluginB(t)
}

func builtPluginB(t testing.TB) string {
	buildAll(t)
	return testPlugin
}

// buildAll finds, once per test binary, the test plugin, the test gateway,
// the s6 plugin and hermes itself in testbin's cache, which builds each once
// for the whole test run. They are used where they are: the scripts copy a
// plugin before they run it, and nothing here looks for processes by these
// paths. The scripts run hermes as this test binary (TestMain); the runner
// tests run the built one, the program users run.
func buildAll(t testing.TB) {
	t.Helper()
	buildOnce.Do(func() {
		for _, b := range []struct {
			path *string
			pkg  string
		}{
			{&testPlugin, testbackend.PluginPackage},
			{&testGateway, testgateway.Package},
			{&fakeUpstream, fakeupstream.Package},
			{&s6Plugin, "github.com/nousresearch/hermes-service/plugins/s6/cmd/hermes-service-s6"},
			{&hermesBin, "github.com/nousresearch/hermes-service/cmd/hermes"},
		} {
			if *b.path, buildErr = testbin.Cached(b.pkg); buildErr != nil {
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// TestScripts runs the CLI scripts in testdata/script: what a person types
// and sees, with exit codes.
func TestScripts(t *testing.T) {
	t.Parallel() // each script has its own work folder; the runner tests overlap with them
	plugin := builtPlugin(t)
	// The scripts put plugins in $WORK: it must pass the trust checks, which
	// refuse anything under the world-writable /tmp.
	work, err := testbin.TrustedTemp("script-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	testscript.Run(t, testscript.Params{
		Dir:         "testdata/script",
		WorkdirRoot: work,
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTPLUGIN", plugin)
			env.Setenv("TESTGATEWAY", testGateway)
			line, err := fakeupstream.CommandLine(fakeUpstream)
			if err != nil {
				return err
			}
			env.Setenv("FAKEUPSTREAM", line)
			// install and register default to upstream's gateway under the
			// hermes protocol: the stand-in plays upstream's CLI here.
			env.Setenv("HERMES_UPSTREAM_CLI", testGateway)
			env.Setenv("TESTS6PLUGIN", s6Plugin)
			// A script that fails half-way leaves its private s6 tree (and
			// the gateways under it) running: end it with the script.
			env.Defer(func() {
				trees, _ := filepath.Glob(filepath.Join(env.WorkDir, "*", "run", "s6-svscan.pid"))
				for _, pidFile := range trees {
					_, _ = privatetree.Of(filepath.Dir(filepath.Dir(pidFile))).Stop(context.Background())
				}
			})
			return nil
		},
		Condition: scriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"install-plugin": installPlugin,
			"exits":          exits,
			"sha256sums":     sha256sums,
			"flipbyte":       flipByte,
			"noorphans":      noOrphans,
			"waitplugin":     waitPlugin,
			"waitstate":      waitState,
			"waitfile":       waitFile,
			"procs":          procs,
			"socketdir":      socketDir,
		},
	})
}

// scriptCondition knows [root], and [servicemanager]: detection finds a service manager
// on this machine, so a script that needs none (the foreground runner, the
// "no service manager" message) must skip rather than drive the real one.
// Scripts run with testscript's own environment, which has no
// XDG_RUNTIME_DIR or DBUS_SESSION_BUS_ADDRESS; root works in the system
// scope, as hermes does.
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "root": // [root]: the script runs as root
		return os.Geteuid() == 0, nil
	case "servicemanager":
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	scope := detect.ScopeUser
	if os.Geteuid() == 0 {
		scope = detect.ScopeSystem
	}
	p := detect.ThisMachine()
	p.Getenv = func(string) string { return "" }
	return p.Detect(scope).Kind != "", nil
}

// install-plugin DIR [KIND] copies the test plugin into DIR as
// hermes-service-KIND (default: test); KIND s6 installs the real s6 plugin.
func installPlugin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: install-plugin DIR [KIND]")
	}
	kind := "test"
	if len(args) == 2 {
		kind = args[1]
	}
	src := ts.Getenv("TESTPLUGIN")
	if kind == "s6" {
		src = ts.Getenv("TESTS6PLUGIN")
	}
	data, err := os.ReadFile(src)
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	ts.Check(os.WriteFile(filepath.Join(dir, plugin.FileName(kind, runtime.GOOS)), data, 0o755))
}

// exits CODE PROG [ARGS...] runs PROG as exec does and expects it to exit
// with CODE; stdout and stderr then check what it printed.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// sha256sums OUT FILE... writes the FILEs' digests to OUT as sha256sum does.
func sha256sums(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: sha256sums OUT FILE...")
	}
	var b strings.Builder
	for _, f := range args[1:] {
		data, err := os.ReadFile(ts.MkAbs(f))
		ts.Check(err)
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), filepath.Base(f))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(b.String()), 0o644))
}

// flipbyte FILE flips one bit of a byte in the middle of FILE.
func flipByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: flipbyte FILE")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	data[len(data)/2] ^= 0x01
	ts.Check(os.WriteFile(path, data, 0o755))
}

// waitstate DIR STATE waits (up to 10 s) until DIR/gateway_state.json says
// gateway_state STATE.
func waitState(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitstate DIR STATE")
	}
	dir := ts.MkAbs(args[0])
	var st gateway.State
	if err := wait.For(context.Background(), "gateway_state "+args[1], 10*time.Second, func() bool {
		st, _ = gateway.ReadState(dir)
		return st.GatewayState() == args[1]
	}); err != nil {
		ts.Fatalf("gateway_state in %s is %q, not %q: %v", dir, st.GatewayState(), args[1], err)
	}
}

package host_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nousresearch/hermes-service/host"
	"github.com/nousresearch/hermes-service/internal/testbackend"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hermes": func() { os.Exit(host.Main()) },
	})
}

var (
	buildOnce  sync.Once
	testPlugin string
	buildErr   error
)

// builtPlugin compiles the test backend plugin once per test binary.
func builtPlugin(t *testing.T) string {
	t.Helper()
	return builtPluginB(t)
}

func builtPluginB(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hermes-host-test-")
		if err != nil {
			buildErr = err
			return
		}
		testPlugin, buildErr = testbackend.BuildPlugin(dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return testPlugin
}

// TestScripts runs the CLI scripts in testdata/script: what a person types
// and sees, with exit codes.
func TestScripts(t *testing.T) {
	plugin := builtPlugin(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTPLUGIN", plugin)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"install-plugin": installPlugin,
			"sha256sums":     sha256sums,
			"flipbyte":       flipByte,
			"noorphans":      noOrphans,
			"waitplugin":     waitPlugin,
		},
	})
}

// install-plugin DIR [KIND] copies the test plugin into DIR as
// hermes-service-KIND (default: test).
func installPlugin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: install-plugin DIR [KIND]")
	}
	kind := "test"
	if len(args) == 2 {
		kind = args[1]
	}
	data, err := os.ReadFile(ts.Getenv("TESTPLUGIN"))
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	ts.Check(os.WriteFile(filepath.Join(dir, host.PluginFile(kind)), data, 0o755))
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

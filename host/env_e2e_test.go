package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nousresearch/hermes-service/host"
	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

// TestEnvBytesEndToEnd: --env values reach the backend plugin over gRPC and
// the registration file byte for byte, trailing spaces, tabs and newlines
// included; a refused --env reaches neither.
func TestEnvBytesEndToEnd(t *testing.T) {
	src := builtPlugin(t)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Plugins run only from folders the trust checks accept: not /tmp.
	plugins, err := testbin.TrustedTemp("env-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(plugins) })
	state, home := t.TempDir(), filepath.Join(t.TempDir(), "home")
	if err := os.WriteFile(filepath.Join(plugins, plugin.FileName("test", runtime.GOOS)), data, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERMES_PLUGIN_PATH", plugins)
	t.Setenv("HERMES_SERVICE_BACKEND", "test")
	t.Setenv("HERMES_TESTBACKEND_DIR", state)
	t.Setenv("HERMES_HOME", home)
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := host.Run(context.Background(), append([]string{"hermes"}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	want := map[string]string{"TRAIL": "x  ", "TABS": "\tt\t", "LINES": "one\ntwo\n", "LEAD": "  lead", "EQ": "a=b=c", "EMPTY": "",
		"CTRL": "\r\x1b[0m", "UTF8": "καλημέρα ✓"}
	args := []string{"-p", "work", "gateway", "register", "--no-start", "--gateway-command", testGateway}
	for _, k := range []string{"TRAIL", "TABS", "LINES", "LEAD", "EQ", "EMPTY", "CTRL", "UTF8"} {
		args = append(args, "--env", k+"="+want[k])
	}
	if code, out := run(args...); code != 0 {
		t.Fatalf("register: exit %d\n%s", code, out)
	}
	raw, err := os.ReadFile(filepath.Join(state, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var backend map[string]struct {
		Env map[string]string `json:"env"`
	}
	if err := json.Unmarshal(raw, &backend); err != nil {
		t.Fatal(err)
	}
	if got := backend["work"].Env; !maps.Equal(got, want) {
		t.Errorf("the backend got %q, want %q", got, want)
	}
	set, ok, err := registration.Load(filepath.Join(home, "profiles", "work"))
	if err != nil || !ok || !maps.Equal(set.Env, want) {
		t.Errorf("the registration holds %q (%v, %v), want %q", set.Env, ok, err, want)
	}

	// Refused: exit 2, and neither the backend nor the home sees it.
	for name, env := range map[string][]string{
		"invalid UTF-8": {"A=caf\xe9"},
		"NUL":           {"A=x\x00y"},
		"twice":         {"A=1", "A=2"},
		"owned":         {"HERMES_HOME=/elsewhere"},
		"bad key":       {"A\nB=x"},
	} {
		args := []string{"-p", "other", "gateway", "register", "--no-start", "--gateway-command", testGateway}
		for _, kv := range env {
			args = append(args, "--env", kv)
		}
		if code, out := run(args...); code != host.ExitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, host.ExitUsage, out)
		}
		after, _ := os.ReadFile(filepath.Join(state, "state.json"))
		if !bytes.Equal(after, raw) {
			t.Errorf("%s: the backend's state changed", name)
		}
		if _, err := os.Lstat(filepath.Join(home, "profiles", "other")); !os.IsNotExist(err) {
			t.Errorf("%s: the home has a folder for the refused profile (%v)", name, err)
		}
	}
}

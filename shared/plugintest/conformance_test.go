package plugintest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/shared/plugintest"
)

var testPlugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hermes-plugintest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPlugin, err = testbackend.BuildPlugin(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freshState gives each check an empty state folder of its own, the way a
// real backend's hook gives it a private scandir or unit folder.
func freshState(context.Context) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "hermes-testbackend-state-")
	if err != nil {
		return nil, nil, err
	}
	return []string{"HERMES_TESTBACKEND_DIR=" + dir}, func() { os.RemoveAll(dir) }, nil
}

func TestConformance(t *testing.T) {
	for _, caps := range []string{"", "none", "install,logs", "registration,logs,follow"} {
		t.Run("caps="+caps, func(t *testing.T) {
			plugintest.Run(t, plugintest.Config{
				Binary: testPlugin,
				Env:    []string{"HERMES_TESTBACKEND_CAPS=" + caps},
				Setup:  freshState,
			})
		})
	}
}

// TestCheckCatchesABrokenBackend proves the checks assert something: a
// backend that breaks the contract fails exactly the checks it breaks.
func TestCheckCatchesABrokenBackend(t *testing.T) {
	results := plugintest.Check(context.Background(), plugintest.Config{
		Binary: testPlugin,
		Env:    []string{"HERMES_TESTBACKEND_BROKEN=1"},
		Setup:  freshState,
	})
	failed := map[string]string{}
	for _, r := range results {
		if r.Err != nil {
			failed[r.Name] = r.Err.Error()
		}
	}
	for name, want := range map[string]string{
		"a missing profile is not found":    "start of a missing profile succeeded",
		"list is empty on an empty backend": `"ghost"`,
		"status comes back complete":        `names profile "someone-else"`,
	} {
		if !strings.Contains(failed[name], want) {
			t.Errorf("check %q: got %q, want it to mention %q", name, failed[name], want)
		}
	}
	if len(failed) != 4 { // the concurrency check sees the same broken status
		t.Errorf("failed checks: %v", failed)
	}
}

func TestCheckReportsAPluginThatDoesNotLaunch(t *testing.T) {
	results := plugintest.Check(context.Background(), plugintest.Config{
		Binary: testPlugin,
		Env:    []string{"HERMES_TESTBACKEND_MODE=exit"},
	})
	if len(results) != len(plugintest.Checks()) {
		t.Fatalf("%d results for %d checks", len(results), len(plugintest.Checks()))
	}
	for _, r := range results {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "exiting at once") {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
	}
}

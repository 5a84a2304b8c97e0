package conformance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/shared/conformance"
)

var testPlugin string

func TestMain(m *testing.M) {
	testbin.Main(m, func(dir string) (err error) {
		testPlugin, err = testbackend.BuildPlugin(dir)
		return err
	})
}

// TestCheckCatchesABrokenBackend proves the checks assert something: a
// backend that breaks the contract fails exactly the checks it breaks.
func TestCheckCatchesABrokenBackend(t *testing.T) {
	results := conformance.Check(context.Background(), conformance.Config{
		Binary: testPlugin,
		Env:    []string{"HERMES_TESTBACKEND_BROKEN=1"},
		Setup:  testbackend.FreshState,
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
	results := conformance.Check(context.Background(), conformance.Config{
		Binary: testPlugin,
		Env:    []string{"HERMES_TESTBACKEND_MODE=exit"},
	})
	if len(results) != len(conformance.Checks()) {
		t.Fatalf("%d results for %d checks", len(results), len(conformance.Checks()))
	}
	for _, r := range results {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "exiting at once") {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
	}
}

func TestCheckOneRunsOnlyTheNamedCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wantErr string // empty: the check must pass
	}{
		{name: conformance.Checks()[0]},
		{name: "no such check", wantErr: `no conformance check is called "no such check"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := conformance.CheckOne(context.Background(), conformance.Config{Binary: testPlugin, Setup: testbackend.FreshState}, tc.name)
			if r.Name != tc.name {
				t.Errorf("result names %q", r.Name)
			}
			switch {
			case tc.wantErr == "" && r.Err != nil:
				t.Errorf("got %v, want a pass", r.Err)
			case tc.wantErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.wantErr)):
				t.Errorf("got %v, want it to mention %q", r.Err, tc.wantErr)
			}
		})
	}
}

// TestCheckCatchesWhatTheKitOnceMissed: a state the contract does not name,
// a capability declared but not implemented, a slow status, each fail the
// check that is about it.
func TestCheckCatchesWhatTheKitOnceMissed(t *testing.T) {
	for _, tc := range []struct {
		env, check, want string
	}{
		{"HERMES_TESTBACKEND_STATE=sleeping", "status comes back complete", `reported the state "sleeping"`},
		{"HERMES_TESTBACKEND_HOLLOW=logs", "declared capabilities are implemented", "declares logs, but it answers"},
		{"HERMES_TESTBACKEND_HOLLOW=follow", "declared capabilities are implemented", "declares follow-logs"},
		{"HERMES_TESTBACKEND_HOLLOW=install", "declared capabilities are implemented", "declares install"},
		{"HERMES_TESTBACKEND_SLOW_STATUS=3s", "status answers within its budget", "status took 3"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			cfg := conformance.Config{Binary: testPlugin, Env: []string{tc.env}, Setup: testbackend.FreshState}
			r := conformance.CheckOne(context.Background(), cfg, tc.check)
			if r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
				t.Errorf("%s: got %v, want it to mention %q", tc.check, r.Err, tc.want)
			}
			// Without the flaw, the same check passes.
			cfg.Env = nil
			if r := conformance.CheckOne(context.Background(), cfg, tc.check); r.Err != nil {
				t.Errorf("%s on a sound backend: %v", tc.check, r.Err)
			}
		})
	}
}

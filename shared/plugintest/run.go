package plugintest

import (
	"context"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/conformance"
)

// Run runs every conformance check against cfg.Binary as a subtest of t,
// named after the check: a failed check fails its subtest, a check that does
// not apply skips it. Each check runs inside its own subtest, so -run can
// pick one. With cfg.Lifecycle set it then runs the lifecycle tier
// (conformance.CheckLifecycle) against the supervisor the hook starts, one
// subtest per step, under a subtest named "lifecycle".
func Run(t *testing.T, cfg conformance.Config) {
	t.Helper()
	for _, name := range conformance.Checks() {
		t.Run(name, func(t *testing.T) {
			report(t, conformance.CheckOne(context.Background(), cfg, name))
		})
	}
	if cfg.Lifecycle == nil {
		return
	}
	t.Run("lifecycle", func(t *testing.T) {
		// One sequence: its steps build on each other.
		for _, r := range conformance.CheckLifecycle(context.Background(), cfg) {
			t.Run(strings.TrimPrefix(r.Name, "lifecycle: "), func(t *testing.T) { report(t, r) })
		}
	})
}

func report(t *testing.T, r conformance.Result) {
	t.Helper()
	switch {
	case r.Skipped != "":
		t.Skip(r.Skipped)
	case r.Err != nil:
		t.Fatal(r.Err)
	}
}

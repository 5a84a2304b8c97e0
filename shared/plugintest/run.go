package plugintest

import (
	"context"
	"testing"

	"github.com/nousresearch/hermes-service/shared/conformance"
)

// Run runs every conformance check against cfg.Binary as a subtest of t,
// named after the check: a failed check fails its subtest, a check that does
// not apply skips it. Each check runs inside its own subtest, so -run can
// pick one.
func Run(t *testing.T, cfg conformance.Config) {
	t.Helper()
	for _, name := range conformance.Checks() {
		t.Run(name, func(t *testing.T) {
			r := conformance.CheckOne(context.Background(), cfg, name)
			switch {
			case r.Skipped != "":
				t.Skip(r.Skipped)
			case r.Err != nil:
				t.Fatal(r.Err)
			}
		})
	}
}

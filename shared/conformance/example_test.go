package conformance_test

import (
	"context"
	"fmt"

	"github.com/nousresearch/hermes-service/shared/conformance"
)

// A backend's whole check from Go, outside `go test`: the checks every
// backend passes, then the lifecycle tier on the supervisor hook.sh starts
// (`hook.sh setup|restart|teardown DIR`). hermes is the binary the tier's
// services run. `hermes gateway plugins check --lifecycle hook.sh PATH`
// does the same.
func ExampleCheckLifecycle() {
	cfg := conformance.Config{
		Binary: "/usr/local/lib/hermes/plugins/hermes-service-runit",
		Lifecycle: &conformance.Lifecycle{
			Hook:   conformance.CommandHook("/path/to/hook.sh"),
			Hermes: "/usr/bin/hermes",
		},
	}
	ctx := context.Background()
	results := append(conformance.Check(ctx, cfg), conformance.CheckLifecycle(ctx, cfg)...)
	for _, r := range results {
		switch {
		case r.Skipped != "":
			fmt.Printf("SKIP %s: %s\n", r.Name, r.Skipped)
		case !r.Passed():
			fmt.Printf("FAIL %s: %v\n", r.Name, r.Err)
		}
	}
}

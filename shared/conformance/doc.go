// Package conformance checks a hermes backend plugin against the contract,
// outside `go test`: it is what `hermes gateway plugins check PATH` runs. It imports
// no testing, so the check brings no test code into hermes.
//
// Check launches the plugin binary the way the host does, once per check,
// and tests handshake and identity, profile-name validation on every
// operation, not-found errors for missing profiles, "unsupported" for what
// the backend does not declare, an empty list, a complete status, safety
// under concurrent calls, and prompt return on a cancelled context. The
// checks only ever touch a profile that does not exist (MissingProfile), so
// they change nothing on the machine they run on. A backend with an init
// system behind it supplies a private one through Config.Setup (a scandir of
// its own, a folder of fake tools):
//
//	results := conformance.Check(ctx, conformance.Config{
//		Binary: path,
//		Setup: func(ctx context.Context) ([]string, func(), error) {
//			dir, err := os.MkdirTemp("", "scandir")
//			return []string{"HERMES_S6_SCANDIR=" + dir}, func() { os.RemoveAll(dir) }, err
//		},
//	})
//	for _, r := range results {
//		switch {
//		case r.Skipped != "":
//			fmt.Printf("SKIP %s: %s\n", r.Name, r.Skipped)
//		case !r.Passed():
//			fmt.Printf("FAIL %s: %v\n", r.Name, r.Err)
//		}
//	}
//
// From a Go test, run the same checks as subtests with plugintest.Run.
package conformance

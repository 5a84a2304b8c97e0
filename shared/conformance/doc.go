// Package conformance checks a hermes backend plugin against the contract,
// outside `go test`: it is what `hermes gateway plugins check PATH` runs. It imports
// no testing, so the check brings no test code into hermes.
//
// Check launches the plugin binary the way the host does, once per check,
// and tests handshake and identity, profile-name validation on every
// operation, not-found errors for missing profiles, "unsupported" for what
// the backend does not declare and none for what it does, an empty list, a
// complete status within its budget, safety under concurrent calls, and
// prompt return on a cancelled context. The checks only ever touch a
// profile that does not exist (MissingProfile), so they change nothing on
// the machine they run on. A backend with an init
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
//
// # The lifecycle tier
//
// CheckLifecycle (opt-in: Config.Lifecycle) drives the backend's real
// supervisor, which the author's Hook starts privately (CommandHook runs a
// program: `HOOK setup|restart|teardown DIR`). It installs or registers a
// profile per protocol, each running hermes's runner with the kit's Witness
// gateway, then restarts, stops and starts them, restarts the supervisor as
// a reboot would, and uninstalls, checking at each step the planned-stop
// marker, the recorded intent, status (valid, truthful, within its budget),
// logs and every declared capability. `hermes gateway plugins check
// --lifecycle HOOK PATH` runs it from the CLI. docs/backend-guide.md in the
// SDK's repository is the contract it checks.
package conformance

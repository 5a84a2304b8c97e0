// Package plugintest is the conformance kit for hermes backends.
//
// Harness puts any service.Manager behind a real gRPC connection in the
// test's own process, for fast unit tests of a backend through the wire.
//
// Run launches a plugin binary the way the host does and checks it against
// the contract: handshake and identity, profile-name validation on every
// operation, not-found errors for missing profiles, "unsupported" for what
// the backend does not declare, an empty list, a complete status, safety
// under concurrent calls, and prompt return on a cancelled context. The
// checks only ever touch a profile that does not exist, so they change
// nothing on the machine they run on. A backend with an init system behind it
// supplies a private one through Config.Setup (a scandir of its own, a
// folder of fake tools):
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, plugintest.Config{
//			Binary: buildPlugin(t),
//			Setup: func(ctx context.Context) ([]string, func(), error) {
//				dir, err := os.MkdirTemp("", "scandir")
//				return []string{"HERMES_S6_SCANDIR=" + dir}, func() { os.RemoveAll(dir) }, err
//			},
//		})
//	}
//
// Check runs the same checks outside `go test`; `hermes plugin check` uses it.
package plugintest

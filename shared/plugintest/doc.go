// Package plugintest helps test a hermes backend from `go test`. The
// conformance checks themselves live in package conformance, which imports
// no testing so that `hermes gateway plugins check` can use them; this package runs
// them as subtests.
//
// Harness puts any service.Manager behind a real gRPC connection in the
// test's own process, for fast unit tests of a backend through the wire.
//
// Run launches a plugin binary the way the host does and runs each
// conformance check against it as a subtest. A backend with an init system
// behind it supplies a private one through conformance.Config.Setup (a
// scandir of its own, a folder of fake tools):
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, conformance.Config{
//			Binary: buildPlugin(t),
//			Setup: func(ctx context.Context) ([]string, func(), error) {
//				dir, err := os.MkdirTemp("", "scandir")
//				return []string{"HERMES_S6_SCANDIR=" + dir}, func() { os.RemoveAll(dir) }, err
//			},
//		})
//	}
//
// With conformance.Config.Lifecycle set, Run also runs the lifecycle tier
// against the supervisor the hook starts; BuildHermes builds the hermes
// binary its services run:
//
//	Lifecycle: &conformance.Lifecycle{Hook: conformance.CommandHook(hookPath), Hermes: plugintest.BuildHermes(t)},
//
// examples/runit/runit_test.go in the SDK's repository is a whole test.
package plugintest

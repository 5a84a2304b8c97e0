// Package backend is the base every hermes backend is built on, ours and an
// outside author's: embed Base in the backend's type and it has its
// identity, its logger, the Hermes home and its profile folders, the
// planned-stop marker and the operator's recorded intent, the part of a
// Status every backend fills the same way, and one way to run an init
// system's tool that turns a failure into a *service.CommandFailedError.
//
// A backend then writes only what its init system needs:
//
//	type Backend struct {
//		backend.Base
//		// the init system's own settings
//	}
//
//	func New(log hclog.Logger) (service.Manager, error) {
//		base, err := backend.NewBase(backend.Identity{Kind: "runit", Version: Version,
//			Capabilities: service.Capabilities{Install: true}}, log)
//		if err != nil {
//			return nil, err // Serve reports it and exits 78
//		}
//		return &Backend{Base: base}, nil
//	}
//
//	func main() { plugin.Serve(mybackend.New) }
//
// Stop and Restart keep the contract's order through OperatorStop and
// OperatorRestart: the intent recorded, the planned-stop marker naming the
// supervised pid, then your signal. docs/backend-guide.md in the SDK's
// repository is the whole contract.
//
// Base embeds service.Unimplemented, so every operation the backend does not
// define answers with an *UnsupportedError, and the backend keeps compiling
// when the contract grows.
package backend

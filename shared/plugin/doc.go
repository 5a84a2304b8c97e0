// Package plugin carries the hermes backend contract over HashiCorp
// go-plugin and gRPC: Serve on the plugin side, Launch on the host side.
//
// A backend plugin is a program named hermes-service-<kind> whose main is
// one call:
//
//	func main() { plugin.Serve(mybackend.FromEnv) } // a Factory
//
// where mybackend implements service.Manager (embed backend.Base and
// override what you support). The contract a backend keeps (what its
// services run, stop, restart and the planned-stop marker, status, logs,
// capabilities, protocol versions) is written down in docs/backend-guide.md
// of the SDK's repository; examples/runit there is a whole backend to copy. Serve enforces the contract's rules that
// do not depend on an init system: it validates profile names and
// environment keys before the backend sees them, answers "unsupported" for
// operations outside the capabilities the backend declares, turns a panic
// into an error, and carries typed errors across the wire.
//
// Check a plugin with `hermes gateway plugins check PATH`, or from Go with
// plugintest.Run.
//
// # Launch
//
// Launch runs the plugin file it opened and verified (on Linux, the open
// file itself through /proc/self/fd), in a process group of its own: a
// plugin without a handshake within the start timeout is killed with the
// whole group, children included. With LaunchConfig.Kind it also checks
// the kind the plugin reports (*KindError).
//
// # Transport security
//
// On Unix the connection is a Unix socket, which the plugin creates in a
// fresh folder of mode 0700 that the host made for it
// (PLUGIN_UNIX_SOCKET_DIR; the host removes it when it closes the plugin),
// so only the host's user can reach it. The host connects to nothing else:
// a handshake naming any address but a socket directly in that folder (or,
// on Windows, a loopback TCP port) is refused unconnected (*AddressError).
// go-plugin's AutoMTLS is off there:
// it would add a key pair generation on both sides to every launch (the
// host launches a plugin for each command, and the whole `hermes gateway
// status` must stay within 25 ms) to protect a socket that the folder's
// permissions already protect.
//
// On Windows the plugin listens on loopback TCP instead (127.0.0.1, on a
// port the system picks unless PLUGIN_MIN_PORT and PLUGIN_MAX_PORT say
// otherwise), which any local user can reach, so AutoMTLS is on: the host
// hands the plugin a fresh client certificate, the plugin answers with its
// own in the handshake, and each side accepts only the other's.
package plugin

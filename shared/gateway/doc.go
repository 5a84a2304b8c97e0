// Package gateway reads and writes the Hermes home: the folders of the
// profiles, and the files the hermes runner shares with the Python gateway
// (gateway_state.json, gateway.pid, gateway.lock and the planned-stop
// marker). Every format here is byte-compatible with the Python side, so both
// can work on one home: JSON objects are written compactly, as Python's
// json.dumps(separators=(",", ":"), ensure_ascii=False) writes them, fields
// this package does not know are kept as they are and where they are, and
// every write goes to a temporary file beside the target that is fsynced and
// renamed into place.
//
// Every file and folder is reached through internal/homefs, because hermes
// runs as root on homes another user owns: nothing below the home's root is
// reached through a symlink (one where a file or a profile's folder should
// be is refused with a typed error and a hint), what hermes creates or
// rewrites belongs to the home's owner whoever runs it, and no file is read
// past MaxFileSize. The profile folder a function is given names its home:
// <root>/profiles/<name>, else the folder is the home's root (the default
// profile), as Home.ProfileDir makes them.
//
// Backends use MarkPlannedStop before they stop a gateway, so that the
// gateway's runner can tell an operator's stop from one that came from
// outside (a container restart, the OOM killer, a bare kill).
//
// The runner's protocol has its one home here too (protocol.go): its exit
// codes (ExitOK, ExitFailed, ExitRestart, ExitConfig), every environment
// name hermes, the runner and the backends read or set (EnvHome,
// EnvSupervisedChild, ...), the runner's command line (RunnerArgv,
// ProfileArgs, the flags a service definition passes), and the Windows
// stop request (StopEventName, RequestStop).
package gateway

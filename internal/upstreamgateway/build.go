// Package upstreamgateway builds a stand-in of upstream's real gateway,
// `hermes gateway run` from NousResearch/hermes-agent, for tests only (never
// shipped). Unlike internal/testgateway, which only echoes signals, this
// program keeps upstream's protocol on the home it runs for, as the Python
// gateway does (upstream's gateway/run.py and gateway/status.py):
//
//   - HERMES_HOME is its home; `-p NAME` (anywhere on the command line)
//     selects <HERMES_HOME>/profiles/NAME. An optional leading `gateway run`
//     is accepted, so the program can stand where upstream's CLI is called.
//   - It refuses to start (exit 1) while a live gateway owns the home, as
//     get_running_pid decides; with --replace it writes the takeover marker
//     naming that gateway, SIGTERMs it and waits for it to go.
//   - It holds gateway.lock, writes gateway.pid and keeps gateway_state.json
//     with an unlocked read-modify-write that keeps other writers' fields.
//   - SIGINT is a planned stop; SIGTERM is planned only with a takeover
//     marker or a valid planned-stop marker naming it; an unplanned SIGTERM
//     leaves gateway_state "running" and exits 1 (upstream's #42675); a
//     valid planned-stop marker alone stops it too (upstream's watcher,
//     which skips markers carrying "trigger_watcher": false). SIGUSR1 asks
//     for a restart: "stopped", restart_requested, exit 75.
//   - Before it claims the home it runs upstream's respawn-storm breaker:
//     more than 5 starts in 120 s in one home hold the next start back
//     (10 s, doubling); HERMES_GATEWAY_MAX_STARTS=0 turns it off.
//   - On Windows there are no SIGTERM or SIGUSR1 to send: Ctrl-C or
//     Ctrl-Break is a planned stop, console close/logoff/shutdown count as a
//     SIGTERM, and a service stops it as upstream's Windows path does, with
//     a planned-stop marker the watcher picks up. It does not wait on
//     gateway.StopEventName (upstream knows no such event).
//
// Flags: --replace, --external-supervisor (sets
// HERMES_GATEWAY_EXTERNAL_SUPERVISOR=1), --no-supervise, --force, -v, -q.
// The environment knobs are the Env* constants below; every decision is a
// line on stdout built by the *Line functions, so tests grep for exactly
// what the program prints.
package upstreamgateway

import "github.com/nousresearch/hermes-service/internal/testbin"

// Package is the import path of the stand-in's main package.
const Package = "github.com/nousresearch/hermes-service/internal/upstreamgateway/cmd/hermes-upstream-gateway"

// Build puts the stand-in into dir and returns its path (testbin.Build:
// built once per test run, taken from there).
func Build(dir string) (string, error) { return testbin.Build(dir, Package) }

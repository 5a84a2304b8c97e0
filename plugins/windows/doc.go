// Package windows is the hermes backend for Windows: each profile's gateway
// is a Windows service, hermes-gateway[-<profile>], managed through the
// Service Control Manager.
//
// The SCM only runs programs that speak its protocol, so the service runs
// this plugin's own binary in service mode (`hermes-service-windows.exe
// service --profile P ...`, entered by that explicit argument because
// svc.IsWindowsService is unreliable under Wine), which runs
// `hermes [-p P] gateway run` as its child. The operator's --env values are
// not in that command line (the SCM expands %NAME% in it, and any user may
// read it): they live in the profile's EnvFile, which only SYSTEM and
// Administrators may open, and the service process refuses one anybody
// else could have written.
//
// An SCM Stop is the operator's stop: the wrapper records the intent
// "stopped", writes the planned-stop marker for the runner and sets the
// runner's stop event (Windows has no SIGTERM); under the hermes protocol
// the runner hands it on as a marker naming the gateway, which upstream's
// gateway watches for (its Windows stop path). The stop holds across a
// reboot: the service is made manual until the next start (see
// PersistedStartType). An SCM Shutdown (the machine going down) sets the
// event without a marker and leaves the start type, so the intent stays
// "running" and the gateway comes back with the machine. A clean exit or a
// fatal configuration (78) reports Stopped; any other exit ends the wrapper
// without reporting, which the SCM treats as a crash and answers with the
// recovery actions (restart after 5 s, three times, reset after a day).
package windows

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""

// Package windows is the hermes backend for Windows: each profile's gateway
// is a Windows service, hermes-gateway[-<profile>], managed through the
// Service Control Manager.
//
// The SCM only runs programs that speak its protocol, so the service runs
// this plugin's own binary in service mode (`hermes-service-windows.exe
// service --profile P ...`, entered by that explicit argument because
// svc.IsWindowsService is unreliable under Wine), which runs
// `hermes [-p P] gateway run` as its child. An SCM Stop is a planned stop:
// the wrapper writes the planned-stop marker for the runner and sets the
// runner's stop event (Windows has no SIGTERM). An SCM Shutdown (the
// machine going down) sets the event without a marker, so the intent stays
// "running". A clean exit or a fatal configuration (78) reports Stopped;
// any other exit ends the wrapper without reporting, which the SCM treats
// as a crash and answers with the recovery actions (restart after 5 s,
// three times, reset after a day).
package windows

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""

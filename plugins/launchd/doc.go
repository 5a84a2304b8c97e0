// Package launchd is the hermes backend for macOS: each profile's gateway
// is a launchd agent in the user's domain (~/Library/LaunchAgents), or with
// system scope a daemon (/Library/LaunchDaemons), labelled
// ai.hermes.gateway[.<profile>] and driven by the modern launchctl verbs
// (bootstrap, bootout, kickstart, print).
//
// Behaviour depends on configuration, never on the operating system, so the
// backend runs anywhere a launchctl answers (tests use a fake one):
// HERMES_HOME (the host sets it), HOME (for ~/Library/LaunchAgents), and for
// tests HERMES_LAUNCHD_DAEMONS_DIR (default /Library/LaunchDaemons).
package launchd

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""

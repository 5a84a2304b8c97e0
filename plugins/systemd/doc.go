// Package systemd is the hermes backend for Linux hosts run by systemd: each
// profile's gateway is a unit, hermes-gateway.service for the default
// profile and hermes-gateway-<profile>.service otherwise, in the user's
// manager by default or the system's on request.
//
// The unit restarts the runner on failure and on a stop from outside
// (exit 1), restarts it when asked (exit 75), never after a fatal
// configuration (exit 78), and runs `hermes gateway mark-stop` before
// systemd's SIGTERM, so that a `systemctl stop` typed by hand is an
// operator's stop as much as `hermes gateway stop`.
//
// Configuration from the environment: HERMES_HOME (the host sets it),
// XDG_CONFIG_HOME and HOME (where user units go), and, for tests and
// unusual layouts, HERMES_SYSTEMD_SYSTEM_DIR (default /etc/systemd/system)
// and HERMES_SYSTEMD_LINGER_DIR (default /var/lib/systemd/linger). The
// systemctl, loginctl and journalctl on PATH do the work.
package systemd

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""

// Package systemdtier is the systemd tier (tests only): hermes against real
// systemd managers. systemd 252 runs as PID 1 of a Debian tree under
// systemd-nspawn (scripts/nspawn.sh: nspawn unpacked from Debian's package
// of the machine's own systemd version, a debootstrapped tree cached
// between runs, dedicated cgroups and private cgroup and mount namespaces),
// in the hybrid and the pure cgroup2 layout. Inside: system units that run
// the gateway as an unprivileged account, a lingering user's manager for
// user units, root's own user manager, reboots with systemctl reboot, and
// the stand-ins of upstream's gateway (hermes protocol) and of a plain
// gateway as the services. Every boot checks that the machine's PID 1 kept
// its cgroups.
//
// It runs as root (make systemd-tier, which make test runs), on Linux; the
// script installs what it needs from Debian's packages.
package systemdtier

// Script is the container runner, relative to the repository's root.
const Script = "scripts/nspawn.sh"

// CacheDir keeps the unpacked nspawn and the Debian tree between runs:
// root's, as the tier is.
const CacheDir = "/var/cache/hermes-test/systemd"

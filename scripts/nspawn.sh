#!/bin/sh
# systemd as PID 1 of a Debian tree under systemd-nspawn, contained so that
# it can never reach the machine's own cgroups: the machine's PID 1 need
# not be systemd (on our CI machines it is not), and a systemd started
# outside such containment moves every process of the machine into cgroups
# of its own. Run as root.
#
# Containment: every cgroup hierarchy gets a dedicated group (memory under
# the caller's own memory group); the booting shell moves into them, then
# unshares a mount and a cgroup namespace rooted there, mounts a private
# /sys/fs/cgroup (tmpfs, each v1 hierarchy, name=systemd, cgroup2) and a
# tmpfs over /run/systemd, and runs nspawn without registering anywhere
# (--register=no --keep-unit: no D-Bus, no machined, no scope). The tree
# is an overlay: the cached Debian tree below, the run's changes above, so
# every run starts from the same tree and a reboot keeps what it changed.
#
#   nspawn.sh prepare --cache DIR
#       Installs debootstrap from Debian when missing, unpacks
#       systemd-nspawn from Debian's systemd-container package of exactly
#       the machine's systemd version (never installed: installing it
#       would upgrade the machine's systemd) into DIR/nspawn-VERSION, and
#       debootstraps Debian bookworm (systemd, dbus, libpam-systemd) into
#       DIR/tree-bookworm with the users of the layout, once: both are
#       kept between runs. Prints KEY=VALUE lines: NSPAWN, TREE.
#   nspawn.sh boot --state DIR --tree DIR --nspawn DIR [--unified]
#                  [--bind-ro SRC:DST]... [--bind SRC:DST]...
#       Boots the tree in the foreground (the caller backgrounds it): the
#       console goes to stdout. A reboot (nspawn's exit 133) boots it
#       again on the same overlay; a poweroff ends it. --unified gives a
#       pure cgroup2 container (nspawn picks the hybrid layout here
#       otherwise). DIR/boot.pid holds this process's pid, DIR/nspawn.pid
#       nspawn's, DIR/boots counts the boots. The dedicated cgroups are
#       removed at the end, deepest first.
#   nspawn.sh pid1 --state DIR
#       Prints the container's PID 1 as the machine sees it.
#   nspawn.sh exec --state DIR [--user NAME] [--] CMD...
#       Runs CMD inside, in every namespace of the container's PID 1, with
#       a clean environment: as root, or as NAME with that user's HOME,
#       USER and XDG_RUNTIME_DIR (/run/user/UID, where its manager is).
#   nspawn.sh stop --state DIR [--timeout SECONDS]
#       Powers the container off (SIGTERM to nspawn), SIGKILL after the
#       timeout (default 20), and returns once the boot has ended and its
#       cgroups are gone.
#   nspawn.sh layout
#       Prints the layout, KEY=VALUE a line, for tests.
set -eu

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
# What the tree holds beyond minbase: systemd, D-Bus and logind's PAM hook
# (libpam-systemd is what starts a lingering user's manager), and procps.
INCLUDE=systemd,systemd-sysv,dbus,libpam-systemd,procps
# The accounts inside: an unprivileged service user with a home, and one
# more for tests of another home.
USER_NAME=alice
USER_UID=1000
OTHER_NAME=bob
OTHER_UID=1001
BIN_AT=/opt/hermes/bin
CONTAINER_PATH="$BIN_AT:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CGROUP_PREFIX=hermes-nspawn
# nspawn's exit status when the container asked for a reboot.
REBOOT_STATUS=133

die() {
	echo "nspawn.sh: $*" >&2
	exit 1
}

# poll SECONDS CMD...: runs CMD until it succeeds, for at most SECONDS.
poll() {
	tries=$(($1 * 20))
	shift
	until "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# ---- prepare ---------------------------------------------------------------

apt_install() {
	echo "nspawn.sh: installing Debian's $* for the systemd tier" >&2
	apt-get update -qq >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

prepare_nspawn() {
	version="$(dpkg-query -W -f '${Version}' systemd 2>/dev/null)" ||
		die "the machine's systemd package is not installed (apt-get install systemd: it brings systemctl and systemd-analyze, and starts no manager)"
	dir="$cache/nspawn-$version"
	if [ ! -x "$dir/usr/bin/systemd-nspawn" ]; then
		tmp="$cache/.nspawn-$$"
		rm -rf "$tmp" && mkdir -p "$tmp"
		# apt-get download writes into the working folder.
		(cd "$tmp" && apt-get download -qq "systemd-container=$version" >&2) || {
			apt-get update -qq >&2
			(cd "$tmp" && apt-get download -qq "systemd-container=$version" >&2)
		} || die "cannot download systemd-container $version, the machine's systemd version (is it still on the mirror? apt-cache policy systemd-container)"
		dpkg -x "$tmp"/systemd-container_*.deb "$tmp/root" || die "cannot unpack systemd-container"
		rm -rf "$dir"
		mv "$tmp/root" "$dir"
		rm -rf "$tmp"
	fi
	echo "NSPAWN=$dir"
}

prepare_tree() {
	tree="$cache/tree-$SUITE"
	if [ ! -f "$tree/.hermes-tree-ready" ]; then
		command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
		tmp="$cache/.tree-$$"
		rm -rf "$tmp"
		echo "nspawn.sh: debootstrapping Debian $SUITE into $tree (once; about a minute)" >&2
		debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$MIRROR" >"$cache/debootstrap.log" 2>&1 ||
			die "debootstrap failed; see $cache/debootstrap.log"
		chroot "$tmp" useradd -m -u "$USER_UID" -s /bin/bash "$USER_NAME"
		chroot "$tmp" useradd -m -u "$OTHER_UID" -s /bin/bash "$OTHER_NAME"
		# A machine id of its own, stable across the tier's boots; no
		# first-boot wizard.
		chroot "$tmp" systemd-machine-id-setup >/dev/null 2>&1
		# Nothing the tier does not need starts at boot.
		for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
			man-db.timer systemd-networkd-wait-online.service getty@tty1.service; do
			rm -f "$tmp/etc/systemd/system/"*.wants/"$u"
		done
		mkdir -p "$tmp$BIN_AT"
		# A persistent journal: the tier reads the boot before a reboot, and
		# a user's own journal (split per user only when persistent).
		mkdir -p "$tmp/var/log/journal"
		touch "$tmp/.hermes-tree-ready"
		rm -rf "$tree"
		mv "$tmp" "$tree"
	fi
	echo "TREE=$tree"
}

# ---- boot ------------------------------------------------------------------

# controllers: the v1 hierarchies mounted under /sys/fs/cgroup, memory
# aside (it goes under the caller's own group).
v1_hierarchies() {
	for d in /sys/fs/cgroup/*; do
		case "${d##*/}" in
		memory | unified) ;;
		*) [ -f "$d/cgroup.procs" ] && echo "${d##*/}" ;;
		esac
	done
}

# groups: every dedicated cgroup folder of this boot, one a line.
groups() {
	for h in $(v1_hierarchies); do
		echo "/sys/fs/cgroup/$h/$cgname"
	done
	if [ -f /sys/fs/cgroup/memory/cgroup.procs ]; then
		mem="$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)"
		echo "/sys/fs/cgroup/memory${mem%/}/$cgname"
	fi
	if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
		echo "/sys/fs/cgroup/unified/$cgname"
	fi
}

make_groups() {
	groups >"$state/cgroups"
	while read -r g; do
		mkdir -p "$g"
		case "$g" in
		/sys/fs/cgroup/cpuset/*)
			# A cpuset group takes no task before it has cpus and mems.
			cat "${g%/*}/cpuset.cpus" >"$g/cpuset.cpus"
			cat "${g%/*}/cpuset.mems" >"$g/cpuset.mems"
			;;
		esac
		echo $$ >"$g/cgroup.procs"
	done <"$state/cgroups"
}

# leave_groups moves this shell back to the groups it came from, then
# removes the dedicated ones, deepest first, once nothing is left in them.
leave_groups() {
	[ -f "$state/cgroups" ] || return 0
	while read -r g; do
		[ -d "$g" ] && echo $$ >"${g%/*}/cgroup.procs" 2>/dev/null || true
	done <"$state/cgroups"
	while read -r g; do
		[ -d "$g" ] || continue
		if ! poll 5 empty_tree "$g"; then
			# What is left in the dedicated groups is this container's
			# (nspawn was killed, or PID 1 outlived it): nothing else can
			# be in them.
			echo "nspawn.sh: killing what is left of the container in $g" >&2
			find "$g" -name cgroup.procs -exec cat {} + | sort -u | while read -r p; do
				[ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null
			done
			poll 10 empty_tree "$g" || echo "nspawn.sh: $g still holds processes; left in place" >&2
		fi
		find "$g" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done <"$state/cgroups"
	rm -f "$state/cgroups"
}

empty_tree() {
	for f in $(find "$1" -name cgroup.procs); do
		[ -s "$f" ] && return 1
	done
	return 0
}

# inside runs in the new mount and cgroup namespaces: the private cgroup
# file systems, the overlay, then nspawn, again after every reboot.
inside() {
	mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
	for h in $(cat "$state/hierarchies"); do
		mkdir -p "/sys/fs/cgroup/$h"
		case "$h" in
		systemd) mount -t cgroup -o none,name=systemd cgroup "/sys/fs/cgroup/$h" ;;
		unified) mount -t cgroup2 cgroup2 "/sys/fs/cgroup/$h" ;;
		*) mount -t cgroup -o "$h" cgroup "/sys/fs/cgroup/$h" ;;
		esac
	done
	# A link per controller pair the machine has (cpu,cpuacct) is not
	# needed: nspawn reads /proc/self/cgroup.
	mkdir -p /run/systemd
	mount -t tmpfs -o mode=755 tmpfs /run/systemd
	mkdir -p "$state/upper" "$state/work" "$state/root"
	mount -t overlay overlay -o "lowerdir=$tree,upperdir=$state/upper,workdir=$state/work" "$state/root"
	while :; do
		[ -f "$state/stopping" ] && return 0
		echo $(($(cat "$state/boots" 2>/dev/null || echo 0) + 1)) >"$state/boots"
		set +e
		# shellcheck disable=SC2086
		"$nspawn/usr/bin/systemd-nspawn" -D "$state/root" -M "$machine" -b --register=no --keep-unit \
			--private-network --link-journal=no --console=pipe --resolv-conf=off --timezone=off \
			$binds &
		echo $! >"$state/nspawn.pid"
		wait $!
		status=$?
		set -e
		rm -f "$state/nspawn.pid"
		[ "$status" = "$REBOOT_STATUS" ] || return "$status"
		echo "nspawn.sh: the container rebooted" >&2
	done
}

boot() {
	[ -n "$tree" ] && [ -d "$tree" ] || die "boot needs --tree DIR (from prepare)"
	[ -n "$nspawn" ] && [ -x "$nspawn/usr/bin/systemd-nspawn" ] || die "boot needs --nspawn DIR (from prepare)"
	mkdir -p "$state"
	rm -f "$state/stopping" "$state/boots" "$state/nspawn.pid"
	echo $$ >"$state/boot.pid"
	machine="hermes-$(basename "$state" | tr -c 'a-zA-Z0-9\n' - | cut -c1-40)"
	cgname="$CGROUP_PREFIX-$$"
	{
		v1_hierarchies
		[ -f /sys/fs/cgroup/unified/cgroup.procs ] && echo unified
	} >"$state/hierarchies"
	make_groups
	trap 'leave_groups' EXIT
	# Unset, nspawn picks the layout of the machine here: hybrid. (0
	# would mean the legacy layout, in which systemd in a container never
	# hears that a cgroup emptied.)
	unset SYSTEMD_NSPAWN_UNIFIED_HIERARCHY
	[ "$unified" = 1 ] && export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
	set +e
	state="$state" tree="$tree" nspawn="$nspawn" machine="$machine" binds="$binds" \
		unshare -m -C --propagation private "$0" __inside
	status=$?
	set -e
	rm -f "$state/boot.pid"
	exit "$status"
}

# ---- exec, stop ------------------------------------------------------------

# pid1 prints the container's PID 1 on the machine: the child of nspawn
# that is PID 1 of its own pid namespace.
pid1() {
	np="$(cat "$state/nspawn.pid" 2>/dev/null)" || return 1
	for p in $(cat "/proc/$np/task/"*/children 2>/dev/null); do
		if grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

run_exec() {
	p="$(pid1)" || die "no container runs for $state"
	if [ -z "$as" ]; then
		exec nsenter -t "$p" -m -u -i -n -p -C -r -w -- /usr/bin/env -i PATH="$CONTAINER_PATH" HOME=/root USER=root LOGNAME=root "$@"
	fi
	# The user's account as the tree has it.
	line="$(grep "^$as:" "/proc/$p/root/etc/passwd")" || die "no user $as in the tree"
	uid="$(echo "$line" | cut -d: -f3)"
	home="$(echo "$line" | cut -d: -f6)"
	exec nsenter -t "$p" -m -u -i -n -p -C -r -w -- /usr/bin/env -i PATH="$CONTAINER_PATH" HOME="$home" USER="$as" \
		LOGNAME="$as" XDG_RUNTIME_DIR="/run/user/$uid" /usr/bin/setpriv --reuid="$uid" --regid="$(echo "$line" | cut -d: -f4)" \
		--init-groups --reset-env -- /usr/bin/env PATH="$CONTAINER_PATH" HOME="$home" USER="$as" LOGNAME="$as" \
		XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}

stop() {
	bp="$(cat "$state/boot.pid" 2>/dev/null)" || return 0
	alive "$bp" || return 0
	touch "$state/stopping"
	p="$(pid1 || true)"
	np="$(cat "$state/nspawn.pid" 2>/dev/null || true)"
	alive "$np" && kill -TERM "$np"
	if ! poll "$timeout" eval '! alive "$bp"'; then
		echo "nspawn.sh: the container did not power off within ${timeout}s; killing it" >&2
		np="$(cat "$state/nspawn.pid" 2>/dev/null || true)"
		# PID 1 first: its pid namespace, everything in it, dies with it.
		alive "$p" && kill -KILL "$p"
		alive "$np" && kill -KILL "$np"
		poll 10 eval '! alive "$bp"' || die "the boot (pid $bp) did not end"
	fi
}

# ---- command line ----------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root"
cmd="${1:-}"
[ $# -gt 0 ] && shift
if [ "$cmd" = __inside ]; then
	# boot's own second half, in the new namespaces; boot passes its
	# settings in the environment.
	inside
	exit $?
fi
state="" tree="" nspawn="" cache="" unified=0 binds="" as="" timeout=20
while [ $# -gt 0 ]; do
	case "$1" in
	--state) state="$2" && shift 2 ;;
	--tree) tree="$2" && shift 2 ;;
	--nspawn) nspawn="$2" && shift 2 ;;
	--cache) cache="$2" && shift 2 ;;
	--unified) unified=1 && shift ;;
	--bind-ro) binds="$binds --bind-ro=$2" && shift 2 ;;
	--bind) binds="$binds --bind=$2" && shift 2 ;;
	--user) as="$2" && shift 2 ;;
	--timeout) timeout="$2" && shift 2 ;;
	--) shift && break ;;
	*) break ;;
	esac
done

case "$cmd" in
prepare)
	[ -n "$cache" ] || die "prepare needs --cache DIR"
	mkdir -p "$cache"
	chmod 755 "$cache"
	prepare_nspawn
	prepare_tree
	;;
boot)
	[ -n "$state" ] || die "boot needs --state DIR"
	boot
	;;
pid1)
	pid1 || die "no container runs for $state"
	;;
exec)
	[ -n "$state" ] || die "exec needs --state DIR"
	[ $# -gt 0 ] || die "exec needs a command"
	run_exec "$@"
	;;
stop)
	[ -n "$state" ] || die "stop needs --state DIR"
	stop
	;;
layout)
	echo "BIN_AT=$BIN_AT"
	echo "USER=$USER_NAME"
	echo "USER_UID=$USER_UID"
	echo "OTHER_USER=$OTHER_NAME"
	echo "OTHER_UID=$OTHER_UID"
	echo "CGROUP_PREFIX=$CGROUP_PREFIX"
	;;
*) die "usage: nspawn.sh prepare|boot|pid1|exec|stop|layout [options] (see the script's head)" ;;
esac

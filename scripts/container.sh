#!/bin/sh
# A container like upstream's image (s6-overlay 3.2.3.0), without Docker:
# s6-svscan as PID 1 of its own pid, mount, uts and ipc namespaces, on a
# tmpfs root that holds read-only binds of the machine's /usr and a few
# /etc files. Inside, as in the image: /run a tmpfs with /run/s6/basedir
# and the scandir /run/service, the s6 and execline tools in /command
# beside a with-contenv, the Hermes home volume at /opt/data, hermes in
# /opt/hermes/bin, and a user hermes (uid/gid 10000) that exists only
# there. No cgroup is touched. Run as root; nothing outside the repo is
# called but the machine's own tools (unshare, nsenter, mount).
#
#   container.sh start --state DIR --volume DIR --bin DIR [--cont-init DIR]
#                      [--env KEY=VALUE]...
#       Runs the container in the foreground (the caller backgrounds it, as
#       docker run without -d): its stdout and stderr are the console
#       (s6-svscan's), its exit status PID 1's. DIR/pid gets PID 1's pid on
#       the machine once it runs. The volume is bound read-write at
#       /opt/data, the bin folder read-only at /opt/hermes/bin, the
#       cont-init folder read-only at /etc/cont-init.d.
#   container.sh exec --state DIR [--] CMD...
#       docker exec: CMD as root inside, with only the container's
#       environment.
#   container.sh ready --state DIR [--timeout SECONDS]
#       Waits until s6-svscan, PID 1, serves /run/service (its control
#       FIFO exists), as s6-overlay does before it runs cont-init.
#   container.sh cont-init --state DIR
#       ready, then s6-overlay's cont-init step: every /etc/cont-init.d
#       script in name order, as root; the first that fails ends it with
#       its exit status.
#   container.sh stop --state DIR --form=term|halt|kill [--timeout SECONDS]
#       docker stop, and returns once PID 1 is gone:
#         term: SIGTERM to PID 1, which a plain s6-svscan takes as
#               s6-svscanctl -t (every service SIGTERM, loggers HUP, exit 0);
#         halt: s6-overlay v3's halt, run inside: every slot brought down
#               (S6_SERVICES_GRACETIME), kill -TERM -1, S6_KILL_GRACETIME,
#               kill -KILL -1, then PID 1 ends;
#         kill: SIGKILL to PID 1 (docker kill, the OOM killer).
#       The namespaces, and every process and mount in them, die with PID 1.
#   container.sh layout
#       Prints the image's layout below, KEY=VALUE a line, for tests.
set -eu

# The image's layout and its defaults (s6-overlay's, upstream's Dockerfile).
SCANDIR=/run/service
VOLUME_AT=/opt/data
BIN_AT=/opt/hermes/bin
SERVICE_UID=10000
SERVICE_USER=hermes
DEFAULT_GRACE_MS=3000 # S6_SERVICES_GRACETIME and S6_KILL_GRACETIME
EXECLINE_BIN=/usr/lib/execline/bin
CONTAINER_PATH="$BIN_AT:/command:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

die() {
	echo "container.sh: $*" >&2
	exit 1
}

# pid1 is PID 1's pid on the machine, from the state folder.
pid1() {
	[ -s "$state/pid" ] || die "no container recorded in $state (start it first)"
	cat "$state/pid"
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	# The state is the field after the parenthesised command name.
	st="$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
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

cmd_start() {
	volume="" bin="" continit=""
	: >"$state/env.list"
	while [ $# -gt 0 ]; do
		case "$1" in
		--volume) volume="$2"; shift 2 ;;
		--bin) bin="$2"; shift 2 ;;
		--cont-init) continit="$2"; shift 2 ;;
		--env) printf '%s\n' "$2" >>"$state/env.list"; shift 2 ;;
		*) die "start: unknown argument $1" ;;
		esac
	done
	[ -d "$volume" ] || die "start: --volume must be a folder"
	[ -d "$bin" ] || die "start: --bin must be a folder"
	rm -f "$state/pid"
	mkdir -p "$state/root"
	# The account exists only inside: the machine's passwd and group with
	# the service user added, bound over /etc/passwd and /etc/group there.
	grep -v "^$SERVICE_USER:" /etc/passwd >"$state/passwd"
	echo "$SERVICE_USER:x:$SERVICE_UID:$SERVICE_UID::$VOLUME_AT:/usr/sbin/nologin" >>"$state/passwd"
	grep -v "^$SERVICE_USER:" /etc/group >"$state/group"
	echo "$SERVICE_USER:x:$SERVICE_UID:" >>"$state/group"

	unshare --pid --fork --mount --uts --ipc --mount-proc --propagation private \
		sh "$0" init --state "$state" --volume "$volume" --bin "$bin" --cont-init "$continit" &
	outer=$!
	# unshare's one child is PID 1 inside.
	if ! poll 10 eval 'inner="$(cat "/proc/$outer/task/$outer/children" 2>/dev/null)" && [ -n "$inner" ]'; then
		wait "$outer" || true
		die "start: the container's PID 1 never appeared"
	fi
	echo $inner >"$state/pid"
	code=0
	wait "$outer" || code=$?
	exit "$code"
}

# cmd_init runs as PID 1 of the new namespaces: it builds the root, pivots
# into it and becomes s6-svscan.
cmd_init() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--volume) volume="$2"; shift 2 ;;
		--bin) bin="$2"; shift 2 ;;
		--cont-init) continit="$2"; shift 2 ;;
		*) die "init: unknown argument $1" ;;
		esac
	done
	root="$state/root"
	mount -t tmpfs -o mode=0755 container-root "$root"
	mkdir -p "$root/usr" "$root/etc" "$root/proc" "$root/dev" "$root/run" "$root/tmp" "$root/root" \
		"$root$VOLUME_AT" "$root$BIN_AT" "$root/command" "$root/old-root"
	ro_bind() { # ro_bind FROM TO
		mount --bind "$1" "$2"
		mount -o remount,bind,ro "$2"
	}
	ro_bind /usr "$root/usr"
	# Merged /usr: /bin, /lib... are links into it there; else bind them.
	for d in bin sbin lib lib32 lib64 libx32; do
		if [ -L "/$d" ]; then
			ln -s "$(readlink "/$d")" "$root/$d"
		elif [ -d "/$d" ]; then
			mkdir "$root/$d" && ro_bind "/$d" "$root/$d"
		fi
	done
	for f in ld.so.cache nsswitch.conf localtime hosts; do
		[ -e "/etc/$f" ] || continue
		touch "$root/etc/$f" && ro_bind "/etc/$f" "$root/etc/$f"
	done
	for f in passwd group; do
		touch "$root/etc/$f" && ro_bind "$state/$f" "$root/etc/$f"
	done
	mount -t tmpfs -o mode=0755 container-dev "$root/dev"
	for f in null zero full random urandom tty; do
		touch "$root/dev/$f" && mount --bind "/dev/$f" "$root/dev/$f"
	done
	mount -t tmpfs -o mode=1777 container-tmp "$root/tmp"
	mount -t tmpfs -o mode=0755 container-run "$root/run"
	mkdir -p "$root/run/s6/basedir" "$root$SCANDIR" "$root/run/s6/container_environment"
	mount --bind "$volume" "$root$VOLUME_AT"
	ro_bind "$bin" "$root$BIN_AT"
	if [ -n "$continit" ]; then
		mkdir -p "$root/etc/cont-init.d" && ro_bind "$continit" "$root/etc/cont-init.d"
	fi
	mount -t proc proc "$root/proc"

	# The container's environment, as s6-overlay keeps it: a file per
	# variable, read back by with-contenv (s6-envdir: an empty file unsets
	# its variable, so KEY= with nothing after it is no variable inside).
	envdir="$root/run/s6/container_environment"
	printf '%s' "$CONTAINER_PATH" >"$envdir/PATH"
	printf '%s' "$VOLUME_AT" >"$envdir/HERMES_HOME"
	printf '%s' /root >"$envdir/HOME"
	printf '%s' hermes-container >"$envdir/HOSTNAME"
	while IFS= read -r kv; do
		printf '%s' "${kv#*=}" >"$envdir/${kv%%=*}"
	done <"$state/env.list"

	for t in /usr/bin/s6-* "$EXECLINE_BIN"/*; do
		ln -s "$t" "$root/command/${t##*/}"
	done
	# s6-overlay's with-contenv: the program runs with the container's
	# environment (its PATH kept when the container gives none).
	cat >"$root/command/with-contenv" <<-'EOF'
		#!/command/execlineb -S0
		emptyenv -p
		s6-envdir -fn -- /run/s6/container_environment
		$@
	EOF
	chmod 0755 "$root/command/with-contenv"

	hostname hermes-container
	cd "$root"
	pivot_root . old-root
	cd /
	umount -l /old-root
	rmdir /old-root
	# s6-overlay empties PID 1's environment; services get the
	# container's through with-contenv.
	exec env -i PATH=/command:/usr/bin:/bin s6-svscan "$SCANDIR"
}

cmd_exec() {
	[ "${1:-}" != -- ] || shift
	[ $# -gt 0 ] || die "exec: no command"
	pid="$(pid1)"
	alive "$pid" || die "exec: the container (pid $pid) is not running"
	# Only the container's environment: env -i empties it, s6-envdir fills
	# it from the files PID 1's setup wrote, then runs CMD.
	# (env again last: s6-envdir looks CMD up on the PATH it was given,
	# none; env looks it up on the container's.)
	exec nsenter -t "$pid" -p -m -u -i \
		env -i /command/s6-envdir -fn /run/s6/container_environment /usr/bin/env "$@"
}

cmd_ready() {
	timeout=10
	[ "${1:-}" != --timeout ] || timeout="$2"
	# start records PID 1 a moment after it was called.
	poll "$timeout" test -s "$state/pid" || die "ready: no container started in $state within ${timeout}s"
	pid="$(pid1)"
	poll "$timeout" test -p "/proc/$pid/root$SCANDIR/.s6-svscan/control" ||
		die "ready: s6-svscan did not come up on $SCANDIR within ${timeout}s"
}

cmd_cont_init() {
	cmd_ready
	"$0" exec --state "$state" sh -c 'for f in /etc/cont-init.d/*; do
		[ -f "$f" ] || continue
		"$f" || { code=$?; echo "cont-init: $f exited $code" >&2; exit "$code"; }
	done'
}

# HALT is s6-overlay v3's stage 3 (s6-linux-init-shutdown), run inside by
# sh -c with the scandir and the default grace as $1 and $2:
# 1. every slot brought down (s6-svc -d), S6_SERVICES_GRACETIME for them
#    to go;
# 2. every slot hidden from s6-svscan (a dot name) and s6-svscanctl -an,
#    so no s6-supervise killed below is started again, nor its service;
# 3. kill -TERM -1 (and CONT), S6_KILL_GRACETIME, kill -KILL -1;
# 4. PID 1 ends (s6-overlay's s6-svscan execs into its halt).
HALT='
scandir="$1" grace="$2"
ms() { printf "%d.%03d" "$(($1 / 1000))" "$(($1 % 1000))"; }
set --
for s in "$scandir"/*/; do
	[ -d "$s" ] || continue
	s6-svc -d "$s"
	set -- "$@" "$s"
done
[ $# = 0 ] || s6-svwait -D -t "${S6_SERVICES_GRACETIME:-$grace}" "$@" || true
for s in "$@"; do
	s="${s%/}"
	mv "$s" "${s%/*}/.${s##*/}"
done
s6-svscanctl -an "$scandir"
kill -TERM -1 2>/dev/null
kill -CONT -1 2>/dev/null
sleep "$(ms "${S6_KILL_GRACETIME:-$grace}")"
kill -KILL -1 2>/dev/null
s6-svscanctl -t "$scandir"
'

cmd_stop() {
	form="" timeout=30
	while [ $# -gt 0 ]; do
		case "$1" in
		--form=*) form="${1#--form=}"; shift ;;
		--timeout) timeout="$2"; shift 2 ;;
		*) die "stop: unknown argument $1" ;;
		esac
	done
	pid="$(pid1)"
	case "$form" in
	term) kill -TERM "$pid" ;;
	kill) kill -KILL "$pid" ;;
	halt) "$0" exec --state "$state" sh -c "$HALT" halt "$SCANDIR" "$DEFAULT_GRACE_MS" || true ;;
	*) die "stop: --form must be term, halt or kill" ;;
	esac
	poll "$timeout" eval '! alive "$pid"' || die "stop: PID 1 ($pid) still runs ${timeout}s after a $form stop"
	rm -f "$state/pid"
}

if [ "${1:-}" = layout ]; then
	printf 'SCANDIR=%s\nVOLUME_AT=%s\nBIN_AT=%s\nSERVICE_UID=%s\nSERVICE_USER=%s\n' \
		"$SCANDIR" "$VOLUME_AT" "$BIN_AT" "$SERVICE_UID" "$SERVICE_USER"
	exit 0
fi
[ $# -ge 3 ] && [ "$2" = --state ] || die "usage: container.sh start|exec|ready|cont-init|stop --state DIR ..."
sub="$1" state="$3"
shift 3
case "$sub" in
start) cmd_start "$@" ;;
init) cmd_init "$@" ;;
exec) cmd_exec "$@" ;;
ready) cmd_ready "$@" ;;
cont-init) cmd_cont_init "$@" ;;
stop) cmd_stop "$@" ;;
*) die "unknown subcommand $sub" ;;
esac

#!/bin/sh
# The lifecycle tier's hook for the runit backend: a private runsvdir.
#
#   hook.sh setup DIR     start runsvdir on DIR/service; print the plugin's environment
#   hook.sh restart DIR   restart it as a reboot would: every service gets SIGTERM, no marker
#   hook.sh teardown DIR  stop it and everything it runs
#
# `hermes gateway plugins check --lifecycle hook.sh PLUGIN` and the Go test
# (plugintest.Run) both run it.
set -eu
verb=$1
dir=$2

# supervised lists the services whose runsv (or whose logger's) still runs:
# runsv holds supervise/lock while it lives.
supervised() {
	for lock in "$dir"/sv/*/supervise/lock "$dir"/sv/*/log/supervise/lock; do
		[ -e "$lock" ] || continue
		flock -n "$lock" true 2>/dev/null || echo "$lock"
	done
}

start() {
	# A session of its own (setsid), and output to a file, not the hook's.
	setsid runsvdir -P "$dir/service" </dev/null >>"$dir/runsvdir.log" 2>&1 &
	echo $! >"$dir/runsvdir.pid"
}

# stop is what a machine's shutdown does to runit: runsvdir's SIGHUP sends
# every runsv SIGTERM, which stops its service (SIGTERM, no marker) and exits.
stop() {
	pid=$(cat "$dir/runsvdir.pid" 2>/dev/null) || return 0
	kill -HUP "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null || [ -n "$(supervised)" ]; do
		i=$((i + 1))
		if [ "$i" -gt 300 ]; then
			echo "runsvdir $pid or a runsv is still there after 30s: $(supervised)" >&2
			return 1
		fi
		sleep 0.1
	done
	rm -f "$dir/runsvdir.pid"
}

case $verb in
setup)
	mkdir -p "$dir/service" "$dir/sv"
	start
	echo "HERMES_RUNIT_SVDIR=$dir/service"
	echo "HERMES_RUNIT_DIR=$dir/sv"
	;;
restart)
	stop
	start
	;;
teardown)
	stop
	;;
*)
	echo "usage: $0 setup|restart|teardown DIR" >&2
	exit 2
	;;
esac

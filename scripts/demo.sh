#!/usr/bin/env bash
# The README's main command: hermes keeping a gateway alive across a
# container restart, on a private s6 supervision tree (no root, no
# container needed). Installs Debian's s6 when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v s6-svscan >/dev/null 2>&1; then
	echo "== installing Debian's s6"
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq && $sudo apt-get install -y -qq s6 >/dev/null
fi
make --no-print-directory build >/dev/null

work="$(mktemp -d)"
svscan_pid=""
cleanup() {
	if [ -n "$svscan_pid" ]; then
		s6-svscanctl -t "$HERMES_S6_SCANDIR" 2>/dev/null || true
		wait "$svscan_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

export HERMES_HOME="$work/home" HERMES_S6_SCANDIR="$work/service" HERMES_S6_USER="" HERMES_SERVICE_BACKEND=s6
hermes="$PWD/bin/hermes"
mkdir -p "$HERMES_HOME/profiles/demo" "$HERMES_S6_SCANDIR"
echo "# the demo profile" > "$HERMES_HOME/profiles/demo/SOUL.md"

# A stand-in for the Hermes gateway: says hello every second, leaves on SIGTERM.
cat > "$work/gateway.sh" <<'GW'
#!/bin/sh
trap 'echo "demo gateway: SIGTERM, saying goodbye"; exit 0' TERM
echo "demo gateway: up as pid $$"
while :; do sleep 1; echo "demo gateway: hello"; done
GW
chmod +x "$work/gateway.sh"
# In a container the gateway command is part of the container's environment.
export HERMES_GATEWAY_COMMAND="$work/gateway.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
boot() {
	s6-svscan "$HERMES_S6_SCANDIR" >"$work/svscan.log" 2>&1 &
	svscan_pid=$!
	for _ in $(seq 100); do [ -p "$HERMES_S6_SCANDIR/.s6-svscan/control" ] && return; sleep 0.05; done
	echo "s6-svscan did not start" >&2; exit 1
}
wait_state() { # PROFILE STATE
	for _ in $(seq 100); do
		grep -q "\"gateway_state\":\"$2\"" "$HERMES_HOME/profiles/$1/gateway_state.json" 2>/dev/null && return
		sleep 0.1
	done
	echo "the $1 gateway never reached $2" >&2; exit 1
}

step "hermes and its backend plugins"
"$hermes" version
"$hermes" plugin list

step "a private s6 supervision tree on $HERMES_S6_SCANDIR; register the demo profile"
boot
"$hermes" -p demo gateway register
wait_state demo running
"$hermes" -p demo gateway status
sleep 1.5
"$hermes" -p demo gateway logs -n 3

step "the container stops: SIGTERM through the tree, no operator asked for it"
s6-svscanctl -t "$HERMES_S6_SCANDIR"; wait "$svscan_pid" || true; svscan_pid=""
wait_state demo stopped
echo "recorded intent: $(grep -o '"desired_state":"[a-z]*"' "$HERMES_HOME/profiles/demo/gateway_state.json")"

step "the container starts again: an empty /run, then hermes gateway reconcile"
rm -rf "$HERMES_S6_SCANDIR"; mkdir -p "$HERMES_S6_SCANDIR"
boot
"$hermes" gateway reconcile
wait_state demo running
"$hermes" -p demo gateway status | sed -n '1,6p'

step "the operator stops it: that intent survives the next restart"
"$hermes" -p demo gateway stop
wait_state demo stopped
"$hermes" -p demo gateway status --json || echo "(exit $?: not running, as scripts expect)"
s6-svscanctl -t "$HERMES_S6_SCANDIR"; wait "$svscan_pid" || true; svscan_pid=""
rm -rf "$HERMES_S6_SCANDIR"; mkdir -p "$HERMES_S6_SCANDIR"
boot
"$hermes" gateway reconcile
echo
echo "demo done: the gateway came back after the container restart and stayed down after the operator's stop."

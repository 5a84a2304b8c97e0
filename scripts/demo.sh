#!/usr/bin/env bash
# The README's main command: hermes keeping a gateway alive across a
# container restart, on a private s6 supervision tree (no root, no
# container, no init system needed). Installs Debian's s6 when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v s6-svscan >/dev/null 2>&1; then
	echo "== installing Debian's s6 (the supervision tree the demo runs on)"
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq && $sudo apt-get install -y -qq s6 >/dev/null
fi
echo "== building hermes and its plugins"
make --no-print-directory build >/dev/null

work="$(mktemp -d)"
hermes="$PWD/bin/hermes"
export HERMES_HOME="$work/home"
cleanup() {
	"$hermes" gateway supervise --stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# A stand-in for the Hermes gateway: says hello every second, leaves on SIGTERM.
mkdir -p "$HERMES_HOME/profiles/demo"
echo "# the demo profile" > "$HERMES_HOME/profiles/demo/SOUL.md"
cat > "$work/demo-gateway" <<'GW'
#!/bin/sh
trap 'echo "demo gateway: SIGTERM, saying goodbye"; exit 0' TERM
echo "demo gateway: up as pid $$"
while :; do sleep 1; echo "demo gateway: hello"; done
GW
chmod +x "$work/demo-gateway"
# In a container the gateway command is part of the container's environment.
export HERMES_GATEWAY_COMMAND="$work/demo-gateway"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
intent() { grep -o '"desired_state":"[a-z]*"' "$HERMES_HOME/profiles/demo/gateway_state.json"; }

step "hermes and its backend plugins"
"$hermes" version
"$hermes" plugin list

step "no init system here: start a private supervision tree (s6-svscan, owned by you)"
"$hermes" gateway supervise

step "register the demo profile's gateway; hermes waits until it runs"
"$hermes" -p demo gateway register
"$hermes" -p demo gateway start
"$hermes" -p demo gateway status
sleep 1.5
"$hermes" -p demo gateway logs -n 3

step "the operator stops it: recorded as intended"
"$hermes" -p demo gateway stop
echo "recorded: $(intent)"

step "start it again, then the container stops: SIGTERM through the tree, nobody asked"
"$hermes" -p demo gateway start
"$hermes" gateway supervise --stop
echo "recorded: $(intent)   <- a stop from outside: the gateway is still wanted"

step "the container starts again: a new, empty tree, then hermes gateway reconcile"
rm -rf "$HERMES_HOME/run/service"
"$hermes" gateway supervise
"$hermes" gateway reconcile
"$hermes" -p demo gateway start >/dev/null # waits until it is back up
"$hermes" gateway status --all

step "and everything checks out"
"$hermes" doctor || true

echo
echo "demo done: the operator's stop was recorded as such, the container's stop was not, and the"
echo "gateway came back after the restart. Cleaning up $work."

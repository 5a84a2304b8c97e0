#!/usr/bin/env bash
# The README's main command: hermes keeping a gateway alive across a
# container restart, on a private s6 supervision tree (no root, no
# container, no init system needed). Installs Debian's s6 when missing.
#
# make test runs it too, so it checks what it shows: the intent recorded
# after each step, that the gateway came back, what doctor says. A check
# that fails says what it expected and what it saw, and the demo exits 1.
set -eEuo pipefail
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

# The gateway: a stand-in of upstream's real one (hermes-agent's `gateway
# run`), built from this repository. Like the real one it writes its own
# gateway.pid, lock and state, and classifies its own stops by hermes's
# planned-stop marker, so hermes runs it with --protocol hermes.
echo "== building the stand-in of upstream's gateway"
go build -o "$work/" ./internal/upstreamgateway/cmd/hermes-upstream-gateway
gw="$work/hermes-upstream-gateway"
mkdir -p "$HERMES_HOME/profiles/demo"
echo "# the demo profile" > "$HERMES_HOME/profiles/demo/SOUL.md"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
	trap - ERR
	printf '\n\033[1;31mdemo FAILED: %s\033[0m\n' "$*" >&2
	exit 1
}
trap 'fail "$BASH_COMMAND: expected exit status 0, saw $?"' ERR

# field KEY is a string field of the demo profile's gateway_state.json.
field() {
	sed -n "s/.*\"$1\": *\"\([a-z_]*\)\".*/\1/p" "$HERMES_HOME/profiles/demo/gateway_state.json" 2>/dev/null || true
}
intent() { field desired_state; }
# expect_state WANT: the gateway's own gateway_state must be WANT.
expect_state() {
	local seen
	seen="$(field gateway_state)"
	[ "$seen" = "$1" ] || fail "gateway_state: expected \"$1\", saw \"${seen:-none}\""
	echo "the gateway recorded: gateway_state \"$seen\""
}
# expect_verdict WANT: the gateway's last word on why it stopped.
expect_verdict() {
	local seen
	seen="$(grep -o 'stop signal=[A-Za-z]* planned=[a-z]* reason=[a-z-]*' "$HERMES_HOME/logs/gateways/demo/current" | tail -1)"
	[[ $seen == *"$1"* ]] || fail "the gateway's verdict: expected \"$1\", saw \"${seen:-none}\""
	echo "the gateway said: $seen"
}
# expect_intent WANT [NOTE] shows the recorded intent, which must be WANT.
expect_intent() {
	local seen
	seen="$(intent)"
	[ "$seen" = "$1" ] || fail "recorded desired_state: expected \"$1\", saw \"${seen:-none}\""
	echo "recorded: desired_state \"$seen\"${2:+   <- $2}"
}
# expect_exit WANT CMD... runs CMD, whose exit status must be WANT.
expect_exit() {
	local want="$1" code=0
	shift
	"$@" || code=$?
	[ "$code" = "$want" ] || fail "$(basename "$1") ${*:2}: expected exit status $want, saw $code"
}
# poll SECONDS WHAT CMD... runs CMD quietly until it succeeds, for at most
# SECONDS.
poll() {
	local tries=$(($1 * 10)) what="$2"
	shift 2
	until "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "waited $1 s for $what: not seen"
		sleep 0.1
	done
}
# running_logged: the gateway's "running" has reached its log.
running_logged() {
	local out
	out="$("$hermes" -p demo gateway logs -n 5)" && [[ $out == *"upstream gateway: running"* ]]
}

step "hermes and its backend plugins"
"$hermes" gateway version
"$hermes" gateway plugins

step "no init system here: start a private supervision tree (s6-svscan, owned by you)"
"$hermes" gateway supervise

step "register the demo profile's gateway; hermes waits until it runs"
"$hermes" -p demo gateway register --protocol hermes --gateway-command "$gw -p demo gateway run"
"$hermes" -p demo gateway start
expect_exit 0 "$hermes" -p demo gateway status
expect_intent running
poll 10 "the gateway's start in its log" running_logged
"$hermes" -p demo gateway logs -n 5

step "the operator stops it: the gateway itself calls it planned, and it stays down"
"$hermes" -p demo gateway stop
expect_verdict "planned=true reason=marker"
expect_state stopped
expect_intent stopped

step "start it again, then the container stops: SIGTERM through the tree, nobody asked"
"$hermes" -p demo gateway start
"$hermes" gateway supervise --stop
expect_verdict "planned=false reason=none"
expect_state running
expect_intent running "a stop from outside: the gateway is still wanted"

step "the container starts again: a new, empty tree, then hermes gateway reconcile"
rm -rf "$HERMES_HOME/run/service"
"$hermes" gateway supervise
"$hermes" gateway reconcile
poll 15 "the demo gateway to be back up (hermes -p demo gateway status exit 0)" "$hermes" -p demo gateway status
"$hermes" gateway status --all
expect_intent running

step "and everything checks out"
expect_exit 0 "$hermes" gateway doctor

echo
echo "demo done: the operator's stop was recorded as such, the container's stop was not, and the"
echo "gateway came back after the restart. Cleaning up $work."

#!/usr/bin/env bash
# wine-setup.sh PREFIX: a Wine prefix in which the Windows builds of hermes
# (Go 1.22 and later) run against Wine's own Service Control Manager.
#
# Installs from Debian's packages what is missing (wine, wine64, the MinGW
# C compiler), creates the prefix, and puts into its system32 the one
# function Wine 8.0 lacks and every Go program calls at start:
# bcryptprimitives.dll!ProcessPrng (scripts/wine/processprng.c). Running it
# again on a ready prefix only checks. It prints the variables to use:
#
#   export WINEPREFIX=PREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
#
# What Wine 8.0's SCM cannot do (and the tests therefore do not ask of it):
# QueryServiceConfig2 for the failure-action, delayed-start and SID levels
# fails with "invalid level" (SetRecoveryActions itself works), and
# svc.IsWindowsService reports false inside a service, which is why service
# mode is entered by an explicit argument.
set -euo pipefail
prefix=${1:?usage: wine-setup.sh PREFIX}
here=$(cd "$(dirname "$0")" && pwd)
sudo=; [ "$(id -u)" = 0 ] || sudo=sudo

missing=()
command -v wine >/dev/null 2>&1 || missing+=(wine)
command -v wine64 >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64-win32)
if ((${#missing[@]})); then
	echo "wine-setup: installing Debian's ${missing[*]}" >&2
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$prefix"
if [ ! -f "$prefix/system.reg" ]; then
	# wineboot creates the prefix; it reports failures of optional parts
	# (Mono, Gecko: turned off above) that are none of ours, so the prefix
	# is judged by its registry below, not by wineboot's status.
	wineboot --init >/dev/null 2>&1 || true
	wineserver --wait || true
fi
[ -f "$prefix/system.reg" ] || { echo "wine-setup: wineboot made no prefix in $prefix" >&2; exit 1; }

dll=$prefix/drive_c/windows/system32/bcryptprimitives.dll
if ! grep -q ProcessPrng "$dll" 2>/dev/null; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	x86_64-w64-mingw32-gcc -shared -O2 -Wall -o "$work/bcryptprimitives.dll" \
		"$here/wine/processprng.c" "$here/wine/processprng.def" -ladvapi32
	install -m 0644 "$work/bcryptprimitives.dll" "$dll"
fi
echo "wine-setup: prefix ready: WINEPREFIX=$prefix"

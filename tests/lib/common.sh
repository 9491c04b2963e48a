# SPDX-License-Identifier: GPL-2.0-or-later
# common.sh — shared helpers for the shell test suites. Source it.
#
# Every test runs its nftables work inside network namespaces it creates
# itself (unshare -n): nothing here may touch the host's ruleset, routes or
# addresses. Namespaces made with unshare vanish with their last process, so
# a failing test cannot leak one.
#
# Environment (set by meson): FWGUARD (the binary), SRCDIR (the source tree).
set -euo pipefail

: "${FWGUARD:?FWGUARD must point to the fwguard binary}"
: "${SRCDIR:?SRCDIR must point to the source tree}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fwguard-test.XXXXXX")
cleanup_hooks=()
at_exit() { cleanup_hooks+=("$1"); }
_run_cleanup() {
        local rc=$?
        for ((i=${#cleanup_hooks[@]}-1; i>=0; i--)); do eval "${cleanup_hooks[$i]}" || true; done
        rm -rf "$TMP"
        exit $rc
}
trap _run_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# Skip only for a missing precondition that CI is allowed to lack (see
# tests/kernel-features). Under CI=true a skip is a failure unless the
# feature is listed there and its probe says it is absent.
skip() { echo "SKIP: $*"; exit 77; }

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }

# Run a command in a fresh, private network namespace.
in_netns() { unshare --net -- "$@"; }

# Drop the remaining time of timed set elements: it changes between listings.
strip_expires() { sed -E 's/ expires [0-9dhms]+//g'; }

# Compare two files, showing the difference on failure.
same() { diff -u "$1" "$2" >&2 || fail "${3:-$1 and $2 differ}"; }

# A network namespace kept alive by a sleeping process: prints the pid once
# the namespace really is a new one. unshare runs after fork(), so using the
# pid at once could race nsenter into the host's namespace.
netns_holder() {
        local pid host
        unshare --net sleep 600 > /dev/null 2>&1 &
        pid=$!
        host=$(readlink /proc/self/ns/net)
        for _ in $(seq 250); do
                if [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$host" ]; then
                        echo "$pid"
                        return 0
                fi
                sleep 0.02
        done
        kill "$pid"
        return 1
}

# What a command may not change in a namespace: the ruleset without its
# counters (traffic moves those), and the generation id (any commit moves it).
# Run as: ruleset_state [nsenter/ip netns exec prefix...]
ruleset_state() {
        "$@" "$FWGUARD" save "$TMP/.state.fwg" && od -An -tu4 -j20 -N4 "$TMP/.state.fwg" | sed 's/^ */genid /'
        "$@" nft -s list ruleset
}

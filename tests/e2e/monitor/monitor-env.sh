# SPDX-License-Identifier: GPL-2.0-or-later
# monitor-env.sh — shared setup of the guard monitor tests (issue 8): the
# trial tests' real sshd, ssh client and fwguardd in the server namespace
# (trial-env.sh), and oracles for what the monitor does on its own.
#
#   wait_until SECONDS CMD...   poll CMD every 50 ms until it succeeds, or fail
#   guard_handle CHAIN          the handle of the first guard rule of CHAIN
#                               ("inet filter input"), empty if none
#   chain_rest CHAIN            CHAIN's rules with their handles, guards left out
#   log_count REGEX             lines of the daemon's log matching REGEX
#   log_wait SECONDS REGEX N    until more than N lines match, or fail
. "$SRCDIR/tests/e2e/trial/trial-env.sh"

wait_until() {
        local until=$((SECONDS + $1)) what=$2
        shift 2
        while ! "$@" > /dev/null 2>&1; do
                [ $SECONDS -lt $until ] || fail "$what"
                sleep 0.05
        done
}

guard_handle() {
        # shellcheck disable=SC2086
        srv nft -a list chain $1 2> /dev/null | sed -n 's/.*comment "fwguard ssh guard" # handle \([0-9]*\)$/\1/p' | head -1
}

chain_rest() {
        # shellcheck disable=SC2086
        srv nft -a list chain $1 2> /dev/null | grep -v 'comment "fwguard ssh guard"' |
                sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g'
}

log_count() { grep -cE "$1" "$FWGD_LOG" || true; }
log_wait() {
        local until=$((SECONDS + $1))
        while [ "$(log_count "$2")" -le "$3" ]; do
                [ $SECONDS -lt $until ] || fail "the daemon did not log /$2/: $(cat "$FWGD_LOG")"
                sleep 0.05
        done
}

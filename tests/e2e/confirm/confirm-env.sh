# SPDX-License-Identifier: GPL-2.0-or-later
# confirm-env.sh — shared setup of issue 6's tests: trial-env.sh's sshd,
# client and fwguardd, a harmless change to apply, and the confirmation run
# in the places the tests try it.
#
#   CONFIRM            the remote command line: `fwguard confirm` on this
#                      daemon (the ssh session shares our filesystem)
#   change_rules FILE  the change: a table of its own that drops port 8081
#   refused NAME RC OUT PATTERN   the attempt NAME exited RC with output OUT:
#                      it must be exit 3 saying PATTERN, and the trial armed
. "$SRCDIR/tests/e2e/trial/trial-env.sh"

CONFIRM="FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm"

change_rules() {
        cat > "$1" <<'NFT'
table inet fwgconfirm {
        chain input {
                type filter hook input priority 5; policy accept;
                tcp dport 8081 drop
        }
}
NFT
}

refused() {
        local name=$1 rc=$2 out=$3 pattern=$4
        [ "$rc" = 3 ] || fail "$name: exited $rc, want 3 (refused): $(cat "$out")"
        grep -q -- "$pattern" "$out" || fail "$name: the refusal does not say '$pattern': $(cat "$out")"
        still_armed "$name"
        note "$name: refused: $(head -c 300 "$out")"
}

# The attempts' output, with their exit status: `attempt OUT CMD...`.
attempt() {
        local out=$1
        shift
        set +e
        "$@" > "$out" 2>&1
        ATTEMPT_RC=$?
        set -e
}

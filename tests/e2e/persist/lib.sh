# SPDX-License-Identifier: GPL-2.0-or-later
# persist/lib.sh — a reboot without a container: shared by the boot and
# persistence tests (fwguard boot, fwguard persist). Source it.
#
# Builds on durability/lib.sh (the daemon's namespace N, canon, live,
# oracle, outcome, record_get, finish). A reboot, as far as fwguard can
# tell, is three things: fwguardd is gone (SIGKILL: a power loss), the
# pending trial's record names another boot (as durability/recover.sh
# does it), and the kernel has forgotten the ruleset and the links: a fresh
# network namespace. The state directory is what survives.
#
#   reboot LINK...      kill fwguardd, give a pending record another boot
#                       id, and make the fresh namespace RB (lo up, then a
#                       veth pair per LINK, named LINK and LINK-p, in that
#                       order: the indexes differ from N's)
#   R CMD...            run CMD in the fresh namespace
#   fwg_root VERB...    fwguard VERB with this test's state directory and
#                       config (boot, persist)
#   rlive               the fresh namespace's ruleset, canonical
#   roracle OUT LINKS FILE...  as oracle, in a scratch namespace that has
#                       the veth pairs LINKS (a quoted list) first
# runtrial/lib.sh, sourced first, brings durability/lib.sh with it.
[ -n "${NSPID:-}" ] || . "$SRCDIR/tests/e2e/durability/lib.sh"

fwg_root() {
        local verb=$1
        shift
        "$FWGUARD" "$verb" "$@" --state-dir "$FWGD_STATE" --config "$FWGD_CONF"
}

links() {
        local l
        for l in "$@"; do
                ip link add "$l" type veth peer name "$l-p"
                ip link set "$l" up
        done
}

RB=
reboot() {
        daemon_kill
        [ ! -e "$FWGD_STATE/trial/record" ] ||
                python3 "$TOOLS/trialrecord.py" "$FWGD_STATE/trial/record" set boot_id \
                        "$(python3 -c 'import uuid; print(uuid.uuid4())')"
        [ -z "$RB" ] || kill "$RB"
        RB=$(netns_holder) || fail "cannot make a network namespace"
        at_exit "kill $RB 2>/dev/null"
        R ip link set lo up
        R bash -c "$(declare -f links); links $*"
}
R() { nsenter -t "$RB" -n -- "$@"; }
rlive() { R nft list ruleset | canon; }

roracle() {
        local out=$1 l=$2
        shift 2
        unshare --net -- bash -c "$(declare -f links); links $l"'
                for f; do nft -f "$f" || exit 1; done; nft list ruleset' sh "$@" | canon > "$out"
        [ -s "$out" ] || fail "oracle $out: nft refused its input"
}

# The ids of the persisted entries, in order, one line.
entries() {
        fwg_root persist status --json | python3 -c '
import json, sys
print(" ".join(str(e["id"]) for e in json.load(sys.stdin)["entries"]))'
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# iface.sh — a confirmed apply of a snapshot whose rules hold interface
# indexes (iif/oif compared, in an anonymous set, named iface_index sets (one
# no rule uses) and a concatenation; `fwd to` an interface and to a map's, in a netdev chain)
# survives a reboot that created the links in
# another order: the indexes are re-resolved by the names they had at the
# commit. An index that names no interface at the confirmation is reported
# then; after a reboot without an interface the snapshot names, that entry
# is not loaded, and `persist load` says why.
. "$SRCDIR/tests/e2e/persist/lib.sh"

# nft lists set elements in the order of their keys, here indexes, which
# the reboot changes: compare them as sets.
sorted_sets() {
        python3 -c '
import re, sys
print(re.sub(r"\{ ([^{}]*) \}", lambda m: "{ " + ", ".join(sorted(m.group(1).split(", "))) + " }", sys.stdin.read()), end="")'
}

daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
N bash -c "$(declare -f links); links lnkA lnkB lnkC"
cat > "$TMP/ift.nft" <<'NFT'
table ip ift {
        set ifs {
                type iface_index
                elements = { "lnkB" }
        }
        set unused {
                type iface_index
                elements = { "lnkA" }
        }
        chain input {
                type filter hook input priority filter; policy accept;
                iif "lnkA" tcp dport 80 accept
                oif != "lnkB" counter
                iif { "lnkA", "lnkB" } tcp dport 81 accept
                iif @ifs tcp dport 82 accept
                iif "lnkC" tcp dport 83 drop
                iif . ip saddr { "lnkA" . 198.51.100.7 } tcp dport 84 accept
                iif "lnkA" ip saddr 198.51.100.5 tcp dport 85 accept
        }
}
table netdev ifd {
        chain ingress {
                type filter hook ingress device "lnkA" priority filter; policy accept;
                ip daddr 198.51.100.9 fwd to "lnkB"
                ip daddr 198.51.100.10 fwd to ip saddr map { 198.51.100.11 : "lnkA" }
        }
}
NFT
N nft -f "$TMP/ift.nft"
N "$FWGUARD" save "$TMP/snap.fwg"
N nft delete table ip ift
N nft delete table netdev ifd
C=$(N ip -o link show lnkC | cut -d: -f1)
N ip link del lnkC

fwg apply --timeout 30 "$TMP/snap.fwg" > "$TMP/apply.out" 2>&1 || { cat "$TMP/apply.out"; fail "apply failed"; }
N nft list ruleset | canon | sorted_sets > "$TMP/confirmed"
fwg confirm > "$TMP/confirm.out" 2>&1 || { cat "$TMP/confirm.out"; fail "confirm failed"; }
cat "$TMP/confirm.out"
grep -q "warning: ip ift, chain input: interface index $C names no interface now" "$TMP/confirm.out" ||
        fail "the confirmation does not report index $C (lnkC, deleted) as not re-resolvable"
[ "$(grep -c "warning:" "$TMP/confirm.out")" = 1 ] || fail "the confirmation reports more than index $C"

# Another order, and a link first: every index differs from N's.
reboot lnkX lnkB lnkA
for l in lnkA lnkB; do
        [ "$(N ip -o link show $l | cut -d: -f1)" != "$(R ip -o link show $l | cut -d: -f1)" ] ||
                fail "$l has the same index after the reboot: the test proves nothing"
done
[ "$C" -gt "$(R ip -o link | tail -1 | cut -d: -f1)" ] || fail "index $C names an interface after the reboot"
R "$FWGUARD" boot --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > /dev/null || fail "fwguard boot failed"
R "$FWGUARD" persist load --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > "$TMP/load.out" 2>&1 ||
        { cat "$TMP/load.out"; fail "persist load failed"; }
cat "$TMP/load.out"
# nft lists an index by the name it has here: the same names as at the
# confirmation, and the unresolved index as the number it was.
rlive | sorted_sets > "$TMP/rlive"
same "$TMP/confirmed" "$TMP/rlive" "after the reboot, the interfaces are not those of the confirmed tables"

# A reboot where lnkB is missing: that entry is left out, and said so.
reboot lnkA
rc=0
R "$FWGUARD" persist load --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > "$TMP/load.out" 2>&1 || rc=$?
cat "$TMP/load.out"
[ "$rc" = 1 ] || fail "persist load exited $rc with an interface missing, not 1"
grep -q "interface lnkB (index .* when it was committed) does not exist now" "$TMP/load.out" ||
        fail "persist load does not name the missing interface"
[ -z "$(R nft list ruleset)" ] || fail "a table that names a missing interface was loaded"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# restore.sh — the exactness and atomicity promises of `fwguard restore`.
. "$SRCDIR/tests/lib/common.sh"
need_root

cat > "$TMP/snap.nft" <<'NFT'
table inet filter {
        set blocked {
                type ipv4_addr; flags timeout; timeout 1h; counter;
                elements = { 192.0.2.7 counter packets 4 bytes 240 }
        }
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport 22 counter packets 10 bytes 600 accept
                ip saddr @blocked drop
        }
}
table ip nat {
        chain pre {
                type nat hook prerouting priority dstnat;
                tcp dport 2222 redirect to :22
        }
        chain post {
                type nat hook postrouting priority srcnat; policy accept;
        }
}
NFT
cat > "$TMP/other.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                udp dport 53 accept
        }
        chain extra {
                counter
        }
}
table ip6 leftover {
        chain c {
                type filter hook output priority 0;
        }
}
table bridge keepme {
        set seen {
                type ether_addr; size 64; flags dynamic;
                elements = { 02:00:00:00:00:01 }
        }
        chain forward_c {
                type filter hook forward priority 0;
                counter packets 77 bytes 7700
        }
}
NFT

# The snapshot and its listing.
in_netns sh -c "nft -f '$TMP/snap.nft' && nft list ruleset > '$TMP/want.txt' && '$FWGUARD' save '$TMP/snap.fwg'" \
        || fail "cannot build the snapshot"

note "restore over a different, non-empty ruleset gives exactly the snapshot"
in_netns sh -c "nft -f '$TMP/other.nft' && '$FWGUARD' restore '$TMP/snap.fwg' && nft list ruleset" > "$TMP/got.txt" \
        || fail "restore over a non-empty ruleset failed"
same <(strip_expires < "$TMP/want.txt") <(strip_expires < "$TMP/got.txt") "restore over a different ruleset is not exact"

note "timed set elements come back with their remaining time, never more"
in_netns sh -c "nft -f '$TMP/snap.nft' && nft add element inet filter blocked '{ 192.0.2.8 timeout 10m, 192.0.2.9 timeout 2h }' &&
                nft list ruleset > '$TMP/timed-saved.txt' && '$FWGUARD' save '$TMP/timed.fwg'" || fail "timed save"
sleep 1.1
in_netns sh -c "'$FWGUARD' restore '$TMP/timed.fwg' && nft list ruleset" > "$TMP/timed-restored.txt" || fail "timed restore"
python3 "$SRCDIR/tests/tools/expires.py" "$TMP/timed-saved.txt" "$TMP/timed-restored.txt" || fail "expirations not restored"
grep -Eq "192.0.2.9 .*timeout 2h expires 1h59m" "$TMP/timed-restored.txt" || fail "192.0.2.9 lost its own timeout: $(grep 192.0.2.9 "$TMP/timed-restored.txt")"

note "restore from stdin"
in_netns sh -c "'$FWGUARD' restore - < '$TMP/snap.fwg' && nft list ruleset" > "$TMP/got.txt" || fail "restore - failed"
same <(strip_expires < "$TMP/want.txt") <(strip_expires < "$TMP/got.txt") "restore from stdin is not exact"

note "--tables replaces only the named table; the others keep counters and elements"
in_netns sh -c "nft -f '$TMP/other.nft' && nft list table bridge keepme > '$TMP/keep-before.txt' &&
                nft list table ip6 leftover > '$TMP/left-before.txt' &&
                '$FWGUARD' restore --tables inet:filter '$TMP/snap.fwg' &&
                nft list table bridge keepme > '$TMP/keep-after.txt' &&
                nft list table ip6 leftover > '$TMP/left-after.txt' &&
                nft list table inet filter > '$TMP/filter-after.txt' &&
                ! nft list table ip nat >/dev/null 2>&1" || fail "--tables restore failed or created ip nat"
same "$TMP/keep-before.txt" "$TMP/keep-after.txt" "--tables touched bridge keepme"
same "$TMP/left-before.txt" "$TMP/left-after.txt" "--tables touched ip6 leftover"
in_netns sh -c "nft -f '$TMP/snap.nft' && nft list table inet filter" > "$TMP/filter-want.txt"
same <(strip_expires < "$TMP/filter-want.txt") <(strip_expires < "$TMP/filter-after.txt") "--tables did not restore inet filter exactly"

note "--tables naming a table that exists nowhere is an error that changes nothing"
in_netns sh -c "nft -f '$TMP/other.nft' && nft list ruleset > '$TMP/b.txt';
                '$FWGUARD' restore --tables ip:nosuch '$TMP/snap.fwg'; echo \$? > '$TMP/rc';
                nft list ruleset > '$TMP/a.txt'"
[ "$(cat "$TMP/rc")" = 1 ] || fail "--tables ip:nosuch: exit $(cat "$TMP/rc"), want 1"
same "$TMP/b.txt" "$TMP/a.txt" "--tables ip:nosuch changed the ruleset"

note "a restore that the kernel rejects halfway leaves the ruleset byte-for-byte as before"
# ip nat's postrouting chain gets an impossible policy: the kernel accepts the
# whole inet filter table first, then refuses that chain.
python3 "$SRCDIR/tests/tools/snapmangle.py" "$TMP/snap.fwg" "$TMP/bad.fwg" chain-policy nat post 7 \
        || fail "cannot mangle the snapshot"
in_netns sh -c "nft -f '$TMP/other.nft' && nft list ruleset > '$TMP/b.txt';
                '$FWGUARD' restore '$TMP/bad.fwg' 2> '$TMP/err'; echo \$? > '$TMP/rc';
                nft list ruleset > '$TMP/a.txt'"
[ "$(cat "$TMP/rc")" = 1 ] || fail "rejected restore: exit $(cat "$TMP/rc"), want 1"
same "$TMP/b.txt" "$TMP/a.txt" "a rejected restore changed the ruleset"
grep -q "chain post in table ip nat" "$TMP/err" || fail "the error does not name the rejected chain: $(cat "$TMP/err")"
grep -q "nothing was changed" "$TMP/err" || fail "the error does not say that nothing changed"

note "restore of an empty snapshot empties the ruleset (but for owned tables)"
in_netns sh -c "'$FWGUARD' save '$TMP/empty.fwg'"
in_netns sh -c "nft -f '$TMP/other.nft' && '$FWGUARD' restore '$TMP/empty.fwg' && nft list ruleset" > "$TMP/got.txt"
[ ! -s "$TMP/got.txt" ] || fail "restoring an empty snapshot left: $(cat "$TMP/got.txt")"

note "usage errors exit 2"
set +e
"$FWGUARD" restore > /dev/null 2>&1; [ $? = 2 ] || fail "restore without FILE must exit 2"
"$FWGUARD" restore --tables nope "$TMP/snap.fwg" > /dev/null 2>&1; [ $? = 2 ] || fail "bad --tables must exit 2"
"$FWGUARD" restore --bogus x > /dev/null 2>&1; [ $? = 2 ] || fail "unknown option must exit 2"
"$FWGUARD" frobnicate > /dev/null 2>&1; [ $? = 2 ] || fail "unknown command must exit 2"
set -e
echo "ok"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# owner.sh — tables owned by another process are saved, marked, and never
# written: not restored, not deleted, never named in a batch.
. "$SRCDIR/tests/lib/common.sh"
need_root
HOLDER="$BUILDDIR/tests/integration/owner-holder"

# One namespace, kept by a sleeping process; the holder owns "inet owned".
NSPID=$(netns_holder) || fail "no namespace"
at_exit "kill $NSPID"
ns() { nsenter -t "$NSPID" -n -- "$@"; }
mkfifo "$TMP/hold"
ns "$HOLDER" inet owned < "$TMP/hold" > "$TMP/holder.out" &
HPID=$!
exec 9> "$TMP/hold"
at_exit "exec 9>&-; wait $HPID"
for _ in $(seq 50); do grep -q ready "$TMP/holder.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/holder.out" || fail "the holder did not create its table"
ns nft add table ip mine
ns nft add chain ip mine c
ns nft list table inet owned > /dev/null || fail "no owned table"

note "save marks the owned table; show names it as owned"
ns "$FWGUARD" save "$TMP/s.fwg" || fail "save"
"$FWGUARD" show "$TMP/s.fwg" > "$TMP/show.txt" || fail "show"
grep -q "table inet owned is owned by another process" "$TMP/show.txt" || fail "show does not mark the owned table"

note "restore into a fresh namespace skips the owned table and says so"
in_netns sh -c "'$FWGUARD' restore '$TMP/s.fwg' 2> '$TMP/err' && nft list ruleset" > "$TMP/fresh.txt" || fail "restore"
grep -q "table ip mine" "$TMP/fresh.txt" || fail "ip mine not restored"
! grep -q "table inet owned" "$TMP/fresh.txt" || fail "the owned table was restored"
grep -q "inet owned was owned by another process; not restored" "$TMP/err" || fail "no note about the owned table"

note "a whole restore leaves the live owned table alone"
ns nft add table ip extra
ns "$FWGUARD" restore "$TMP/s.fwg" || fail "restore over the live namespace"
ns nft list table inet owned > /dev/null || fail "the owned table is gone"
! ns nft list table ip extra > /dev/null 2>&1 || fail "ip extra should have been removed"

note "--tables naming the owned table is refused"
set +e
ns "$FWGUARD" restore --tables inet:owned "$TMP/s.fwg" 2> "$TMP/err2"; rc=$?
set -e
[ $rc = 1 ] || fail "--tables inet:owned: exit $rc, want 1"
grep -q "owned by another process" "$TMP/err2" || fail "no reason given: $(cat "$TMP/err2")"

note "an empty snapshot does not delete the owned table"
in_netns "$FWGUARD" save "$TMP/empty.fwg"
ns "$FWGUARD" restore "$TMP/empty.fwg" || fail "restore empty"
ns nft list table inet owned > /dev/null || fail "the owned table was deleted"
echo ok

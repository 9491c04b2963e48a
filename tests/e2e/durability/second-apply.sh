#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# second-apply.sh — one trial at a time: an apply while a trial is pending
# is refused with exit 3, says how to confirm or roll back the pending one,
# and changes nothing: the live ruleset and its generation, the pending
# trial (id, deadline) and the history stay as they were.
. "$SRCDIR/tests/e2e/durability/lib.sh"
ruleset_setup two
cat > "$TMP/second.nft" <<'NFT'
add rule ip keep input tcp dport 7070 drop
NFT

daemon_start_ns
fwg apply --timeout 30 "$TMP/change.nft" > /dev/null || fail "the first apply failed"
fwg status --json > "$TMP/status0"
fwg history --json > "$TMP/history0"

refused_apply 3 30 "$TMP/second.nft"
grep -q "trial 1 is pending" "$TMP/apply.out" || fail "the refusal does not name the pending trial"
grep -q "fwguard confirm" "$TMP/apply.out" || fail "the refusal does not say how to confirm"
grep -q "fwguard rollback" "$TMP/apply.out" || fail "the refusal does not say how to roll back"
fwg status --json > "$TMP/status1"
same "$TMP/status0" "$TMP/status1" "the refused apply changed the pending trial"
fwg history --json > "$TMP/history1"
same "$TMP/history0" "$TMP/history1" "the refused apply changed the history"
keep_intact

# The pending trial is still the one that rolls back.
fwg rollback > /dev/null || fail "rolling back the first trial failed"
live > "$TMP/live"
same "$TMP/S0" "$TMP/live" "the rollback did not restore S0"
keep_intact
[ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back"
[ "$(outcome 2)" = none ] || fail "the refused apply is in the history"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# race.sh — another writer changes a table that the trial touches between
# fwguardd's snapshot and its commit (held there by the pause point
# apply-before-commit). The genid-conditioned batch must fail and the apply
# must either be prepared again from a new snapshot (then the trial holds
# both changes, and the rollback brings back S0 plus the other change), or
# be refused with exit 3 (then live is S0 plus the other change). The other
# change is never lost.
. "$SRCDIR/tests/e2e/durability/lib.sh"
ruleset_setup one
# Incremental, so that a redo can keep both changes.
echo 'add rule inet filter input tcp dport 8080 drop' > "$TMP/change.nft"
echo 'add rule inet filter input tcp dport 9090 drop' > "$TMP/other.nft"
oracle "$TMP/S0o" "$TMP/s0.nft" "$TMP/other.nft"
oracle "$TMP/S1o" "$TMP/s0.nft" "$TMP/other.nft" "$TMP/change.nft" "$TMP/guard.nft"

daemon_start_ns FWGUARDD_TEST_PAUSE=apply-before-commit
fwg apply --timeout 4 "$TMP/change.nft" > "$TMP/apply.out" 2>&1 &
APPLY=$!
for _ in $(seq 300); do
        [ "$(awk '{ print $3 }' "/proc/$FWGD_PID/stat")" = T ] && break
        sleep 0.05
done
[ "$(awk '{ print $3 }' "/proc/$FWGD_PID/stat")" = T ] || fail "fwguardd did not stop at apply-before-commit"
grep -q "test point apply-before-commit: pausing" "$FWGD_LOG" || fail "stopped, but not at the pause point"
live > "$TMP/live"
same "$TMP/S0" "$TMP/live" "something was committed before the pause point"
N nft -f "$TMP/other.nft"
kill -CONT "$FWGD_PID"
rc=0
wait "$APPLY" || rc=$?
cat "$TMP/apply.out"
live > "$TMP/live"
case $rc in
0)
        same "$TMP/S1o" "$TMP/live" "during the trial, live is not S0 + the other change + the change + the guard"
        grep -q "preparing it again" "$FWGD_LOG" || fail "armed without preparing the change again"
        # The attempt that lost the race may have left a trial that never
        # committed; the armed one is the redo.
        ID=$(status_field id)
        for ((i = 1; i < ID; i++)); do
                [ "$(outcome $i)" = not-committed ] || fail "trial $i is $(outcome $i), not not-committed"
        done
        wait_live "$TMP/S0o" "$TMP/S1o" 10 > /dev/null
        wait_idle 5
        [ "$(outcome "$ID")" = rolled-back ] || fail "trial $ID is $(outcome "$ID"), not rolled-back"
        [ -z "$(report "$ID")" ] || fail "the rollback reports: $(report "$ID")"
        note "redone from a new snapshot; rolled back with the other change kept" ;;
3)
        grep -q "changing" "$TMP/apply.out" || fail "the refusal does not say why"
        [ "$(fwg status)" = idle ] || fail "refused, but a trial is pending"
        note "refused" ;;
*) fail "apply exited $rc" ;;
esac
live > "$TMP/live"
same "$TMP/S0o" "$TMP/live" "the end state is not S0 + the other change"
finish

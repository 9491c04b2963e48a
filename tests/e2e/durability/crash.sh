#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# crash.sh POINT one|two — SIGKILL fwguardd at one named step of apply,
# rollback or confirm (FWGUARDD_TEST_CRASH), restart it, and check that the
# trial converges: exactly S0 (idle; never committed, or rolled back) or
# exactly S1' with the guard (armed again, and rolled back at its ORIGINAL
# deadline; or confirmed and kept). Never a mix, at the crash or after.
# Ruleset "two" touches two tables and leaves a third alone, byte for byte.
. "$SRCDIR/tests/e2e/durability/lib.sh"
POINT=$1
ruleset_setup "$2"

# No sshd here: this test build lets the test's own shell confirm (issue 6's proof is tested in e2e/confirm).
daemon_start_ns FWGUARDD_TEST_CRASH="$POINT" FWGUARDD_TEST_CONFIRM_ANYONE=1

# What the live ruleset must be when the daemon dies, and what the restarted
# daemon makes of it. The record is durable before the kernel sees each
# change, so these are exact, not "one of".
case $POINT in
apply-before-commit) AT_CRASH=S0 THEN=none ;;           # no record yet
apply-durable) AT_CRASH=S0 THEN=not-committed ;;         # record, no batch
apply-committed | apply-committed-record) AT_CRASH=S1 THEN=armed ;;
rollback-target | rollback-durable) AT_CRASH=S1 THEN=rolled-back ;;
rollback-committed | rollback-reported) AT_CRASH=S0 THEN=rolled-back ;;
confirm-durable) AT_CRASH=S1 THEN=confirmed ;;
*) fail "unknown point $POINT" ;;
esac
# Long enough to see the trial armed again after a restart that comes late.
TIMEOUT=3
[ "$THEN" = armed ] && TIMEOUT=5

T_APPLY=$(now)
rc=0
fwg apply --timeout "$TIMEOUT" "$TMP/change.nft" > "$TMP/apply.out" 2>&1 || rc=$?
T_APPLIED=$(now)
case $POINT in
apply-*)
        [ "$rc" != 0 ] || { cat "$TMP/apply.out"; fail "apply succeeded although fwguardd crashed"; } ;;
*)
        [ "$rc" = 0 ] || { cat "$TMP/apply.out" "$FWGD_LOG"; fail "apply exited $rc"; }
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "during the trial, live is not S1' with the guard"
        DEADLINE_US=$(record_get deadline_realtime_usec) ;;
esac
if [ "$POINT" = confirm-durable ]; then
        rc=0
        fwg confirm > "$TMP/confirm.out" 2>&1 || rc=$?
        [ "$rc" != 0 ] || fail "confirm succeeded although fwguardd crashed"
fi
# A rollback point is reached at the deadline.
wait_crash "$POINT"
T_CRASH=$(now)
live > "$TMP/live"
same "$TMP/$AT_CRASH" "$TMP/live" "when fwguardd died at $POINT, live is not $AT_CRASH"
keep_intact
if [ "$THEN" = armed ]; then
        # The record that the restarted daemon must honour, read before it
        # runs: the deadline was set at the commit, between our two clocks.
        DEADLINE_US=$(record_get deadline_realtime_usec)
        DEADLINE=$(usec_sec "$DEADLINE_US")
        fle "$(fsub "$T_APPLY" -$TIMEOUT)" "$(fsub "$DEADLINE" -0.01)" &&
                fle "$DEADLINE" "$(fsub "$T_CRASH" -$TIMEOUT)" ||
                fail "the recorded deadline $DEADLINE is not $TIMEOUT s after the commit ($T_APPLY..$T_CRASH)"
        # Down for a while: a restart that counted the timeout again, or
        # from the restart, would roll back that much later.
        sleep 1.5
fi
T_START=$(now)
daemon_start_ns
case $THEN in
none | not-committed)
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after the restart, live is not S0"
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)"
        [ "$(outcome 1)" = "$THEN" ] || fail "trial 1 is $(outcome 1) in the history, not $THEN" ;;
armed)
        armed_again "$DEADLINE_US"
        rolled_back_at_deadline "$DEADLINE" "$TIMEOUT" ;;
rolled-back)
        # The deadline is long past: the rollback is finished at once.
        rolled_back_at_once "$T_START"
        [ -z "$(report 1)" ] || fail "the rollback reports: $(report 1)" ;;
confirmed)
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)"
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1) in the history, not confirmed"
        # The change stays past its deadline.
        wait_past "$(fsub "$(usec_sec "$DEADLINE_US")" -0.5)" ;;
esac
[ ! -e "$FWGD_STATE/trial/record" ] || fail "a trial record is left in the state directory"
live > "$TMP/live"
case $THEN in
confirmed) same "$TMP/S1" "$TMP/live" "the confirmed change did not stay" ;;
*) same "$TMP/S0" "$TMP/live" "the end state is not S0" ;;
esac
keep_intact
finish
note "$POINT: crash at $(fsub "$T_CRASH" "$T_APPLIED") s after apply returned, end state as expected"

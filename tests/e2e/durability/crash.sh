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

start_daemon FWGUARDD_TEST_CRASH="$POINT"

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
        DEADLINE=$(awk -v u="$DEADLINE_US" 'BEGIN { printf "%.3f", u / 1e6 }')
        fle "$(fsub "$T_APPLY" -$TIMEOUT)" "$(fsub "$DEADLINE" -0.01)" &&
                fle "$DEADLINE" "$(fsub "$T_CRASH" -$TIMEOUT)" ||
                fail "the recorded deadline $DEADLINE is not $TIMEOUT s after the commit ($T_APPLY..$T_CRASH)"
        # Down for a while: a restart that counted the timeout again, or
        # from the restart, would roll back that much later.
        sleep 1.5
fi
T_START=$(now)
start_daemon
T_UP=$(now)
case $THEN in
none | not-committed)
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after the restart, live is not S0"
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)"
        [ "$(outcome 1)" = "$THEN" ] || fail "trial 1 is $(outcome 1) in the history, not $THEN" ;;
armed)
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "after the restart, live is not S1' with the guard"
        [ "$(status_field state)" = armed ] || fail "not armed after the restart: $(fwg status)"
        [ "$(status_field id)" = 1 ] || fail "the armed trial is not trial 1"
        [ "$(status_field deadline_realtime_usec)" = "$DEADLINE_US" ] ||
                fail "the deadline moved: $(status_field deadline_realtime_usec), recorded $DEADLINE_US"
        fle "$T_UP" "$(fsub "$DEADLINE" 0.5)" || fail "the restart took too long to test the deadline"
        T_RB=$(wait_live "$TMP/S0" "$TMP/S1" $((TIMEOUT + 5)))
        note "rolled back $(fsub "$T_RB" "$DEADLINE") s after the original deadline"
        fle "$(fsub "$DEADLINE" 0.2)" "$T_RB" || fail "rolled back at $T_RB, before the deadline $DEADLINE"
        fle "$T_RB" "$(fsub "$DEADLINE" -1)" || fail "rolled back at $T_RB, long after the deadline $DEADLINE"
        wait_idle 5
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1) in the history, not rolled-back"
        announced 1 ;;
rolled-back)
        # The deadline is long past: the rollback is finished at once.
        T_RB=$(wait_live "$TMP/S0" "$TMP/S1" 5)
        note "rolled back $(fsub "$T_RB" "$T_START") s after the restart"
        fle "$T_RB" "$(fsub "$T_START" -1)" || fail "the rollback took more than 1 s after the restart"
        wait_idle 5
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1) in the history, not rolled-back"
        [ -z "$(report 1)" ] || fail "the rollback reports: $(report 1)"
        announced 1 ;;
confirmed)
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)"
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1) in the history, not confirmed"
        # The change stays past its deadline.
        DEADLINE=$(awk -v u="$DEADLINE_US" 'BEGIN { printf "%.3f", u / 1e6 + 0.5 }')
        while ! fle "$DEADLINE" "$(now)"; do sleep 0.1; done ;;
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

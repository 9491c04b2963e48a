#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rollback.sh RUN-CALL CASE — `fwguard deadman ID`, run as the second
# dead-man's timer would run it, on the state directory of a fwguardd in a
# test network namespace:
#   stopped   fwguardd is SIGSTOPped before its deadline: the dead-man waits
#             for the deadline and the grace (not less), then the ruleset is
#             exactly S0 again and the history says rolled back, by the
#             dead-man; after SIGCONT fwguardd notices, says so, is idle,
#             and rolls nothing back a second time
#   run       the same for a Run trial: its files and network sysctls are
#             put back too
#   confirmed the trial was confirmed: the dead-man does nothing
#   other-id  trial 1 is pending, the dead-man of trial 2 runs: it does
#             nothing, and trial 1 goes on
#   race-daemon-first  fwguardd's own rollback at the deadline holds the lock
#             (paused at rollback-durable) when the dead-man comes: the
#             dead-man waits for the lock, then finds the trial ended
#   race-deadman-first the dead-man holds the lock (paused at
#             rollback-durable) when fwguardd's overdue deadline fires:
#             fwguardd waits, then finds the trial ended by the dead-man
#   race-free both at once, unsynchronised: exactly one rolls back
#   deadman-crash  the dead-man dies (SIGKILL) halfway through its rollback:
#             fwguardd finishes it from the record, once
# Each case ends with the ruleset exactly S0 (or S1' where it stays), one
# history entry, and no sanitizer report.
RUNCALL=$1
CASE=$2
. "$SRCDIR/tests/e2e/deadman/lib.sh"
ruleset_setup one

no_change_by_deadman() {
        local rc=0
        ruleset_state N > "$TMP/state0"
        deadman "$@" || rc=$?
        [ "$rc" = 0 ] || { cat "$DM_LOG"; fail "fwguard deadman $1 exited $rc"; }
        grep -q "nothing to do" "$DM_LOG" || { cat "$DM_LOG"; fail "fwguard deadman $1 did not say why it did nothing"; }
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "fwguard deadman $1 changed the ruleset (or its generation)"
}

# Apply the change as trial 1, with a deadline @1 s away.
apply_trial() {
        fwg apply --timeout "$1" "$TMP/change.nft" > "$TMP/apply.out" 2>&1 || { cat "$TMP/apply.out"; fail "apply failed"; }
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "during the trial, live is not S1'"
        DEADLINE=$(deadline_sec)
}

rolled_back_by_deadman() {
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after the dead-man, live is not S0"
        [ ! -e "$FWGD_STATE/trial/record" ] || fail "a trial is still pending on disk"
        [ "$(ended_record 1)" = rolling-back ] || fail "trial 1 ended $(ended_record 1), not rolled back"
        ended_report 1 | grep "rolled back by the second dead-man" > /dev/null || fail "the history does not say who rolled trial 1 back"
        grep -q "trial 1 rolled back by the second dead-man" "$DM_LOG" || { cat "$DM_LOG"; fail "the dead-man did not log its rollback"; }
}

fwguardd_noticed() {
        dead_man_noticed 1
        wait_idle 5
        [ "$(rollbacks_by_daemon 1)" = 0 ] || fail "fwguardd rolled trial 1 back a second time"
        ! grep -E "ROLLBACK FAILED|cannot" "$FWGD_LOG" >&2 || fail "fwguardd reported an error"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back"
        report 1 | grep "second dead-man" > /dev/null || fail "fwguard history does not say the dead-man rolled trial 1 back"
        announced 1
        # The guard monitor did not take the dead-man's rollback for another
        # writer removing guards.
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after fwguardd noticed, live is not S0"
}

case $CASE in
stopped)
        daemon_start_ns
        apply_trial 3
        kill -STOP "$FWGD_PID"
        wait_stopped "$FWGD_PID" fwguardd
        wait_past "$DEADLINE"
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "something rolled back while fwguardd was stopped"
        deadman 1 || { cat "$DM_LOG"; fail "fwguard deadman failed"; }
        t=$(now)
        fle "$(fsub "$DEADLINE" -$GRACE)" "$(fsub "$t" -0.1)" || fail "the dead-man rolled back at $t, before the deadline $DEADLINE and the grace"
        note "the dead-man returned $(fsub "$t" "$DEADLINE") s after the deadline"
        rolled_back_by_deadman
        kill -CONT "$FWGD_PID"
        fwguardd_noticed ;;
run)
        files_setup
        daemon_start_ns
        run_trial 3 || { cat "$TMP/run.out" "$FWGD_LOG"; fail "Run failed"; }
        files_are NEW "during the trial"
        DEADLINE=$(deadline_sec)
        kill -STOP "$FWGD_PID"
        wait_stopped "$FWGD_PID" fwguardd
        wait_past "$(fsub "$DEADLINE" -$GRACE)"
        files_are NEW "while fwguardd is stopped"
        deadman 1 || { cat "$DM_LOG"; fail "fwguard deadman failed"; }
        rolled_back_by_deadman
        files_are OLD "after the dead-man"
        kill -CONT "$FWGD_PID"
        fwguardd_noticed
        files_are OLD "after fwguardd noticed" ;;
confirmed)
        daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
        apply_trial 3
        fwg confirm > /dev/null || fail "confirm failed"
        wait_past "$(fsub "$DEADLINE" -$GRACE)"
        no_change_by_deadman 1
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "the confirmed change is gone"
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1), not confirmed" ;;
other-id)
        daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
        apply_trial 30
        no_change_by_deadman 2
        no_change_by_deadman 7
        [ "$(status_field state)" = armed ] && [ "$(status_field id)" = 1 ] || fail "trial 1 is no longer armed: $(fwg status)"
        fwg confirm > /dev/null || fail "confirm failed"
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1), not confirmed" ;;
race-daemon-first)
        daemon_start_ns FWGUARDD_TEST_PAUSE=rollback-durable
        apply_trial 3
        wait_stopped "$FWGD_PID" "fwguardd (at rollback-durable)"
        grep -q "test point rollback-durable: pausing" "$FWGD_LOG" || fail "stopped, but not at the pause point"
        deadman_bg 1
        # Past the grace, the dead-man waits for the lock that fwguardd holds.
        wait_past "$(fsub "$DEADLINE" -$((GRACE + 1)))"
        kill -0 "$DM_BG" 2>/dev/null || { cat "$DM_LOG"; fail "the dead-man did not wait for fwguardd's lock"; }
        kill -CONT "$FWGD_PID"
        wait "$DM_BG" || { cat "$DM_LOG"; fail "fwguard deadman failed"; }
        grep -q "trial 1 has ended" "$DM_LOG" || { cat "$DM_LOG"; fail "the dead-man did not find the trial ended"; }
        ! grep -q "rolled back by" "$DM_LOG" || fail "the dead-man rolled back too"
        wait_idle 5
        [ "$(rollbacks_by_daemon 1)" = 1 ] || fail "fwguardd rolled trial 1 back $(rollbacks_by_daemon 1) times"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back"
        ! report 1 | grep "dead-man" > /dev/null || fail "the history says the dead-man rolled trial 1 back" ;;
race-deadman-first)
        daemon_start_ns
        apply_trial 3
        kill -STOP "$FWGD_PID"
        wait_stopped "$FWGD_PID" fwguardd
        deadman_bg 1 FWGUARDD_TEST_PAUSE=rollback-durable
        wait_past "$(fsub "$DEADLINE" -$GRACE)"
        wait_stopped "$(pgrep -f "fwguard deadman 1 --state-dir $FWGD_STATE" | head -1)" "the dead-man (at rollback-durable)"
        # fwguardd's deadline is overdue: it fires at once, and waits for the lock.
        kill -CONT "$FWGD_PID"
        sleep 1
        pkill -CONT -f "fwguard deadman 1 --state-dir $FWGD_STATE"
        wait "$DM_BG" || { cat "$DM_LOG"; fail "fwguard deadman failed"; }
        rolled_back_by_deadman
        fwguardd_noticed ;;
race-free)
        daemon_start_ns
        apply_trial 3
        kill -STOP "$FWGD_PID"
        wait_stopped "$FWGD_PID" fwguardd
        wait_past "$(fsub "$DEADLINE" -$GRACE)"
        deadman_bg 1
        kill -CONT "$FWGD_PID"
        wait "$DM_BG" || { cat "$DM_LOG"; fail "fwguard deadman failed"; }
        wait_idle 5
        by_daemon=$(rollbacks_by_daemon 1)
        by_deadman=$(grep -c "trial 1 rolled back by the second dead-man" "$DM_LOG" || true)
        note "rolled back by fwguardd: $by_daemon, by the dead-man: $by_deadman"
        [ "$((by_daemon + by_deadman))" = 1 ] || { cat "$DM_LOG" "$FWGD_LOG"; fail "not exactly one rollback"; }
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back"
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after the race, live is not S0" ;;
deadman-crash)
        daemon_start_ns
        apply_trial 3
        kill -STOP "$FWGD_PID"
        wait_stopped "$FWGD_PID" fwguardd
        wait_past "$DEADLINE"
        rc=0
        deadman 1 FWGUARDD_TEST_CRASH=rollback-durable || rc=$?
        [ "$rc" = 137 ] || { cat "$DM_LOG"; fail "the dead-man exited $rc, not killed at rollback-durable"; }
        [ "$(python3 "$TOOLS/trialrecord.py" "$FWGD_STATE/trial/record" get state)" = rolling-back ] ||
                fail "the dead-man died, but the record is not rolling back"
        kill -CONT "$FWGD_PID"
        wait_live "$TMP/S0" "$TMP/S1" 10 > /dev/null
        wait_idle 5
        grep -q "trial 1 was changed by another process: it is rolling-back now" "$FWGD_LOG" ||
                fail "fwguardd did not notice the dead-man's half rollback"
        [ "$(rollbacks_by_daemon 1)" = 1 ] || fail "fwguardd rolled trial 1 back $(rollbacks_by_daemon 1) times"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back" ;;
*) fail "unknown case $CASE" ;;
esac
finish

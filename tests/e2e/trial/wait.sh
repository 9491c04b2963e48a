#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# wait.sh CASE — `fwguard apply --wait` follows the trial to its end.
#   rollback  no confirmation: it exits 4 once the dead-man rolled back, and
#             S0 is live at that moment
#   confirm   `fwguard confirm` from another process: it exits 0 at once, long
#             before the deadline, and the change stays
#   extend    `fwguard extend` from another process moves the deadline: status
#             shows the later one, nothing happens at the old deadline, the
#             rollback comes at the new one, and --wait exits 4 then
. "$SRCDIR/tests/e2e/trial/trial-env.sh"
CASE=$1
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
live_nft > "$TMP/s0.txt"
live_ipt > "$TMP/s0-ipt.txt"

# apply --wait in the background; TRIAL_ID and TRIAL_DEADLINE from status.
WAIT_PID=
at_exit '[ -z "$WAIT_PID" ] || kill "$WAIT_PID"'
start_wait() {
        fwg apply --wait --timeout "$1" "$TMP/rules.nft" > "$TMP/wait.out" 2>&1 &
        WAIT_PID=$!
        for _ in $(seq 300); do
                status_json
                TRIAL_ID=$(json "$TMP/status.json" '(d["trial"] or {}).get("id", "")')
                [ -z "$TRIAL_ID" ] || break
                kill -0 "$WAIT_PID" 2>/dev/null || fail "apply --wait ended early: $(cat "$TMP/wait.out")"
                sleep 0.05
        done
        [ -n "$TRIAL_ID" ] || fail "no trial after 15 s: $(cat "$TMP/wait.out")"
        TRIAL_DEADLINE=$(json "$TMP/status.json" 'd["trial"]["deadline_realtime_usec"]')
}
# WAIT_RC: the exit status of apply --wait, which must end within SECONDS.
wait_exit() {
        for _ in $(seq $(($1 * 20))); do
                kill -0 "$WAIT_PID" 2>/dev/null || break
                sleep 0.05
        done
        kill -0 "$WAIT_PID" 2>/dev/null && fail "apply --wait still waits: $(cat "$TMP/wait.out")"
        WAIT_RC=0
        wait "$WAIT_PID" || WAIT_RC=$?
        WAIT_PID=
}
is_s0() {
        live_nft > "$TMP/after.txt"
        same "$TMP/s0.txt" "$TMP/after.txt" "$1: the ruleset is not S0"
        live_ipt > "$TMP/after-ipt.txt"
        same "$TMP/s0-ipt.txt" "$TMP/after-ipt.txt" "$1: iptables-save is not S0's"
}

case $CASE in
rollback)
        start_wait 2
        wait_exit 15
        # No polling: the rollback must be complete when --wait says so.
        is_s0 "when apply --wait returned"
        [ "$WAIT_RC" = 4 ] || fail "apply --wait exited $WAIT_RC after a rollback, want 4: $(cat "$TMP/wait.out")"
        grep -q "trial $TRIAL_ID was ROLLED BACK" "$TMP/wait.out" || fail "it does not say so: $(cat "$TMP/wait.out")"
        [ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
        ;;
confirm)
        start_wait 20
        ssh_run "FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm" > /dev/null || fail "confirm from a new ssh login exited $?"
        confirmed=$(now_usec)
        wait_exit 5
        [ "$WAIT_RC" = 0 ] || fail "apply --wait exited $WAIT_RC after a confirmation, want 0: $(cat "$TMP/wait.out")"
        [ $((TRIAL_DEADLINE - confirmed)) -gt 5000000 ] || fail "the deadline was too near to tell a confirm from a timeout"
        grep -q "trial $TRIAL_ID confirmed" "$TMP/wait.out" || fail "it does not say so: $(cat "$TMP/wait.out")"
        guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
        [ "$(history_get "$TRIAL_ID" outcome)" = confirmed ] || fail "history: $(cat "$TMP/history.json")"
        ;;
extend)
        start_wait 3
        old=$TRIAL_DEADLINE
        fwg extend --json 6 > "$TMP/extend.json" || fail "extend exited $?"
        new=$(json "$TMP/extend.json" 'd["deadline_realtime_usec"]')
        status_json
        [ "$(json "$TMP/status.json" 'd["trial"]["deadline_realtime_usec"]')" = "$new" ] \
                || fail "status does not show the new deadline $new: $(cat "$TMP/status.json")"
        [ $((new - old)) -ge 2000000 ] || fail "extend 6 moved the deadline from $old only to $new"
        note "the old deadline passes: still armed, still S1 plus the guard"
        sleep_until $((old + 1000000))
        still_armed "the old deadline plus 1 s"
        guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
        kill -0 "$WAIT_PID" 2>/dev/null || fail "apply --wait ended at the old deadline: $(cat "$TMP/wait.out")"
        note "the new deadline: rolled back"
        while [ "$(fwg status)" != idle ]; do
                [ "$(now_usec)" -lt $((new + 5000000)) ] || fail "no rollback 5 s after the new deadline"
                sleep 0.05
        done
        [ "$(now_usec)" -ge $((new - 100000)) ] || fail "rolled back before the new deadline"
        is_s0 "after the new deadline"
        wait_exit 5
        [ "$WAIT_RC" = 4 ] || fail "apply --wait exited $WAIT_RC after a rollback, want 4: $(cat "$TMP/wait.out")"
        [ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
        ;;
*) fail "unknown case $CASE" ;;
esac
ssh_login || fail "a NEW ssh login fails at the end"
ssh_session_alive || fail "the old session died"
echo ok

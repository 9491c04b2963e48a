#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# deadman.sh — system test 3, under a real systemd:
#   a. fwguardd.service with Restart=no (a drop-in) is SIGSTOPped during a
#      trial: the second dead-man, a transient timer of systemd's, rolls the
#      trial back by deadline + 5 s, to exactly the ruleset before; its own
#      MESSAGE_ID in the journal proves it was the dead-man (fwguardd was
#      stopped throughout); SSH works; continued, fwguardd notices and is
#      idle, with nothing rolled back twice;
#   b. with Restart=always and a short WatchdogSec (a drop-in), a fwguardd
#      that hangs (SIGSTOP) is killed by the watchdog and restarted, and the
#      restarted one handles the trial: armed again, and rolled back by
#      fwguardd itself at its deadline (the dead-man's timer is stopped
#      then, and never runs);
#   c. extend replaces the timer by one due after the new deadline, and a
#      confirmation (a new login) stops it.
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot
ct_config

DEADMAN_ID=be9d46f507484fd8a16061d2f5629ca9
ROLLBACK_ID=df8af50ae3d645d190b82366b783dd78

ct_lock_file

dropin() { # LINES... : fwguardd.service's test drop-in, then a restart
        mkdir -p "$CT_ROOT/etc/systemd/system/fwguardd.service.d"
        printf '[Service]\n%s\n' "$@" > "$CT_ROOT/etc/systemd/system/fwguardd.service.d/test.conf"
        ct systemctl daemon-reload
        ct systemctl restart fwguardd.service
        ct_wait_active fwguardd.service || fail "fwguardd.service did not start"
}
main_pid() { ct systemctl show -P MainPID fwguardd.service; }
# Apply lock.nft with a timeout of $1 s: TRIAL and DEADLINE (seconds).
apply_lock() {
        ct_apply "$1" /root/lock.nft
        TRIAL=$TRIAL_ID
        DEADLINE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadline_realtime_usec"] / 1e6)' \
                "$TMP/apply.json")
        ct_nft > "$TMP/s1.txt"
        guarded_as "$TMP/plain.txt" "$TMP/s1.txt" 22 "inet lockme input"
}
# The dead-man timers of trial $1 that systemd has loaded.
timers() { ct systemctl list-units --all --plain --no-legend "fwguard-deadman-$1-*.timer" | awk '{ print $1 }'; }
journal_count() { # FIELD=VALUE... : entries of this boot
        ct journalctl --no-pager -q -b -o cat "$@" 2> /dev/null | grep -c . || true
}

note "a. Restart=no, fwguardd stopped: the second dead-man rolls the trial back"
dropin Restart=no WatchdogSec=0
ct journalctl --no-pager -q -b -o cat -u fwguardd.service | grep -q "second dead-man: each trial also arms" ||
        fail "fwguardd does not arm second dead-men: $(ct journalctl --no-pager -q -b -o cat -u fwguardd.service | grep dead-man)"
ct_nft > "$TMP/s0.txt"
ct_session_open
apply_lock 5
for _ in $(seq 50); do [ -n "$(timers "$TRIAL")" ] && break; sleep 0.1; done
[ -n "$(timers "$TRIAL")" ] || fail "no transient timer for trial $TRIAL"
note "timer $(timers "$TRIAL"): $(ct systemctl show -P TimersCalendar "$(timers "$TRIAL")")"
PID=$(main_pid)
ct kill -STOP "$PID"
t=
for _ in $(seq 300); do
        ct_nft > "$TMP/now.txt"
        if cmp -s "$TMP/s0.txt" "$TMP/now.txt"; then
                t=$(date +%s.%N)
                break
        fi
        sleep 0.1
done
[ -n "$t" ] || { ct_dump; fail "nothing rolled trial $TRIAL back while fwguardd was stopped"; }
late=$(awk -v t="$t" -v d="$DEADLINE" 'BEGIN { printf "%.1f", t - d }')
note "rolled back $late s after the deadline"
awk -v l="$late" 'BEGIN { exit !(l >= 0 && l <= 5) }' || fail "rolled back $late s after the deadline, not within 5 s"
[ "$(ct ps -o stat= -p "$PID" | cut -c1)" = T ] || fail "fwguardd was not stopped throughout"
[ "$(journal_count "MESSAGE_ID=$DEADMAN_ID" "FWGUARD_TRIAL_ID=$TRIAL")" -ge 1 ] ||
        { ct_dump; fail "no journal entry of the second dead-man for trial $TRIAL"; }
[ "$(journal_count "MESSAGE_ID=$ROLLBACK_ID" "FWGUARD_TRIAL_ID=$TRIAL")" = 0 ] || fail "fwguardd logged a rollback while stopped"
ct cat "/var/lib/fwguard/history/$TRIAL/report" | grep -q "rolled back by the second dead-man" ||
        fail "the history of trial $TRIAL does not say the dead-man rolled it back"
ct_session_alive || fail "the old session died"
ct_ssh -- true || fail "a NEW login failed after the dead-man's rollback"
ct kill -CONT "$PID"
ct_wait_idle 10 || fail "fwguardd, continued, still has a trial"
[ "$(ct_outcome "$TRIAL")" = rolled-back ] || fail "history: $(ct fwguard history)"
for _ in $(seq 50); do
        [ "$(journal_count "MESSAGE_ID=$ROLLBACK_ID" "FWGUARD_TRIAL_ID=$TRIAL")" -ge 1 ] && break
        sleep 0.1
done
ct journalctl --no-pager -q -b -o cat "MESSAGE_ID=$ROLLBACK_ID" "FWGUARD_TRIAL_ID=$TRIAL" > "$TMP/noticed.txt"
grep -q "was rolled back by the second dead-man" "$TMP/noticed.txt" || fail "fwguardd did not notice: $(cat "$TMP/noticed.txt")"
! grep -q "rolled back (" "$TMP/noticed.txt" || fail "fwguardd rolled trial $TRIAL back a second time"
ct_nft > "$TMP/after.txt"
same "$TMP/s0.txt" "$TMP/after.txt" "after fwguardd noticed, the ruleset is not the one before the trial"

note "b. Restart=always, a short watchdog: a hung fwguardd is restarted and handles the trial"
dropin Restart=always RestartSec=1 WatchdogSec=3 TimeoutAbortSec=2
restarts=$(ct systemctl show -P NRestarts fwguardd.service)
apply_lock 25
PID=$(main_pid)
ct kill -STOP "$PID"
for _ in $(seq 300); do
        new=$(main_pid)
        [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$PID" ] && break
        sleep 0.1
done
[ "$new" != "$PID" ] && [ "$new" != 0 ] || { ct_dump; fail "the watchdog did not restart the hung fwguardd"; }
[ "$(ct systemctl show -P NRestarts fwguardd.service)" -gt "$restarts" ] || fail "fwguardd.service was not restarted"
ct journalctl --no-pager -q -b -u fwguardd.service | grep -qi watchdog || fail "the journal does not say the watchdog fired"
ct_wait_active fwguardd.service || fail "the restarted fwguardd is not active"
now=$(date +%s.%N)
awk -v n="$now" -v d="$DEADLINE" 'BEGIN { exit !(n < d - 2) }' || fail "the restart took too long to test the trial's handling"
[ "$(ct_status "['state']")" = armed ] && [ "$(ct_status "['trial']['id']")" = "$TRIAL" ] ||
        fail "the restarted fwguardd does not hold trial $TRIAL: $(ct fwguard status)"
[ -n "$(timers "$TRIAL")" ] || fail "the dead-man's timer of trial $TRIAL is gone after the restart"
ct_wait_idle 40 || fail "trial $TRIAL was not rolled back"
[ "$(ct_outcome "$TRIAL")" = rolled-back ] || fail "history: $(ct fwguard history)"
ct journalctl --no-pager -q -b -o cat "MESSAGE_ID=$ROLLBACK_ID" "FWGUARD_TRIAL_ID=$TRIAL" | grep -q "rolled back (the deadline" ||
        fail "the restarted fwguardd did not roll trial $TRIAL back itself"
[ "$(journal_count "MESSAGE_ID=$DEADMAN_ID" "FWGUARD_TRIAL_ID=$TRIAL")" = 0 ] || fail "the second dead-man ran although fwguardd was back"
for _ in $(seq 50); do [ -z "$(timers "$TRIAL")" ] && break; sleep 0.1; done
[ -z "$(timers "$TRIAL")" ] || fail "the dead-man's timer of trial $TRIAL outlived the trial: $(timers "$TRIAL")"
ct_nft > "$TMP/after.txt"
same "$TMP/s0.txt" "$TMP/after.txt" "after the rollback, the ruleset is not the one before the trial"
ct_session_alive || fail "the old session died"

note "c. extend moves the timer; a confirmation stops it"
apply_lock 20
for _ in $(seq 50); do [ -n "$(timers "$TRIAL")" ] && break; sleep 0.1; done
old_timer=$(timers "$TRIAL")
[ -n "$old_timer" ] || fail "no transient timer for trial $TRIAL"
ct fwguard extend 90 > /dev/null || fail "extend failed"
for _ in $(seq 50); do [ "$(timers "$TRIAL")" != "$old_timer" ] && [ -n "$(timers "$TRIAL")" ] && break; sleep 0.1; done
new_timer=$(timers "$TRIAL")
[ -n "$new_timer" ] && [ "$new_timer" != "$old_timer" ] || fail "extend did not move the timer: before $old_timer, now '$new_timer'"
due=$(ct systemctl show -P TimersCalendar "$new_timer")
deadline=$(ct fwguard status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["trial"]["deadline_realtime_usec"] // 1000000)')
due_s=$(date -u -d "$(echo "$due" | grep -o '[0-9]*-[0-9]*-[0-9]* [0-9:]* UTC' | head -1)" +%s) ||
        fail "cannot read the moved timer's time: $due"
[ "$due_s" -ge $((deadline + 3)) ] && [ "$due_s" -le $((deadline + 5)) ] ||
        fail "the moved timer is due at $due, not a few seconds after the new deadline $(date -u -d "@$deadline")"
ct_ssh -- true || fail "a NEW login failed during the trial"
ct_wait_idle 10 || fail "the login did not confirm trial $TRIAL"
for _ in $(seq 50); do [ -z "$(timers "$TRIAL")" ] && break; sleep 0.1; done
[ -z "$(timers "$TRIAL")" ] || fail "the confirmation left the dead-man's timer: $(timers "$TRIAL")"
echo ok

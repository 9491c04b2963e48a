#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# trial.sh — fwguardd and a pending trial, as the doctor sees them:
#   - a trial armed by fwguardd: trial-pending (a warning: exit 1) with its
#     id and deadline, how to confirm and how to roll back; after
#     `fwguard rollback` the doctor is content again (exit 0);
#   - the daemon stopped (SIGSTOP) with a trial armed: it does not answer
#     (fwguardd-unhealthy, within the doctor's 10 s), and the trial's record
#     in the state directory is named (trial-pending-no-daemon); the fix
#     (kill -CONT) wakes it;
#   - the daemon killed: fwguardd-not-running, with the command that starts
#     it, and the record again; started again, it re-arms the trial, and a
#     rollback leaves nothing to report.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up
daemon_start ip netns exec "$SSHENV_SRV"
cat > "$TMP/change.nft" <<'NFT'
table inet doctortrial {
        chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 9999 drop
        }
}
NFT
apply() {
        fwg apply --json --timeout 120 "$TMP/change.nft" > "$TMP/apply.json" || fail "apply failed"
        TRIAL_ID=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["trial"])' "$TMP/apply.json")
        srv nft list table inet doctortrial > /dev/null || fail "the trial's table is not live"
}

note "a trial armed"
apply
doctor "$TMP/armed"
[ "$DOCTOR_RC" = 1 ] || fail "a pending trial: exit $DOCTOR_RC"
[ "$(finding "$TMP/armed" trial-pending severity)" = warning ] || fail "$(cat "$TMP/armed.json")"
finding "$TMP/armed" trial-pending what | grep -q "^trial $TRIAL_ID is armed, deadline .* (in [0-9]* s)" ||
        fail "the finding does not name trial $TRIAL_ID and its deadline: $(findings "$TMP/armed" trial-pending)"
fix=$(finding "$TMP/armed" trial-pending fix)
grep -q "fwguard confirm" <<< "$fix" && grep -q "fwguard rollback" <<< "$fix" || fail "the fix: $fix"
no_finding "$TMP/armed" trial-pending-no-daemon
fwg rollback > /dev/null || fail "rollback failed"
srv nft list table inet doctortrial > /dev/null 2>&1 && fail "the rollback left the trial's table"
doctor "$TMP/rolledback"
no_finding "$TMP/rolledback" trial-pending
[ "$DOCTOR_RC" = 0 ] || fail "after the rollback: exit $DOCTOR_RC: $(cat "$TMP/rolledback.json")"

note "the daemon stopped with a trial armed"
apply
kill -STOP "$FWGD_PID"
doctor "$TMP/stopped"
finding "$TMP/stopped" fwguardd-unhealthy what | grep -q "no answer in time, it is stopped (SIGSTOP)" ||
        fail "$(findings "$TMP/stopped" fwguardd-unhealthy)"
[ "$(finding "$TMP/stopped" fwguardd-unhealthy fix)" = "kill -CONT $FWGD_PID" ] ||
        fail "the fix does not wake the daemon: $(findings "$TMP/stopped" fwguardd-unhealthy)"
finding "$TMP/stopped" trial-pending-no-daemon what | grep -q "^trial $TRIAL_ID is armed with a deadline of " ||
        fail "$(findings "$TMP/stopped" trial-pending-no-daemon)"
run_fix "$TMP/stopped" fwguardd-unhealthy
fwg status > /dev/null || fail "the daemon does not answer after the fix"

note "the daemon killed with a trial armed"
daemon_kill
doctor "$TMP/killed"
[ "$DOCTOR_RC" = 1 ] || fail "no daemon: exit $DOCTOR_RC"
[ "$(finding "$TMP/killed" fwguardd-not-running fix)" = "fwguardd &" ] || fail "$(cat "$TMP/killed.json")"
finding "$TMP/killed" trial-pending-no-daemon what | grep -q "^trial $TRIAL_ID is armed" ||
        fail "the record is not named: $(cat "$TMP/killed.json")"
no_finding "$TMP/killed" trial-pending
daemon_start ip netns exec "$SSHENV_SRV"
doctor "$TMP/restarted"
finding "$TMP/restarted" trial-pending what | grep -q "^trial $TRIAL_ID is armed" || fail "$(cat "$TMP/restarted.json")"
no_finding "$TMP/restarted" fwguardd-not-running
fwg rollback > /dev/null || fail "rollback failed"
doctor "$TMP/clean"
[ "$DOCTOR_RC" = 0 ] || fail "at the end: exit $DOCTOR_RC: $(cat "$TMP/clean.json")"
echo ok

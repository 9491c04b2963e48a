#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# trial.sh — during a trial, raw nft deletes the guard that the trial put
# into a touched table; the monitor puts it back, exactly as the trial
# committed it. The dead-man's rollback then sees no change of another
# writer there: S0 exactly, and a report without any conflict.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
scratch_nft true > "$TMP/s0.txt"

apply_trial "$TMP/rules.nft" 6
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
srv nft delete rule inet filter input handle "$(guard_handle "inet filter input")"
log_wait 2 "put back at the head of chain inet filter input: pid [0-9]+ \"nft\"" 0
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
ssh_login || fail "a NEW ssh login fails during the trial"
still_armed "the guard came back"

sleep_until "$TRIAL_DEADLINE"
wait_idle 10
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
history_get "$TRIAL_ID" report > "$TMP/report.txt"
[ -z "$(cat "$TMP/report.txt")" ] || fail "the rollback reports a conflict for the guard the monitor put back: $(cat "$TMP/report.txt")"
live_nft > "$TMP/after.txt"
same "$TMP/s0.txt" "$TMP/after.txt" "after the rollback the ruleset is not S0"
grep -q "rolled back (the deadline passed without a confirmation);" "$FWGD_LOG" &&
        ! grep -q "differs from the target" "$FWGD_LOG" || fail "the rollback was not exact: $(cat "$FWGD_LOG")"
ssh_login || fail "a NEW ssh login fails after the rollback"
ssh_session_alive || fail "the old session died"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

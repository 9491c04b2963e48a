#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# confirm.sh — the lockout change of rollback.sh, confirmed during the trial:
# after its deadline the live ruleset is still S1 plus the guard, nothing is
# rolled back or announced, and the history lists the trial as confirmed.
. "$SRCDIR/tests/e2e/trial/trial-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"

apply_trial "$TMP/rules.nft" 3
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
# From a NEW ssh login: only that proves the change keeps SSH open (issue 6).
ssh_run "FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm" > "$TMP/confirm.txt" || fail "confirm exited $?"
grep -q "trial $TRIAL_ID confirmed" "$TMP/confirm.txt" || fail "confirm says: $(cat "$TMP/confirm.txt")"
[ "$(fwg status)" = idle ] || fail "not idle after the confirmation: $(fwg status)"

note "past the deadline, the confirmed change stays"
sleep_until $((TRIAL_DEADLINE + 1500000))
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
[ "$(history_get "$TRIAL_ID" outcome)" = confirmed ] || fail "history: $(cat "$TMP/history.json")"
ssh_login || fail "a NEW ssh login fails under the confirmed change"
! reach 8080 || fail "port 8080 is reachable: the confirmed change is not live"
ssh_session_alive || fail "the old session died"
[ ! -e "$FWGD_WALL_LOG" ] || fail "a rollback was announced after a confirmation: $(cat "$FWGD_WALL_LOG")"
set +e
fwg confirm > "$TMP/again.txt" 2>&1
rc=$?
set -e
[ $rc = 1 ] && grep -q "nothing to confirm" "$TMP/again.txt" || fail "a second confirm exited $rc: $(cat "$TMP/again.txt")"
echo ok

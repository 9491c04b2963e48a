#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rollback.sh — a change that would lock SSH out, never confirmed.
#
# During the trial: the live ruleset is S1 (plain nft in a scratch netns)
# plus exactly the guard, iptables-save shows the guard first, a NEW login
# works, port 8080 stays blocked, the old session lives and the untouched
# table is not rewritten. After the deadline: the ruleset is S0 again
# (nft and iptables-save), the untouched table still has its handles, the
# history says rolled-back and the rollback was announced (wall).
. "$SRCDIR/tests/e2e/trial/trial-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up

scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
scratch_ipt "nft -f '$TMP/rules.nft'" > "$TMP/s1-ipt.txt"
live_nft > "$TMP/s0.txt"
live_ipt > "$TMP/s0-ipt.txt"
srv nft -a list table inet keep > "$TMP/keep0.txt"
reach 8080 || fail "port 8080 is not reachable before the change: the blocked-port check proves nothing"
[ ! -e "$FWGD_WALL_LOG" ] || fail "an announcement before any rollback: $(cat "$FWGD_WALL_LOG")"

apply_trial "$TMP/rules.nft" 8

note "during the trial: S1 plus the guard, a new login, 8080 blocked, the old session"
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
live_ipt > "$TMP/ipt.txt"
grep -vxF -- '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT' "$TMP/ipt.txt" \
        > "$TMP/ipt-unguarded.txt" || true
same "$TMP/s1-ipt.txt" "$TMP/ipt-unguarded.txt" "iptables-save during the trial is not S1 plus the guard"
grep -m1 -- '^-A INPUT' "$TMP/ipt.txt" | grep -qF 'fwguard ssh guard' || fail "the guard is not first in INPUT"
ssh_login || fail "a NEW ssh login fails during the trial"
! reach 8080 || fail "port 8080 is reachable during the trial: the guard opened more than SSH"
ssh_session_alive || fail "the old session died during the trial"
srv nft -a list table inet keep > "$TMP/keep1.txt"
same "$TMP/keep0.txt" "$TMP/keep1.txt" "the untouched table changed during the trial"
still_armed "the checks during the trial"
[ "$(history_get "$TRIAL_ID" outcome)" = "" ] || fail "the pending trial is already in the history"

note "after the deadline: S0 exactly"
sleep_until "$TRIAL_DEADLINE"
wait_idle 10
live_nft > "$TMP/after.txt"
same "$TMP/s0.txt" "$TMP/after.txt" "the ruleset after the rollback is not S0"
live_ipt > "$TMP/after-ipt.txt"
same "$TMP/s0-ipt.txt" "$TMP/after-ipt.txt" "iptables-save after the rollback is not S0's"
srv nft -a list table inet keep > "$TMP/keep2.txt"
same "$TMP/keep0.txt" "$TMP/keep2.txt" "the rollback rewrote the untouched table"
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
[ -z "$(history_get "$TRIAL_ID" report)" ] || fail "a report although nobody else wrote: $(cat "$TMP/history.json")"
ssh_login || fail "a NEW ssh login fails after the rollback"
reach 8080 || fail "port 8080 is still blocked after the rollback"
ssh_session_alive || fail "the old session died in the rollback"

note "the rollback is announced on the terminals"
for _ in $(seq 50); do [ -s "$FWGD_WALL_LOG" ] && break; sleep 0.1; done
grep -q "trial $TRIAL_ID was rolled back" "$FWGD_WALL_LOG" 2>/dev/null || fail "no wall announcement: $(cat "$FWGD_WALL_LOG" 2>&1)"
[ "$(wc -l < "$FWGD_WALL_LOG")" = 1 ] || fail "announced more than once: $(cat "$FWGD_WALL_LOG")"
echo ok

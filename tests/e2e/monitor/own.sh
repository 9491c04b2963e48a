#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# own.sh — the monitor leaves fwguard's own commits alone: an apply puts the
# guard into the touched tables only, and its rollback takes every guard out
# again (S0 exactly after it), with no monitor line in the log. Then a raw
# change shows that the monitor was listening all along.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
scratch_nft true > "$TMP/s0.txt"
MONITOR_SAYS="put back|SSH WAS BLOCKED|SSH IS BLOCKED|guard monitor|SSH ports changed"

apply_trial "$TMP/rules.nft" 8
sleep 1         # the monitor's check would have run by now
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
still_armed "the guard check"
sleep_until "$TRIAL_DEADLINE"
wait_idle 10
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
sleep 1
live_nft > "$TMP/after.txt"
same "$TMP/s0.txt" "$TMP/after.txt" "after the rollback the ruleset is not S0: the monitor fought it"
[ "$(log_count "$MONITOR_SAYS")" = 0 ] || fail "the monitor reacted to fwguard's own commits: $(cat "$FWGD_LOG")"

note "the monitor was on: a raw change makes it act"
srv nft -f "$TMP/rules.nft"
wait_until 10 "a raw lockout was not guarded" \
        sh -c "ip netns exec '$SSHENV_SRV' nft list chain inet filter input | grep -q 'fwguard ssh guard'"
ssh_login || fail "a NEW ssh login fails"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# off.sh — [monitor] enabled = no: a guard of a confirmed apply removed by
# raw nft stays removed, and a raw lockout in a new table stays unguarded
# (a NEW login fails, as it would without fwguard); trials still work.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
daemon_config "[monitor]" "enabled = no"
default_s0
lockout_rules "$TMP/rules.nft"
cat > "$TMP/lock.nft" <<'NFT'
table inet lockme {
        chain input {
                type filter hook input priority 5; policy drop;
                ct state established,related accept
        }
}
NFT
trial_env_up
grep -q "the guard monitor is off" "$FWGD_LOG" || fail "fwguardd does not say that the monitor is off"
apply_trial "$TMP/rules.nft" 30
ssh_run "FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm" > /dev/null || fail "confirm exited $?"

srv nft delete rule ip filter INPUT handle "$(guard_handle "ip filter INPUT")"
srv nft -f "$TMP/lock.nft"
sleep 3
[ -z "$(guard_handle "ip filter INPUT")" ] || fail "the removed guard came back with the monitor off"
[ -z "$(guard_handle "inet lockme input")" ] || fail "the lockout was guarded with the monitor off"
! ssh_login || fail "a NEW login works through an unguarded lockout: the test proves nothing"
ssh_session_alive || fail "the old session died"
[ "$(log_count "put back|SSH WAS BLOCKED|SSH IS BLOCKED")" = 0 ] || fail "the monitor acted: $(cat "$FWGD_LOG")"
echo ok

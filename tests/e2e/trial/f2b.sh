#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# f2b.sh — a fail2ban-like table that the change does not touch bans an
# address during the trial. The ban works during the trial (no guard in that
# table lets the banned address in) and after the rollback, which keeps every
# element and never rewrites that table; the touched tables are S0 again.
. "$SRCDIR/tests/e2e/trial/trial-env.sh"
default_s0
cat >> "$TMP/s0.nft" <<'NFT'
table inet f2b {
        set banned {
                type ipv4_addr
                elements = { 198.51.100.1 }
        }
        chain input {
                type filter hook input priority filter - 1; policy accept;
                ip saddr @banned drop
        }
}
NFT
lockout_rules "$TMP/rules.nft"
trial_env_up
cli ip addr add 192.0.2.3/24 dev "${SSHENV_P}p"
BAN="nft add element inet f2b banned '{ 192.0.2.3, 198.51.100.2 }'; nft add element inet f2b banned '{ 198.51.100.3 }'"
scratch_nft "$BAN" > "$TMP/expected.txt"
login_from 192.0.2.3 || fail "192.0.2.3 cannot log in before the ban: the ban check proves nothing"

apply_trial "$TMP/rules.nft" 8

note "during the trial, fail2ban bans 192.0.2.3: it is locked out, the admin is not"
srv sh -ec "$BAN"
! login_from 192.0.2.3 || fail "the banned address logs in during the trial: the guard overrides the ban"
ssh_login || fail "a NEW ssh login of the admin fails during the trial"
srv nft -a list table inet f2b | norm > "$TMP/f2b1.txt"
still_armed "the ban checks"

note "after the rollback the elements are there and the ban works"
sleep_until "$TRIAL_DEADLINE"
wait_idle 10
live_nft > "$TMP/after.txt"
same "$TMP/expected.txt" "$TMP/after.txt" "after the rollback the ruleset is not S0 plus the bans"
srv nft -a list table inet f2b | norm > "$TMP/f2b2.txt"
same "$TMP/f2b1.txt" "$TMP/f2b2.txt" "the rollback rewrote the untouched fail2ban table"
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
! login_from 192.0.2.3 || fail "the banned address logs in after the rollback"
ssh_login || fail "a NEW ssh login of the admin fails after the rollback"
ssh_session_alive || fail "the old session died"
echo ok

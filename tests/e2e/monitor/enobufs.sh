#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# enobufs.sh — lost events (a test build only: FWGUARDD_TEST_MONITOR_RCVBUF
# gives the monitor a tiny receive buffer). With fwguardd stopped, one raw
# batch adds 400 rules to a new table and then deletes the guard of a
# confirmed apply: its DELRULE event is surely among those the kernel drops.
# Resumed, the monitor sees ENOBUFS, reads the ruleset again and puts the
# guard back where it knew one to be; the burst's table is left as it is.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
sshenv_up || fail "cannot start sshd"
srv sh -e "$TMP/s0.sh" || fail "cannot load S0"
ssh_session_open || fail "cannot open the old session"
daemon_start ip netns exec "$SSHENV_SRV" env FWGUARDD_TEST_MONITOR_RCVBUF=2048
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
apply_trial "$TMP/rules.nft" 30
ssh_run "FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm" > /dev/null || fail "confirm exited $?"

{
        echo "add table inet burst"
        echo "add chain inet burst c"
        for i in $(seq 400); do echo "add rule inet burst c tcp dport $((10000 + i)) accept"; done
} > "$TMP/table.nft"
in_netns sh -ec "nft -f '$TMP/table.nft'; nft list table inet burst" | norm > "$TMP/burst.txt"
{
        cat "$TMP/table.nft"
        echo "delete rule ip filter INPUT handle $(guard_handle "ip filter INPUT")"
} > "$TMP/burst.nft"
lost=$(log_count "lost nftables events")
kill -STOP "$FWGD_PID"
srv nft -f "$TMP/burst.nft" || { kill -CONT "$FWGD_PID"; fail "the burst failed"; }
[ -z "$(guard_handle "ip filter INPUT")" ] || { kill -CONT "$FWGD_PID"; fail "the burst did not delete the guard"; }
kill -CONT "$FWGD_PID"
log_wait 3 "lost nftables events" "$lost"
wait_until 3 "the guard lost with the events did not come back" sh -c "[ -n \"\$(ip netns exec '$SSHENV_SRV' nft -a list chain ip filter INPUT 2> /dev/null | grep 'fwguard ssh guard')\" ]"
srv nft list table inet burst | norm > "$TMP/burst-live.txt"
same "$TMP/burst.txt" "$TMP/burst-live.txt" "the burst's table changed"
srv nft delete table inet burst
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
ssh_session_alive || fail "the old session died"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

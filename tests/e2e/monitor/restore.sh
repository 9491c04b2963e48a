#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# restore.sh — guards of a confirmed apply, removed by raw nft and iptables
# outside fwguard, come back at the head of their chains at once, exactly
# once, with every other rule untouched (same handles):
#   a. `nft delete rule` of the guard in ip filter INPUT, a chain that does
#      not block SSH without it (so only the monitor's restore brings it back);
#   b. the same in inet filter input (a drop policy);
#   c. `iptables -F INPUT`: the guard alone comes back, the flushed rules not;
#   d. `nft delete table inet filter`: nothing is re-created.
# Each time the log names the chain and the writer (pid and name, a hint).
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
apply_trial "$TMP/rules.nft" 30
ssh_run "FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm" > /dev/null || fail "confirm exited $?"
[ "$(fwg status)" = idle ] || fail "not idle after the confirmation"
guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"

# One chain: delete its guard with CMD, wait for it to come back exactly, and
# compare the chain's other rules, handles included, with before.
remove_guard() { # CHAIN CMD...
        local chain=$1 n said
        shift
        said="put back at the head of chain $chain: pid [0-9]+ \"(nft|iptables)"
        chain_rest "$chain" > "$TMP/rest-before.txt"
        n=$(log_count "$said")
        "$@" || fail "cannot remove the guard of $chain"
        # It may be back already: the log says that it went.
        wait_until 2 "the guard of $chain did not come back within 2 s" guard_back
        chain_rest "$chain" > "$TMP/rest-after.txt"
        same "$TMP/rest-before.txt" "$TMP/rest-after.txt" "the other rules of $chain changed"
        guarded_is_s1 "$TMP/s1.txt" "${LOCKOUT_GUARDED[@]}"
        log_wait 2 "$said" "$n"
        [ "$(log_count "$said")" = $((n + 1)) ] ||
                fail "the log does not say once who removed the guard of $chain: $(cat "$FWGD_LOG")"
}
guard_back() { [ -n "$(guard_handle "$GCHAIN")" ]; }

note "a. nft delete rule in a chain that does not block SSH"
GCHAIN="ip filter INPUT"
remove_guard "$GCHAIN" srv nft delete rule ip filter INPUT handle "$(guard_handle "$GCHAIN")"

note "b. nft delete rule in a chain with a drop policy"
GCHAIN="inet filter input"
remove_guard "$GCHAIN" srv nft delete rule inet filter input handle "$(guard_handle "$GCHAIN")"
ssh_login || fail "a NEW ssh login fails"
[ "$(log_count "SSH WAS BLOCKED")" = 0 ] || fail "the check, not the restore, put the guard back: $(cat "$FWGD_LOG")"

note "c. iptables -F INPUT: the guard comes back, the flushed rules do not"
srv iptables -F INPUT
wait_until 2 "the guard of ip filter INPUT did not come back after iptables -F" \
        sh -c "ip netns exec '$SSHENV_SRV' iptables -S INPUT | grep -q 'fwguard ssh guard'"
srv iptables -S INPUT > "$TMP/ipt.txt"
printf '%s\n' '-P INPUT ACCEPT' '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT' |
        same - "$TMP/ipt.txt" "after iptables -F INPUT the chain is not the guard alone"

note "d. a deleted table is not re-created"
srv nft delete table inet filter
sleep 1
! srv nft list table inet filter > /dev/null 2>&1 || fail "the deleted table came back"
ssh_login || fail "a NEW ssh login fails"
ssh_session_alive || fail "the old session died"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

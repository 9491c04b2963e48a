#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# blocked.sh — a raw `nft -f`, outside fwguard, gives inet filter input a
# drop policy without allowing SSH. The monitor finds SSH blocked and guards
# exactly that base chain: a NEW ssh login works, port 8080 stays blocked,
# the old session lives. A fail2ban-like table (its own input chain dropping
# a set of banned addresses, the client's second address among them) blocks
# no probe, so it gets no guard and the banned address still cannot connect.
# The log says it loudly, with the writer as a hint.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
default_s0
cat >> "$TMP/s0.nft" <<'NFT'
table inet f2b {
        set banned {
                type ipv4_addr
                elements = { 192.0.2.3 }
        }
        chain input {
                type filter hook input priority filter - 1; policy accept;
                ip saddr @banned drop
        }
}
NFT
cat > "$TMP/lock.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                iif "lo" accept
        }
}
NFT
trial_env_up
cli ip addr add 192.0.2.3/24 dev "${SSHENV_P}p"
! login_from 192.0.2.3 || fail "the banned address logs in before anything changed: the ban check proves nothing"
scratch_nft "nft -f '$TMP/lock.nft'" > "$TMP/plain.txt"

note "a raw nft -f locks SSH out"
T0=$(date +%s%N); srv nft -f "$TMP/lock.nft"
wait_until 10 "the blocking chain was not guarded within 10 s" \
        sh -c "ip netns exec '$SSHENV_SRV' nft list chain inet filter input | grep -q 'fwguard ssh guard'"
note "guarded after $(( ($(date +%s%N) - T0) / 1000000 )) ms"; live_nft > "$TMP/live.txt"
python3 "$SRCDIR/tests/tools/guardcheck.py" "$TMP/plain.txt" "$TMP/live.txt" 22 "inet filter input" ||
        fail "the monitor did not guard exactly the blocking chain"
log_wait 2 "SSH WAS BLOCKED .*policy drop.*chain inet filter input\. Changed by pid [0-9]+ \"nft\"" 0
ssh_login || fail "a NEW ssh login fails after the monitor guarded the chain"
! reach 8080 || fail "port 8080 is reachable: the monitor did more than guard SSH"
! login_from 192.0.2.3 || fail "the banned address logs in: the fail2ban table lost its ban"
ssh_session_alive || fail "the old session died"
[ "$(log_count "SSH WAS BLOCKED")" = 1 ] || fail "more than one chain guarded: $(cat "$FWGD_LOG")"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

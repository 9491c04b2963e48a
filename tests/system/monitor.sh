#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# monitor.sh — system test 5, the guard monitor under the installed units:
#   a. a fail2ban-like table bans the client's second address; then raw
#      `ufw --force enable` without `allow 22`, outside fwguard: the monitor
#      guards ufw's blocking chain (ip filter INPUT), so a NEW ssh login
#      works, while the ban still blocks the banned address and its table
#      holds no guard; the journal has the monitor's MESSAGE_ID;
#   b. the guard removed with raw `nft delete rule` comes back (the timing
#      is the bench's, not this test's).
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot
ct_config
BANNED=198.51.100.3
ip -n "$CL_NS" addr add "$BANNED/24" dev vc0
cat > "$CT_ROOT/root/f2b.nft" <<NFT
table inet f2b {
	set banned {
		type ipv4_addr
		elements = { $BANNED }
	}
	chain input {
		type filter hook input priority filter - 1; policy accept;
		ip saddr @banned drop
	}
}
NFT
ct nft -f /root/f2b.nft
ct_ssh -- true || fail "no login before the change"
! ct_ssh -o BindAddress=$BANNED -- true || fail "the banned address logs in: the ban check proves nothing"
ct_session_open

note "a. raw ufw --force enable, without allow 22"
ct ufw --force enable > /dev/null || fail "ufw enable failed"
guarded() { ct iptables -S INPUT 2> /dev/null | grep -q 'fwguard ssh guard'; }
for _ in $(seq 150); do guarded && break; sleep 0.1; done
guarded || { ct_dump; fail "the monitor did not guard ufw's INPUT chain within 15 s"; }
ct iptables -S INPUT | sed -n 2p | grep -qxF -- \
        '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT' ||
        fail "the guard is not the first rule of INPUT: $(ct iptables -S INPUT)"
ct_ssh -- true || fail "a NEW ssh login fails after ufw enable"
! ct_ssh -o BindAddress=$BANNED -- true || fail "the banned address logs in: the fail2ban table lost its ban"
! ct nft list table inet f2b | grep -q 'fwguard ssh guard' || fail "the fail2ban table got a guard"
ct_journal_has MESSAGE_ID=b425a118dfcd431185b4a6c6a28e9850 fwguardd.service ||
        fail "no 'SSH blocked' entry of the monitor in the journal"
ct ufw status | grep -q "Status: active" || fail "ufw status does not say active"

note "b. a guard removed by raw nft comes back"
h=$(ct nft -a list chain ip filter INPUT 2> /dev/null | sed -n 's/.*"fwguard ssh guard" # handle \([0-9]*\)$/\1/p')
[ -n "$h" ] || fail "no guard handle"
ct nft delete rule ip filter INPUT handle "$h"
for _ in $(seq 50); do guarded && break; sleep 0.1; done
guarded || fail "the removed guard did not come back"
[ "$(ct iptables -S INPUT | grep -c 'fwguard ssh guard')" = 1 ] || fail "not exactly one guard: $(ct iptables -S INPUT)"
ct_journal_has MESSAGE_ID=134e2fcb720d4c959242e4be9e5cecf8 fwguardd.service ||
        fail "no 'guard restored' entry of the monitor in the journal"
ct_ssh -- true || fail "a NEW ssh login fails after the guard came back"
ct_session_alive || fail "the old session died"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# probe.sh — the reachability probe: a real connection through every table,
# the blocker named by nftables tracing (rule text or policy, ARP and
# neighbour discovery marked as beyond the TCP guard), and nothing left
# behind in the namespace, not even when the probe is killed.
. "$SRCDIR/tests/lib/common.sh"
need_root
TOOL="$BUILDDIR/tests/integration/probe-tool"
[ -x "$TOOL" ] || fail "no $TOOL"

# rules NAME < TEXT: the ruleset of case NAME.
rules() { cat > "$TMP/$1.nft"; }

# probe NAME [ARGS...]: in a fresh namespace holding the veth pair fgs/fgc,
# load $TMP/NAME.nft and probe (ARGS: ports and probe-tool options). The
# output is in $TMP/NAME.out, the exit code in $rc.
probe() {
        local name=$1; shift
        set +e
        in_netns sh -c 'ip link add fgs type veth peer name fgc && exec "$@"' sh \
                "$TOOL" -t 1000 "$TMP/$name.nft" "$@" > "$TMP/$name.out" 2>&1
        rc=$?
        set -e
        sed "s/^/  $name| /" "$TMP/$name.out"
}
want_rc() { [ "$rc" = "$2" ] || fail "$1: exit $rc, want $2"; }
want() { grep -qxF -- "$2" "$TMP/$1.out" || fail "$1: no line: $2"; }

note "1: inet input policy drop allowing only 80/443"
rules c1 <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport { 80, 443 } accept
	}
}
EOF
probe c1 22 80
want_rc c1 3
want c1 'message: port 22 is blocked by inet filter input: policy drop'
want c1 'message: port 80 is reachable from 198.51.100.77: connection and data both ways'
want c1 'guard-fixable: yes'

note "2: one table accepts 22, another table's input chain drops everything"
rules c2 <<'EOF'
table inet a {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
	}
}
table ip b {
	chain input {
		type filter hook input priority 10; policy accept;
		counter drop
	}
}
EOF
probe c2
want_rc c2 3
want c2 'message: port 22 is blocked by ip b input: rule `counter drop`'
want c2 'rule: counter drop'

note "3: raw-priority prerouting chain dropping TCP"
rules c3 <<'EOF'
table ip raw {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		meta l4proto tcp drop
	}
}
EOF
probe c3
want_rc c3 3
want c3 'message: port 22 is blocked by ip raw pre: rule `meta l4proto tcp drop`'

note "4: netdev ingress chain on the server interface dropping TCP"
rules c4 <<'EOF'
table netdev f {
	chain in {
		type filter hook ingress device "fgs" priority 0; policy accept;
		meta l4proto tcp drop
	}
}
EOF
probe c4
want_rc c4 3
want c4 'message: port 22 is blocked by netdev f in: rule `meta l4proto tcp drop`'
want c4 'guard-fixable: yes'

note "5: output chain dropping TCP from port 22 (the SYN-ACK)"
rules c5 <<'EOF'
table inet f {
	chain output {
		type filter hook output priority 0; policy accept;
		tcp sport 22 drop
	}
}
EOF
probe c5 22 80
want_rc c5 3
want c5 "message: port 22 is blocked by inet f output: rule \`tcp sport 22 drop\` (it drops the server's answer)"
want c5 'answer: yes'
want c5 'message: port 80 is reachable from 198.51.100.77: connection and data both ways'

note "6: nat prerouting redirecting 22 elsewhere"
rules c6 <<'EOF'
table ip nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 22 redirect to :2222
	}
}
EOF
probe c6
want_rc c6 3
want c6 'message: port 22 is redirected to port 2222 by ip nat pre: rule `tcp dport 22 redirect to :2222` (connection refused)'
want c6 'verdict: redirect'
# With 2222 probed too, the connection to 22 echoes, but at the wrong listener.
cp "$TMP/c6.nft" "$TMP/c6b.nft"
probe c6b 22 2222
want_rc c6b 3
want c6b "message: port 22 is redirected to port 2222 by ip nat pre: rule \`tcp dport 22 redirect to :2222\` (the connection reached the probe's listener on port 2222)"
want c6b 'message: port 2222 is reachable from 198.51.100.77: connection and data both ways'

note "7: tcp dport 22 reject with tcp reset"
rules c7 <<'EOF'
table inet f {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 reject with tcp reset
	}
}
EOF
probe c7
want_rc c7 3
want c7 'message: port 22 is rejected by inet f input: rule `tcp dport 22 reject with tcp reset`'
want c7 'reject: yes'
want c7 'error: Connection refused'

note "8: SSH only from 203.0.113.0/24, the client comes from 198.51.100.77"
rules c8 <<'EOF'
table inet f {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		ip saddr 203.0.113.0/24 tcp dport 22 accept
	}
}
EOF
probe c8
want_rc c8 3
want c8 'message: port 22 is blocked by inet f input: policy drop'
# The control: the same ruleset admitting the client's network.
sed 's|203.0.113.0/24|198.51.100.0/24|' "$TMP/c8.nft" > "$TMP/c8ok.nft"
probe c8ok
want_rc c8ok 0

note "9: an arp table dropping ARP"
rules c9 <<'EOF'
table arp f {
	chain input {
		type filter hook input priority 0; policy accept;
		drop
	}
}
EOF
probe c9
want_rc c9 3
want c9 'message: port 22 is blocked by arp f input: rule `drop` (ARP: SSH needs ARP to reach the host; the TCP guard does not cover it)'
want c9 'packet: arp'
want c9 'guard-fixable: no'

note "10: ip6 input dropping neighbour solicitations, IPv6 client"
rules c10 <<'EOF'
table ip6 f {
	chain input {
		type filter hook input priority 0; policy accept;
		icmpv6 type nd-neighbor-solicit drop
	}
}
EOF
probe c10 -6
want_rc c10 3
want c10 'message: port 22 is blocked by ip6 f input: rule `icmpv6 type nd-neighbor-solicit drop` (IPv6 neighbour discovery: SSH needs it to reach the host; the TCP guard does not cover it)'
want c10 'packet: nd'
want c10 'guard-fixable: no'
# A drop policy that forgets ICMPv6 locks IPv6 out the same way.
rules c10b <<'EOF'
table inet f {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		tcp dport 22 accept
	}
}
EOF
probe c10b -6
want_rc c10b 3
want c10b 'message: port 22 is blocked by inet f input: policy drop (IPv6 neighbour discovery: SSH needs it to reach the host; the TCP guard does not cover it)'

note "11: an empty ruleset and a permissive one are reachable, over IPv4 and IPv6"
rules c11e < /dev/null
probe c11e 22 80
want_rc c11e 0
want c11e 'message: port 22 is reachable from 198.51.100.77: connection and data both ways'
cp "$TMP/c11e.nft" "$TMP/c11e6.nft"
probe c11e6 -6
want_rc c11e6 0
want c11e6 'message: port 22 is reachable from 2001:db8:ffff::77: connection and data both ways'
rules c11p <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		tcp dport 22 accept
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
table ip other {
	chain pre {
		type filter hook prerouting priority -150; policy accept;
		tcp dport 22 counter accept
	}
}
EOF
probe c11p
want_rc c11p 0
cp "$TMP/c11p.nft" "$TMP/c11p6.nft"
probe c11p6 -6
want_rc c11p6 0

note "a handshake is not enough: data must flow both ways"
rules cn <<'EOF'
table inet f {
	chain input {
		type filter hook input priority 0; policy drop;
		tcp dport 22 ct state new accept
	}
}
EOF
probe cn
want_rc cn 3
want cn 'message: port 22 is blocked by inet f input: policy drop'
want cn 'connected: yes'

note "a drop in a regular chain names the base chain it was reached from"
rules cj <<'EOF'
table inet f {
	chain ssh {
		tcp dport 22 drop
	}
	chain input {
		type filter hook input priority 0; policy accept;
		meta l4proto tcp jump ssh
	}
}
EOF
probe cj
want_rc cj 3
want cj 'message: port 22 is blocked by inet f ssh (reached from base chain input): rule `tcp dport 22 drop`'
want cj 'base-chain: input'

note "every chain accepts, yet no answer: the cause is outside nftables"
rules cr < /dev/null
set +e
in_netns sh -c 'ip link add fgs type veth peer name fgc && ip link set fgs up &&
                ip route add blackhole 198.51.100.77 && exec "$@"' sh \
        "$TOOL" -t 1000 "$TMP/cr.nft" > "$TMP/cr.out" 2>&1
rc=$?
set -e
sed "s/^/  cr| /" "$TMP/cr.out"
want_rc cr 3
want cr 'message: port 22 is unreachable (no answer to the connection within 1000 ms), yet every nftables base chain that the probe'"'"'s packets crossed accepted them: the cause is outside nftables (routing, rp_filter)'
want cr 'verdict: unexplained'

# The namespaces below are kept by a sleeping process, for listings before
# and after, and for processes that run beside the probe.
NSPID=$(netns_holder) || fail "no namespace holder"
at_exit "kill $NSPID"
ns() { nsenter -t "$NSPID" -n -- "$@"; }
ns ip link add fgs type veth peer name fgc

note "an sshd already listening is connected to, not replaced"
ns ip link set fgs up
ns ip addr add 192.0.2.1/24 dev fgs
cat > "$TMP/sshd.py" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22))
s.listen(4)
s.settimeout(60)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-OpenSSH_test\r\n")
    c.recv(256)     # like sshd, read the client's identification before closing
    c.close()
EOF
# nsenter itself, not the function: $! must be the process to kill.
nsenter -t "$NSPID" -n -- python3 "$TMP/sshd.py" > "$TMP/sshd.out" 2>&1 & SSHD=$!
at_exit "kill $SSHD 2>/dev/null"
for _ in $(seq 300); do grep -q ready "$TMP/sshd.out" && break; sleep 0.1; done
grep -q ready "$TMP/sshd.out" || fail "the stand-in sshd did not start"
set +e
ns "$TOOL" -t 1000 /dev/null 22 80 > "$TMP/sshd-probe.out" 2>&1; rc=$?
set -e
sed "s/^/  sshd| /" "$TMP/sshd-probe.out"
want_rc sshd-probe 0
want sshd-probe 'message: port 22 is reachable from 198.51.100.77: the server already listening there answered'
want sshd-probe 'message: port 80 is reachable from 198.51.100.77: connection and data both ways'
kill "$SSHD"; wait "$SSHD" 2>/dev/null || true
# The address was there before the probe: it stays.
addrs=$(ns ip -o addr show dev fgs)
grep -q "192.0.2.1/24" <<< "$addrs" || fail "the probe removed an address it did not add"
ns ip addr del 192.0.2.1/24 dev fgs

note "12: the ruleset is byte-identical after the probe, blocked or not; links, addresses, routes come back"
cat "$TMP/c1.nft" "$TMP/c9.nft" | ns nft -f -
ns nft list ruleset > "$TMP/before.txt"
ns ip -o link show > "$TMP/links-before.txt"
for args in "22 80" "-6 22" "22"; do
        set +e
        # shellcheck disable=SC2086
        ns "$TOOL" -t 1000 /dev/null $args > "$TMP/p12.out" 2>&1; rc=$?
        set -e
        sed "s/^/  12($args)| /" "$TMP/p12.out"
        [ "$rc" = 3 ] || fail "12 ($args): exit $rc, want 3"
        ns nft list ruleset > "$TMP/after.txt"
        same "$TMP/before.txt" "$TMP/after.txt" "12 ($args): the ruleset changed"
        ns ip -o link show | sed -E 's/ (state|qdisc) [A-Z_-]+//g; s/<[^>]*>//' > "$TMP/links-after.txt"
        sed -E 's/ (state|qdisc) [A-Z_-]+//g; s/<[^>]*>//' "$TMP/links-before.txt" > "$TMP/links-before-n.txt"
        same "$TMP/links-before-n.txt" "$TMP/links-after.txt" "12 ($args): the links changed"
        addrs=$(ns ip -o addr show)
        ! grep -qE "192\.0\.2\.1|2001:db8::1/|198\.51\.100\.77|2001:db8:ffff::77" <<< "$addrs" ||
                fail "12 ($args): a probe address was left behind: $addrs"
        routes=$(ns ip route show; ns ip -6 route show)
        ! grep -qE "198\.51\.100\.77|2001:db8:ffff::77" <<< "$routes" ||
                fail "12 ($args): a route to the client was left behind: $routes"
done
want p12 'message: port 22 is blocked by arp f input: rule `drop` (ARP: SSH needs ARP to reach the host; the TCP guard does not cover it)'

note "12: the trace tables vanish with a probe killed in the middle"
set +e
nsenter -t "$NSPID" -n -- "$TOOL" -t 8000 /dev/null 22 > /dev/null 2>&1 & TPID=$!
set -e
traced() { grep -q fwguard-probe-trace <<< "$(ns nft list tables)"; }
for _ in $(seq 400); do traced && break; sleep 0.05; done
traced || fail "the probe's trace tables never appeared"
kill -KILL "$TPID"
wait "$TPID" 2>/dev/null || true
ns nft list ruleset > "$TMP/after-kill.txt"
same "$TMP/before.txt" "$TMP/after-kill.txt" "the killed probe left its trace tables"
echo ok

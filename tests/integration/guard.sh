#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# guard.sh — the SSH guard in real rulesets: where it goes, what nft and
# iptables-nft show of it, that guarding is idempotent, that look-alikes are
# left alone, and that real SSH packets pass it in every family and hook.
# Rulesets are built in fresh namespaces, saved with `fwguard save`, guarded
# with guard-tool (guard_table() on a snapshot) and restored with
# `fwguard restore` into other fresh namespaces.
. "$SRCDIR/tests/lib/common.sh"
need_root

GT="${BUILDDIR:?}/tests/integration/guard-tool"
[ -x "$GT" ] || fail "no guard-tool at $GT"
FEATURES="$SRCDIR/tests/kernel-features"
for f in veth netdev-egress inet-ingress; do
        probe=$(awk -F'\t' -v n="$f" '$1 == n { sub(/^[^\t]*\t/, ""); print; exit }' "$FEATURES")
        in_netns sh -c "$probe" >/dev/null 2>&1 || skip "kernel-feature $f"
done
export FWGUARD TMP

G='comment "fwguard ssh guard"'

# ---------------------------------------------------------------- (1) nft families
# Base chains of every family and hook that carries TCP, plus the look-alikes
# of (4): a rule with the guard's comment on port 23, a user's rule whose
# comment only mentions fwguard, and a real guard (with counts) that someone
# moved down its chain.
cat >"$TMP/rules.nft" <<'NFT'
table inet filter {
        set allowed {
                type ipv4_addr
                elements = { 192.0.2.1 }
        }
        chain ingress {
                type filter hook ingress device "vg0" priority 0; policy accept;
        }
        chain prerouting {
                type filter hook prerouting priority raw; policy accept;
                tcp dport 8080 drop
        }
        chain input {
                type filter hook input priority filter; policy drop;
                tcp dport 23 counter accept comment "fwguard ssh guard"
                tcp dport 22 accept comment "fwguard ssh guard (mine)"
                ct state established,related accept
                ip saddr @allowed accept
                jump sub
        }
        chain forward {
                type filter hook forward priority filter; policy drop;
                counter
        }
        chain output {
                type filter hook output priority filter; policy accept;
                tcp sport 8080 drop
        }
        chain postrouting {
                type filter hook postrouting priority 100; policy accept;
        }
        chain sub {
                udp dport 53 accept
        }
}
table ip nat {
        chain pre {
                type nat hook prerouting priority dstnat; policy accept;
                tcp dport 2222 redirect to :22
        }
        chain in {
                type nat hook input priority 100; policy accept;
        }
        chain out {
                type nat hook output priority -100; policy accept;
        }
        chain post {
                type nat hook postrouting priority srcnat; policy accept;
                oifname "vg0" masquerade
        }
}
table ip6 mangle {
        chain pre {
                type filter hook prerouting priority mangle; policy accept;
        }
        chain in {
                type filter hook input priority mangle; policy accept;
                icmpv6 type nd-neighbor-solicit accept
                tcp dport 22 counter packets 5 bytes 300 accept comment "fwguard ssh guard"
                tcp dport 80 accept
        }
        chain forward {
                type filter hook forward priority mangle; policy accept;
        }
        chain out {
                type route hook output priority mangle; policy accept;
                meta mark set 1
        }
        chain post {
                type filter hook postrouting priority mangle; policy accept;
        }
}
table netdev edge {
        chain in {
                type filter hook ingress device "vg0" priority 0; policy accept;
                ether type arp accept
        }
        chain out {
                type filter hook egress device "vg0" priority 0; policy accept;
        }
}
table bridge br {
        chain pre {
                type filter hook prerouting priority 0; policy accept;
        }
        chain in {
                type filter hook input priority 0; policy accept;
        }
        chain forward {
                type filter hook forward priority 0; policy accept;
                ether type vlan drop
        }
        chain out {
                type filter hook output priority 0; policy accept;
        }
        chain post {
                type filter hook postrouting priority 0; policy accept;
        }
}
table arp a {
        chain in {
                type filter hook input priority 0; policy accept;
                counter
        }
}
NFT

# What the guarded ruleset must be, written by hand: a guard at the head of
# each base chain on prerouting, input and ingress (tcp dport 22) and on
# output, postrouting and egress (tcp sport 22); nothing in forward chains,
# regular chains or arp; the moved guard back at the head with its counts;
# everything else as it was.
cat >"$TMP/want.nft" <<NFT
table inet filter {
        set allowed {
                type ipv4_addr
                elements = { 192.0.2.1 }
        }
        chain ingress {
                type filter hook ingress device "vg0" priority 0; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
        }
        chain prerouting {
                type filter hook prerouting priority raw; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
                tcp dport 8080 drop
        }
        chain input {
                type filter hook input priority filter; policy drop;
                meta l4proto tcp tcp dport 22 counter accept $G
                tcp dport 23 counter accept comment "fwguard ssh guard"
                tcp dport 22 accept comment "fwguard ssh guard (mine)"
                ct state established,related accept
                ip saddr @allowed accept
                jump sub
        }
        chain forward {
                type filter hook forward priority filter; policy drop;
                counter
        }
        chain output {
                type filter hook output priority filter; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
                tcp sport 8080 drop
        }
        chain postrouting {
                type filter hook postrouting priority 100; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
        }
        chain sub {
                udp dport 53 accept
        }
}
table ip nat {
        chain pre {
                type nat hook prerouting priority dstnat; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
                tcp dport 2222 redirect to :22
        }
        chain in {
                type nat hook input priority 100; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
        }
        chain out {
                type nat hook output priority -100; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
        }
        chain post {
                type nat hook postrouting priority srcnat; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
                oifname "vg0" masquerade
        }
}
table ip6 mangle {
        chain pre {
                type filter hook prerouting priority mangle; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
        }
        chain in {
                type filter hook input priority mangle; policy accept;
                meta l4proto tcp tcp dport 22 counter packets 5 bytes 300 accept $G
                icmpv6 type nd-neighbor-solicit accept
                tcp dport 80 accept
        }
        chain forward {
                type filter hook forward priority mangle; policy accept;
        }
        chain out {
                type route hook output priority mangle; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
                meta mark set 1
        }
        chain post {
                type filter hook postrouting priority mangle; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
        }
}
table netdev edge {
        chain in {
                type filter hook ingress device "vg0" priority 0; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
                ether type arp accept
        }
        chain out {
                type filter hook egress device "vg0" priority 0; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
        }
}
table bridge br {
        chain pre {
                type filter hook prerouting priority 0; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
        }
        chain in {
                type filter hook input priority 0; policy accept;
                meta l4proto tcp tcp dport 22 counter accept $G
        }
        chain forward {
                type filter hook forward priority 0; policy accept;
                ether type vlan drop
        }
        chain out {
                type filter hook output priority 0; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
        }
        chain post {
                type filter hook postrouting priority 0; policy accept;
                meta l4proto tcp tcp sport 22 counter accept $G
        }
}
table arp a {
        chain in {
                type filter hook input priority 0; policy accept;
                counter
        }
}
NFT

VETH='ip link add vg0 type veth peer name vg1'
in_netns sh -c "$VETH && nft -f '$TMP/rules.nft' && '$FWGUARD' save '$TMP/s.fwg'" || fail "cannot build the nft ruleset"
in_netns sh -c "$VETH && nft -f '$TMP/want.nft' && nft list ruleset" >"$TMP/want.txt" || fail "cannot list the expected ruleset"

note "(1) every base chain of every family gets the guard at its head; nothing else changes"
"$GT" "$TMP/s.fwg" "$TMP/g.fwg" 2>"$TMP/gt.err" || fail "guard-tool: $(cat "$TMP/gt.err")"
grep -qx changed "$TMP/gt.err" || fail "guarding an unguarded ruleset reported no change"
in_netns sh -c "$VETH && '$FWGUARD' restore '$TMP/g.fwg' && nft list ruleset" >"$TMP/got.txt" \
        || fail "cannot restore the guarded snapshot"
same "$TMP/want.txt" "$TMP/got.txt" "the guarded ruleset is not the expected one"
# The exact text nft shows, once per guarded chain (and once more for the moved one).
n_in=$(grep -cxF $'\t\ttcp dport 22 counter packets 0 bytes 0 accept comment "fwguard ssh guard"' "$TMP/got.txt" || true)
n_out=$(grep -cxF $'\t\ttcp sport 22 counter packets 0 bytes 0 accept comment "fwguard ssh guard"' "$TMP/got.txt" || true)
[ "$n_in" = 9 ] && [ "$n_out" = 9 ] || fail "expected 9+1 dport and 9 sport guards, got $n_in and $n_out"
grep -qxF $'\t\ttcp dport 22 counter packets 5 bytes 300 accept comment "fwguard ssh guard"' "$TMP/got.txt" \
        || fail "the moved guard lost its counter"
"$FWGUARD" show "$TMP/g.fwg" >"$TMP/shown.txt" || fail "fwguard show failed"
same "$TMP/want.txt" "$TMP/shown.txt" "fwguard show of the guarded snapshot differs"

note "(4) look-alikes stay: comment on port 23, a comment that only mentions fwguard"
grep -qxF $'\t\ttcp dport 23 counter packets 0 bytes 0 accept comment "fwguard ssh guard"' "$TMP/got.txt" \
        || fail "the port-23 rule with the guard's comment was removed"
grep -qxF $'\t\ttcp dport 22 accept comment "fwguard ssh guard (mine)"' "$TMP/got.txt" \
        || fail "the user's rule mentioning fwguard was removed"

note "(3) guarding twice changes nothing, byte for byte, also after a trip through the kernel"
"$GT" "$TMP/g.fwg" "$TMP/g2.fwg" 2>"$TMP/gt.err" || fail "guard-tool: $(cat "$TMP/gt.err")"
grep -qx unchanged "$TMP/gt.err" || fail "guarding a guarded snapshot reported a change"
cmp "$TMP/g.fwg" "$TMP/g2.fwg" || fail "guarding a guarded snapshot changed its bytes"
"$FWGUARD" show "$TMP/g2.fwg" >"$TMP/shown2.txt" || fail "fwguard show failed"
same "$TMP/shown.txt" "$TMP/shown2.txt" "guarding twice changed the listing"
in_netns sh -c "$VETH && '$FWGUARD' restore '$TMP/g.fwg' && '$FWGUARD' save '$TMP/k.fwg'" || fail "kernel round trip"
"$GT" "$TMP/k.fwg" "$TMP/k2.fwg" 2>"$TMP/gt.err" || fail "guard-tool: $(cat "$TMP/gt.err")"
grep -qx unchanged "$TMP/gt.err" || fail "the kernel's copy of the guards is not recognised"
cmp "$TMP/k.fwg" "$TMP/k2.fwg" || fail "guarding the kernel's guarded ruleset changed its bytes"

note "(1b) only the named tables are guarded; guard_chain() guards one chain of another table"
"$GT" -c bridge:br:out "$TMP/s.fwg" "$TMP/t.fwg" inet:filter 2>/dev/null || fail "guard-tool with tables"
"$FWGUARD" show "$TMP/t.fwg" >"$TMP/t.txt" || fail "fwguard show failed"
awk '/^table /{t=$2" "$3} /fwguard ssh guard"$/ && !/dport 23/{print t}' "$TMP/t.txt" | sort | uniq -c \
        | awk '{print $1, $2, $3}' >"$TMP/t.count"
# inet filter: ingress, prerouting, input, output, postrouting; bridge br: out (-c);
# ip6 mangle is not named and keeps only the guard it had.
same <(printf '1 bridge br\n5 inet filter\n1 ip6 mangle\n') "$TMP/t.count" "guards outside the named tables"

# ---------------------------------------------------------------- (2) iptables-nft
note "(2) iptables-nft tables: iptables -S and iptables-save work and show the guard first"
in_netns sh -c "
        iptables -P INPUT DROP &&
        iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
        iptables -A INPUT -p tcp --dport 80 -j ACCEPT &&
        iptables -A OUTPUT -p tcp --sport 8080 -j DROP &&
        iptables -t nat -A PREROUTING -p tcp --dport 2222 -j REDIRECT --to-ports 22 &&
        ip6tables -P INPUT DROP &&
        ip6tables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT &&
        ip6tables -A OUTPUT -p tcp --sport 8080 -j DROP &&
        '$FWGUARD' save '$TMP/x.fwg'" || fail "cannot build the iptables ruleset"
"$GT" -s 10.0.0.0/8 -s 192.0.2.0/25 -s 2001:db8::/33 "$TMP/x.fwg" "$TMP/xs.fwg" 2>/dev/null || fail "guard-tool -s"
"$GT" "$TMP/x.fwg" "$TMP/xg.fwg" 2>/dev/null || fail "guard-tool"
# 2>&1: a refused chain ("incompatible, use 'nft' tool") would show up here.
iptables_views() {
        in_netns sh -c "'$FWGUARD' restore '$1' && iptables -S 2>&1 && iptables -t nat -S 2>&1 &&
                        ip6tables -S 2>&1 && iptables-save 2>&1 && ip6tables-save 2>&1 &&
                        iptables -A INPUT -p tcp --dport 443 -j ACCEPT && iptables -S INPUT 2>&1" | grep -v '^#'
}
cat >"$TMP/xt.want" <<'XT'
-P INPUT DROP
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 8080 -j DROP
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A PREROUTING -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A PREROUTING -p tcp -m tcp --dport 2222 -j REDIRECT --to-ports 22
-P INPUT DROP
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 8080 -j DROP
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 8080 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A PREROUTING -p tcp -m tcp --dport 2222 -j REDIRECT --to-ports 22
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 8080 -j DROP
COMMIT
-P INPUT DROP
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
XT
iptables_views "$TMP/xg.fwg" >"$TMP/xt.got" || fail "iptables cannot read the guarded tables"
same "$TMP/xt.want" "$TMP/xt.got" "iptables' view of the guarded tables"

note "(2b) with a source restriction: -s A/M per network of the table's family"
cat >"$TMP/xts.want" <<'XT'
-P INPUT DROP
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -s 192.0.2.0/25 -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 8080 -j DROP
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A PREROUTING -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A PREROUTING -s 192.0.2.0/25 -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A PREROUTING -p tcp -m tcp --dport 2222 -j REDIRECT --to-ports 22
-P INPUT DROP
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -s 2001:db8::/33 -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT
-A OUTPUT -p tcp -m tcp --sport 8080 -j DROP
XT
iptables_views "$TMP/xs.fwg" | sed -n '1,23p' >"$TMP/xts.got" || fail "iptables cannot read the guarded tables"
same "$TMP/xts.want" "$TMP/xts.got" "iptables' view of the source-restricted guard"

# ---------------------------------------------------------------- (5) real packets
# A server namespace (a bridge br0 over veth vS) and a client namespace. Every
# base chain of every family on the way to and from the server drops TCP;
# with the guard, SSH's port passes (IPv4 and IPv6) and 8080 stays blocked, and
# every guard counted packets: meta l4proto and the transport header work in
# netdev ingress/egress and on the bridge hooks as in ip/ip6/inet.
note "(5) real TCP through netdev ingress/egress, bridge, inet, ip and ip6 chains"
cat >"$TMP/srv.py" <<'PY'
import socket, sys, threading
def serve(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.sendall(b"pong:" + c.recv(64)); c.close()
for fam, a in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for p in (22, 8080):
        threading.Thread(target=serve, args=(fam, a, p), daemon=True).start()
open(sys.argv[1], "w").close()
threading.Event().wait()
PY
cat >"$TMP/cli.py" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(1.5)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); s.sendall(b"ping")
    sys.exit(0 if s.recv(64) == b"pong:ping" else 1)
except OSError:
    sys.exit(1)
PY
cat >"$TMP/drop.nft" <<'NFT'
table netdev edge {
        chain in { type filter hook ingress device "vS" priority 0; meta l4proto tcp drop; }
        chain out { type filter hook egress device "vS" priority 0; meta l4proto tcp drop; }
}
table bridge br {
        chain pre { type filter hook prerouting priority 0; meta l4proto tcp drop; }
        chain in { type filter hook input priority 0; meta l4proto tcp drop; }
        chain out { type filter hook output priority 0; meta l4proto tcp drop; }
        chain post { type filter hook postrouting priority 0; meta l4proto tcp drop; }
}
table inet filter {
        chain ingress { type filter hook ingress device "br0" priority 0; meta l4proto tcp drop; }
        chain pre { type filter hook prerouting priority 0; meta l4proto tcp drop; }
        chain in { type filter hook input priority 0; meta l4proto tcp drop; }
        chain out { type filter hook output priority 0; meta l4proto tcp drop; }
        chain post { type filter hook postrouting priority 0; meta l4proto tcp drop; }
}
table ip v4 {
        chain in { type filter hook input priority 10; meta l4proto tcp drop; }
        chain out { type filter hook output priority 10; meta l4proto tcp drop; }
}
table ip6 v6 {
        chain in { type filter hook input priority 10; meta l4proto tcp drop; }
        chain out { type filter hook output priority 10; meta l4proto tcp drop; }
}
NFT
# Holders of the two namespaces (netns_holder waits until each really is a
# new namespace: before that, nsenter would reach the host's).
SRV=$(netns_holder) || fail "no namespace holder"
at_exit "kill $SRV"
CLI=$(netns_holder) || fail "no namespace holder"
at_exit "kill $CLI"
S() { nsenter -t "$SRV" -n -- "$@"; }
C() { nsenter -t "$CLI" -n -- "$@"; }
S ip link add vS type veth peer name vC netns "$CLI"
S ip link add br0 type bridge
S ip link set vS master br0
S ip addr add 192.0.2.1/24 dev br0
S ip addr add 2001:db8::1/64 dev br0 nodad
C ip addr add 192.0.2.2/24 dev vC
C ip addr add 2001:db8::2/64 dev vC nodad
for l in lo vS br0; do S ip link set "$l" up; done
for l in lo vC; do C ip link set "$l" up; done
nsenter -t "$SRV" -n -- python3 "$TMP/srv.py" "$TMP/srv.ready" >"$TMP/srv.log" 2>&1 & SRVPY=$!
at_exit "kill $SRVPY"
for _ in $(seq 50); do [ -e "$TMP/srv.ready" ] && break; sleep 0.1; done
[ -e "$TMP/srv.ready" ] || fail "the test server did not start"
reach() { C python3 "$TMP/cli.py" "$1" "$2"; }

S nft -f "$TMP/drop.nft" || fail "cannot load the dropping ruleset"
reach 192.0.2.1 22 && fail "the dropping ruleset lets SSH through unguarded: the test proves nothing"
S "$FWGUARD" save "$TMP/d.fwg" || fail "save"
"$GT" "$TMP/d.fwg" "$TMP/dg.fwg" 2>/dev/null || fail "guard-tool"
S "$FWGUARD" restore "$TMP/dg.fwg" || fail "restore of the guarded ruleset"
for a in 192.0.2.1 2001:db8::1; do
        reach "$a" 22 || fail "SSH's port is blocked at $a despite the guard"
        reach "$a" 8080 && fail "port 8080 at $a passes: the guard lets through more than SSH"
done
S nft list ruleset >"$TMP/counted.txt"
n_guards=$(grep -c 'fwguard ssh guard' "$TMP/counted.txt" || true)
[ "$n_guards" = 15 ] || fail "expected 15 guards in the live ruleset, found $n_guards"
if grep 'fwguard ssh guard' "$TMP/counted.txt" | grep -q 'packets 0 '; then
        cat "$TMP/counted.txt" >&2
        fail "a guard saw no packet: its hook was not exercised"
fi

note "guard: all checks passed"

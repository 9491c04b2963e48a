#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make-seeds.sh FWGUARD — regenerate fuzz/corpus/snapshot/ from the rulesets
# below, each built in a fresh network namespace and saved with `FWGUARD save`.
# Small on purpose (the fuzzer mutates every byte), and together they cover
# every object type and most expressions, with iptables-nft rules for the
# xtables compat expressions. Run as root; nothing touches the host.
set -euo pipefail
FWGUARD=$(realpath "${1:?usage: make-seeds.sh FWGUARD}")
OUT=$(dirname "$(realpath "$0")")/corpus/snapshot
mkdir -p "$OUT"

seed() {        # seed NAME: the ruleset on stdin, nft syntax
        local name=$1 rules
        rules=$(cat)
        unshare -n bash -euo pipefail -c 'ip link set lo up; nft -f - <<<"$1"; "$2" save "$3"' \
                _ "$rules" "$FWGUARD" "$OUT/$name.snap"
        echo "$name: $(stat -c %s "$OUT/$name.snap") bytes" >&2
}

seed_sh() {     # seed_sh NAME: a shell script on stdin
        local name=$1 script
        script=$(cat)
        unshare -n bash -euo pipefail -c 'ip link set lo up; eval "$1"; "$2" save "$3"' \
                _ "$script" "$FWGUARD" "$OUT/$name.snap"
        echo "$name: $(stat -c %s "$OUT/$name.snap") bytes" >&2
}

seed empty <<<''

seed filter-basic <<'EOF'
table ip filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname "lo" accept
		ip protocol icmp icmp type echo-request limit rate 5/second burst 10 packets accept
		tcp dport { 22, 80, 443 } ct state new counter packets 3 bytes 180 accept
		tcp dport 25 reject with tcp reset
		udp dport 53 reject with icmp type port-unreachable
		log prefix "drop: " level warn flags all counter drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		jump common
		goto common
	}
	chain common {
		meta mark 0x2a return
		ip saddr 192.0.2.0/24 ip daddr != 198.51.100.1 counter continue
	}
}
EOF

seed ip6-and-families <<'EOF'
table ip6 f6 {
	chain input {
		type filter hook input priority 10; policy accept;
		icmpv6 type { nd-neighbor-solicit, nd-router-advert } accept
		ip6 nexthdr tcp tcp flags & (syn | ack) == syn counter
		ip6 saddr fe80::/10 reject with icmpv6 type admin-prohibited
	}
}
table arp a {
	chain in { type filter hook input priority 0; arp operation request counter; }
}
table bridge b {
	chain forward_c { type filter hook forward priority 0; ether type ip6 meta pkttype broadcast drop; }
}
table netdev n {
	chain ingress {
		type filter hook ingress device "lo" priority 0;
		ether saddr 02:00:00:00:00:01 drop
		ip saddr 10.0.0.9 dup to "lo"
		ip saddr 10.0.0.8 fwd to "lo"
	}
}
table ip d {
	chain c {
		type filter hook prerouting priority 0;
		ip saddr 10.0.0.1 dup to 10.0.0.2 device "lo"
	}
}
EOF

seed sets-maps <<'EOF'
table inet sets {
	set allowed {
		type ipv4_addr
		elements = { 192.0.2.1, 192.0.2.7 }
	}
	set nets {
		type ipv4_addr
		flags interval
		comment "private"
		elements = { 10.0.0.0/8, 192.168.1.0-192.168.1.99 }
	}
	set pairs {
		type ipv4_addr . inet_service
		flags interval
		elements = { 10.0.0.1 . 22-23, 10.0.0.2 . 80 }
	}
	set temp {
		type ipv6_addr
		flags timeout
		timeout 1h
		elements = { 2001:db8::1 timeout 10m comment "x" }
	}
	set counted {
		type inet_service
		counter
		elements = { 22 counter packets 1 bytes 60 }
	}
	map ports {
		type inet_service : ipv4_addr
		elements = { 80 : 10.0.0.80, 443 : 10.0.0.43 }
	}
	map verdicts {
		type ifname : verdict
		elements = { "lo" : accept, "eth0" : jump sub }
	}
	chain sub {
		counter
	}
	chain in {
		type filter hook input priority 0;
		ip saddr @allowed accept
		ip saddr . tcp dport @pairs accept
		iifname vmap @verdicts
		ip daddr != @nets counter
		tcp dport { 1000-2000, 3000 } drop
		ip daddr set tcp dport map @ports
	}
}
EOF

seed dynamic-sets <<'EOF'
table inet dyn {
	set seen { type ipv4_addr; flags dynamic,timeout; timeout 5m; size 1024; }
	set meter4 { type ipv4_addr; flags dynamic; size 100; }
	set multi {
		type ipv4_addr
		size 64
		flags dynamic
		limit rate 10/second burst 5 packets
		counter
		elements = { 192.0.2.1 limit rate 10/second burst 5 packets counter packets 4 bytes 240 }
	}
	chain in {
		type filter hook input priority 0;
		tcp flags syn add @seen { ip saddr }
		update @meter4 { ip saddr limit rate 10/second } accept
		update @multi { ip saddr limit rate 10/second burst 5 packets counter }
		ip saddr @seen counter
	}
}
EOF

seed nat <<'EOF'
table ip nat {
	chain pre { type nat hook prerouting priority dstnat; tcp dport 8080 dnat to 10.0.0.2:80; tcp dport 9000-9010 dnat to 10.0.0.3:9100-9110; }
	chain post { type nat hook postrouting priority srcnat; oifname "eth0" masquerade random,persistent; ip saddr 10.1.0.0/16 snat to 192.0.2.1-192.0.2.9; }
	chain out { type nat hook output priority -100; tcp dport 53 redirect to :5353; }
}
table inet nat6 {
	chain pre { type nat hook prerouting priority dstnat; meta nfproto ipv6 tcp dport 80 dnat ip6 to [2001:db8::2]:8080; }
}
EOF

seed objects <<'EOF'
table ip objs {
	counter cnt1 {
		packets 7 bytes 700
	}
	quota q1 {
		over 100 mbytes used 5 mbytes
	}
	limit l1 {
		rate over 10/minute burst 5 packets
	}
	ct helper ftph {
		type "ftp" protocol tcp
		l3proto ip
	}
	ct timeout tmo {
		protocol tcp
		l3proto ip
		policy = { established : 120, close : 10 }
	}
	ct timeout tmu {
		protocol udp
		l3proto ip
		policy = { unreplied : 60, replied : 600 }
	}
	ct expectation exp {
		protocol udp
		dport 5062
		timeout 1m
		size 12
		l3proto ip
	}
	synproxy sp {
		mss 1460
		wscale 7
		timestamp sack-perm
	}
	map bymark {
		type mark : counter
		elements = { 1 : "cnt1" }
	}
	chain in {
		type filter hook input priority 0;
		counter name "cnt1"
		quota name "q1" drop
		limit name "l1" accept
		counter name meta mark map @bymark
		tcp dport 21 ct helper set "ftph"
		tcp dport 8000 ct timeout set "tmo"
		udp dport 5060 ct expectation set "exp"
		tcp dport 80 ct state invalid,untracked synproxy name "sp"
	}
}
EOF

seed expressions <<'EOF'
table inet ex {
	chain pre {
		type filter hook prerouting priority -300;
		tcp dport 22 notrack
		tcp option maxseg size 1200-1500 counter
		tcp option mptcp exists accept
		ip6 nexthdr ipv6-frag counter
		fib daddr type local counter
		fib saddr . iif oif missing drop
		meta l4proto tcp socket transparent 1 meta mark set 0x1
		osf ttl skip name "Linux" counter
		ip protocol tcp tproxy ip to 127.0.0.1:3128
		meta mark set jhash ip saddr mod 4 seed 0xdead
		meta mark set numgen inc mod 2 offset 10
		ct mark set ct mark & 0xffff0000 | 0x00000042
		ip dscp set cs1
		tcp dport set 8080
		meta priority set 1:2
		ip ttl 1-10 counter
		meta skuid 1000 meta cgroup 5 counter
		ipsec in reqid 1 counter
		ct count over 10 counter
	}
	chain forward_c {
		type filter hook forward priority 0;
		ct state new ct direction original ct zone 3 counter
		ip saddr & 255.255.0.0 == 10.1.0.0 counter
		rt mtu 1400 counter
		tcp flags syn tcp option maxseg size set rt mtu
		meta mark set meta mark >> 8
		ct mark set ct mark << 2
	}
}
EOF

seed comments-flags <<'EOF'
table ip dormant {
	comment "off"
	flags dormant
	chain c {
		comment "a chain"
		counter comment "a rule"
	}
}
table inet long_names_are_fine_here_0123456789 {
	chain a_chain_with_a_long_name_abcdefghijklmnopqrstuvwxyz {
		meta nftrace set 1
	}
}
EOF

seed_sh iptables <<'EOF'
iptables-nft -A INPUT -i lo -j ACCEPT
iptables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables-nft -A INPUT -p tcp -m multiport --dports 22,80,443 -m comment --comment web -j ACCEPT
iptables-nft -A INPUT -p udp --dport 53 -m limit --limit 5/s -j LOG --log-prefix "dns: "
iptables-nft -A INPUT -p tcp -m tcp --tcp-flags SYN,RST SYN -m hashlimit --hashlimit-above 10/sec --hashlimit-name h -j REJECT --reject-with tcp-reset
iptables-nft -N custom
iptables-nft -A custom -m mark --mark 0x1/0xff -j RETURN
iptables-nft -A FORWARD -j custom
iptables-nft -t nat -A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE
iptables-nft -t mangle -A PREROUTING -p tcp -j TCPMSS --set-mss 1400
EOF

seed_sh ip6tables <<'EOF'
ip6tables-nft -A INPUT -p ipv6-icmp -j ACCEPT
ip6tables-nft -A INPUT -m state --state NEW -p tcp --dport 22 -j ACCEPT
ip6tables-nft -A INPUT -m recent --name ssh --rcheck --seconds 60 -j DROP
ip6tables-nft -A OUTPUT -o lo -j ACCEPT
ip6tables-nft -P INPUT DROP
EOF

seed_sh arptables-raw <<'EOF'
arptables-nft -A INPUT -s 10.0.0.1 -j DROP
arptables-nft -A OUTPUT --opcode Request -j ACCEPT
iptables-nft -t raw -A PREROUTING -p udp --dport 123 -j CT --notrack
iptables-nft -t mangle -A PREROUTING -m string --algo bm --string "GET /" -j MARK --set-mark 7
iptables-nft -t mangle -A PREROUTING -j CONNMARK --restore-mark
iptables-nft -A FORWARD -m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0x10" -j NFQUEUE --queue-num 2
EOF

seed_sh many-elements <<'EOF'
elems=$(for i in $(seq 1 250); do printf '10.%d.%d.1 : %d, ' $((i / 200)) $((i % 200)) "$i"; done)
nft add table ip big
nft add map ip big m "{ type ipv4_addr : mark; }"
nft add element ip big m "{ ${elems%, } }"
nft add chain ip big c "{ type filter hook input priority 0; }"
nft add rule ip big c meta mark set ip saddr map @m
EOF

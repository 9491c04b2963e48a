# Dynamic sets filled from the packet path: add and update with timeouts,
# per-element counters, limits and quotas (one used up by the traffic, so it
# is dumped as depleted), ct count per element, a map updated from rules.
# Real packets over lo (from documentation addresses) fill them, so the
# elements carry live expirations and counters.
nft -f - <<'NFT'
table inet dyn {
	set seen4 {
		type ipv4_addr
		size 1024
		flags dynamic,timeout
		timeout 10m
	}

	set seen6 {
		type ipv6_addr
		size 1024
		flags dynamic,timeout
		timeout 1h
	}

	set counted {
		type ipv4_addr . inet_service
		size 1024
		flags dynamic
		counter
	}

	set ratelimited {
		type ipv4_addr
		size 1024
		flags dynamic,timeout
		timeout 30s
	}

	set conns {
		type ipv4_addr
		size 1024
		flags dynamic
	}

	set spent {
		type ipv4_addr
		size 1024
		flags dynamic
		quota over 100 bytes
	}

	map last_port {
		type ipv4_addr : inet_service
		size 1024
		flags dynamic,timeout
		timeout 2m
	}

	chain input {
		type filter hook input priority filter; policy accept;
		add @seen4 { ip saddr timeout 1m }
		update @seen6 { ip6 saddr }
		update @counted { ip saddr . udp dport counter }
		update @ratelimited { ip saddr limit rate 100/second burst 10 packets } counter
		add @conns { ip saddr ct count over 100 } drop
		update @last_port { ip saddr : udp dport }
		update @spent { ip saddr quota over 100 bytes }
	}
}
NFT
ip link set lo up
ip addr add 192.0.2.1/32 dev lo
ip addr add 192.0.2.2/32 dev lo
ip addr add 2001:db8::1/128 dev lo nodad
python3 - <<'PY'
import socket
for src, dst, fam in (("192.0.2.1", "192.0.2.1", socket.AF_INET),
                      ("192.0.2.2", "192.0.2.1", socket.AF_INET),
                      ("2001:db8::1", "2001:db8::1", socket.AF_INET6)):
    for port in (5353, 9999):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((src, 0))
        for _ in range(3):
            s.sendto(b"x" * 20, (dst, port))
        s.close()
PY
# Let the last replies (ICMP errors for the closed ports) pass the hooks
# before the ruleset is listed and saved.
sleep 0.3
# Every set must have caught something, or the case tests nothing.
for s in "set seen4" "set seen6" "set counted" "set ratelimited" "set conns" "set spent" "map last_port"; do
	nft list ${s% *} inet dyn ${s#* } | grep -q "elements = " || { echo "$s stayed empty" >&2; exit 1; }
done
nft list set inet dyn spent | grep -q "used 100 bytes" || { echo "no quota was used up" >&2; exit 1; }

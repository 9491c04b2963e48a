# requires: xtables
# iptables-nft tables next to native nft tables, and an iptables table that a
# native nft rule was added to (iptables-nft-save then refuses that table; it
# must refuse it the same way after the round trip).
iptables-nft -w -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
iptables-nft -w -A FORWARD -m comment --comment "from iptables" -j DROP
iptables-nft -w -t nat -A POSTROUTING -o wan0 -j MASQUERADE
ip6tables-nft -w -A INPUT -p tcp --dport 22 -j ACCEPT
nft add rule ip6 filter INPUT ip6 saddr 2001:db8::/32 ct state new counter accept
nft -f - <<'NFT'
table inet native {
	chain input {
		type filter hook input priority filter - 1; policy accept;
		tcp dport 22 counter packets 3 bytes 180
	}
}
table ip native4 {
	set s {
		type ipv4_addr
		elements = { 192.0.2.1 }
	}
	chain c {
		ip saddr @s counter
	}
}
NFT

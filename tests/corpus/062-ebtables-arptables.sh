# requires: ebtables arptables
# ebtables-nft (bridge family) and arptables-nft (arp family) rulesets.
ebt() { ebtables-nft "$@"; }
ebt -P FORWARD DROP
ebt -N MACFILTER -P RETURN
ebt -A FORWARD -p IPv4 --ip-src 192.0.2.0/24 -j ACCEPT
ebt -A FORWARD -p IPv6 --ip6-src 2001:db8::/32 -j ACCEPT
ebt -A FORWARD -p ARP --arp-op Request -j ACCEPT
ebt -A FORWARD -j MACFILTER
ebt -A MACFILTER -s 02:00:00:00:00:01 -j ACCEPT
ebt -A MACFILTER -d 02:00:00:00:00:02/ff:ff:ff:ff:ff:00 -j DROP
ebt -A FORWARD -p 802_1Q --vlan-id 10 -j ACCEPT
ebt -A INPUT -i veth+ --limit 10/second --limit-burst 5 -j ACCEPT
ebt -A INPUT -p IPv4 --ip-proto tcp --ip-dport 22 --log-prefix "ebt ssh" --log-level info -j ACCEPT
ebt -A OUTPUT -o veth0 -j mark --mark-set 0x5 --mark-target ACCEPT
ebt -t nat -A PREROUTING -d 02:00:00:00:00:09 -j dnat --to-dst 02:00:00:00:00:0a --dnat-target ACCEPT
ebt -t nat -A POSTROUTING -s 02:00:00:00:00:0b -j snat --to-src 02:00:00:00:00:0c --snat-target ACCEPT
ebt -t nat -A PREROUTING -p IPv4 --pkttype-type broadcast -j DROP

arpt() { arptables-nft "$@"; }
arpt -P INPUT DROP
arpt -A INPUT -d 192.0.2.1 --opcode Request -j ACCEPT
arpt -A INPUT -s 192.0.2.0/24 --source-mac 02:00:00:00:00:01 -j ACCEPT
arpt -A INPUT -i veth0 -j DROP
arpt -A OUTPUT -o veth0 -j mangle --mangle-ip-s 192.0.2.1
arpt -A OUTPUT -j ACCEPT

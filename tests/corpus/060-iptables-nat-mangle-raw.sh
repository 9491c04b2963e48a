# requires: xtables
# iptables-nft nat, mangle and raw tables: MASQUERADE, SNAT, DNAT, REDIRECT,
# NETMAP, TCPMSS, MARK, CONNMARK, DSCP, TTL, TOS, CLASSIFY, TPROXY, CT,
# NOTRACK, CHECKSUM, owner and mark matches.
ipt() { iptables-nft -w "$@"; }
ipt -t nat -A PREROUTING -i wan0 -p tcp --dport 2222 -j DNAT --to-destination 192.0.2.22:22
ipt -t nat -A PREROUTING -i wan0 -p udp --dport 5000:5010 -j DNAT --to-destination 192.0.2.23-192.0.2.25
ipt -t nat -A PREROUTING -p tcp --dport 3128 -j REDIRECT --to-ports 8080
ipt -t nat -A PREROUTING -d 203.0.113.0/24 -j NETMAP --to 198.51.100.0/24
ipt -t nat -A OUTPUT -d 198.51.100.99 -p tcp -j DNAT --to-destination 127.0.0.1:8080
ipt -t nat -A POSTROUTING -o wan0 -s 192.0.2.0/24 -j MASQUERADE
ipt -t nat -A POSTROUTING -o wan1 -p tcp -j MASQUERADE --to-ports 30000-40000 --random
ipt -t nat -A POSTROUTING -o wan2 -j SNAT --to-source 203.0.113.1-203.0.113.5 --persistent
ipt -t nat -A POSTROUTING -o wan3 -p udp -j SNAT --to-source 203.0.113.6:1024-2048 --random-fully
ipt -t nat -A INPUT -s 192.0.2.250 -j SNAT --to-source 192.0.2.1
ipt -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
ipt -t mangle -A POSTROUTING -o wg0 -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1360
ipt -t mangle -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff
ipt -t mangle -A PREROUTING -m mark ! --mark 0 -j ACCEPT
ipt -t mangle -A PREROUTING -s 192.0.2.0/25 -j MARK --set-mark 0x1
ipt -t mangle -A PREROUTING -s 192.0.2.128/25 -j MARK --set-xmark 0x2/0xff
ipt -t mangle -A PREROUTING -m connmark --mark 0x5/0xff -j MARK --or-mark 0x100
ipt -t mangle -A PREROUTING -j CONNMARK --save-mark
ipt -t mangle -A PREROUTING -p tcp --dport 443 -j TPROXY --on-port 3129 --on-ip 127.0.0.1 --tproxy-mark 0x1/0x1
ipt -t mangle -A OUTPUT -m owner --uid-owner 0 -j MARK --set-mark 0x10
ipt -t mangle -A OUTPUT -p udp --dport 53 -j DSCP --set-dscp-class EF
ipt -t mangle -A OUTPUT -p tcp --dport 22 -j TOS --set-tos Minimize-Delay
ipt -t mangle -A POSTROUTING -o wan0 -j TTL --ttl-set 64
ipt -t mangle -A POSTROUTING -p udp --dport 68 -j CHECKSUM --checksum-fill
ipt -t mangle -A POSTROUTING -j CLASSIFY --set-class 1:10
ipt -t mangle -A INPUT -j CONNMARK --set-mark 0x7/0xf
ipt -t raw -A PREROUTING -p udp --dport 123 -j CT --notrack
ipt -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
ipt -t raw -A PREROUTING -p tcp --dport 8888 -j CT --zone 5
ipt -t raw -A OUTPUT -p udp --sport 123 -j NOTRACK

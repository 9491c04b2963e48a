# requires: xtables
# ip6tables-nft: filter, nat and mangle tables with IPv6 matches (icmp6,
# ipv6header, frag, hl, rt, hbh) and targets (REJECT, MASQUERADE, DNAT,
# SNAT, HL, NPT is left out: it is not in nftables' compat list).
ip6t() { ip6tables-nft -w "$@"; }
ip6t -P INPUT DROP
ip6t -P FORWARD DROP
ip6t -A INPUT -i lo -j ACCEPT
ip6t -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ip6t -A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -m hl --hl-eq 255 -j ACCEPT
ip6t -A INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -m hl --hl-eq 255 -j ACCEPT
ip6t -A INPUT -p ipv6-icmp --icmpv6-type router-advertisement -j ACCEPT
ip6t -A INPUT -p ipv6-icmp --icmpv6-type echo-request -m limit --limit 10/s -j ACCEPT
ip6t -A INPUT -m ipv6header --header frag --soft -j DROP
ip6t -A INPUT -m frag --fragfirst -j DROP
ip6t -A INPUT -m rt --rt-type 0 -j DROP
ip6t -A INPUT -m hbh --hbh-len 0 -j ACCEPT
ip6t -A INPUT -s 2001:db8:1::/48 -p tcp --dport 22 -m comment --comment "admin net" -c 9 720 -j ACCEPT
ip6t -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
ip6t -A INPUT -p udp --sport 547 --dport 546 -s fe80::/10 -j ACCEPT
ip6t -A INPUT -j REJECT --reject-with icmp6-adm-prohibited
ip6t -A FORWARD -i veth0 -o wan0 -s 2001:db8:2::/64 -j ACCEPT
ip6t -A FORWARD -j REJECT --reject-with icmp6-no-route
ip6t -t nat -A POSTROUTING -o wan0 -s 2001:db8:2::/64 -j MASQUERADE
ip6t -t nat -A PREROUTING -d 2001:db8::80 -p tcp --dport 80 -j DNAT --to-destination [2001:db8:1::80]:8080
ip6t -t nat -A POSTROUTING -s 2001:db8:3::/64 -j SNAT --to-source 2001:db8::3
ip6t -t mangle -A POSTROUTING -o wan0 -j HL --hl-set 64
ip6t -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu

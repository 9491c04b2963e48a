# fail2ban's nftables action (action.d/nftables.conf, the default banaction
# "nftables" / "nftables-multiport"): the nft commands that its actionstart
# and actionban run, in their order, for an sshd jail (IPv4 and IPv6) and a
# multiport nginx jail, with banned addresses in the sets.
nft add table inet f2b-table
nft -- add chain inet f2b-table f2b-chain '{ type filter hook input priority -1 ; }'
# jail sshd, port ssh, protocol tcp, blocktype reject
nft add set inet f2b-table addr-set-sshd '{ type ipv4_addr ; flags interval ; }'
for proto in tcp; do
	nft add rule inet f2b-table f2b-chain $proto dport '{ ssh }' ip saddr @addr-set-sshd reject
done
nft add set inet f2b-table addr6-set-sshd '{ type ipv6_addr ; flags interval ; }'
for proto in tcp; do
	nft add rule inet f2b-table f2b-chain $proto dport '{ ssh }' ip6 saddr @addr6-set-sshd reject
done
# jail nginx-http-auth, port http,https
nft add set inet f2b-table addr-set-nginx-http-auth '{ type ipv4_addr ; flags interval ; }'
for proto in tcp; do
	nft add rule inet f2b-table f2b-chain $proto dport '{ http,https }' ip saddr @addr-set-nginx-http-auth reject
done
# actionban, one command per ban
for ip in 192.0.2.13 192.0.2.77 198.51.100.200 203.0.113.0/24 198.51.100.201; do
	nft add element inet f2b-table addr-set-sshd "{ $ip }"
done
for ip in 2001:db8::bad 2001:db8:1::/64; do
	nft add element inet f2b-table addr6-set-sshd "{ $ip }"
done
nft add element inet f2b-table addr-set-nginx-http-auth '{ 203.0.113.99 }'
# actionunban
nft delete element inet f2b-table addr-set-sshd '{ 198.51.100.200 }'

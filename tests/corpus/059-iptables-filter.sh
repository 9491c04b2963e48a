# requires: xtables xt-hashlimit
# iptables-nft filter table as a hand-written host firewall writes it:
# xtables matches (conntrack, state, multiport, comment, recent, limit,
# hashlimit, connlimit, addrtype, pkttype, mac, length, string, u32, time,
# statistic, tcpmss, iprange, owner) and targets (LOG, REJECT, NFLOG), user
# chains, policies, and rules inserted with counters (-c).
ipt() { iptables-nft -w "$@"; }
ipt -P INPUT DROP
ipt -P FORWARD DROP
ipt -N SSH_CHECK
ipt -N LOGDROP
ipt -A INPUT -i lo -j ACCEPT
ipt -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -c 1000 640000 -j ACCEPT
ipt -A INPUT -m conntrack --ctstate INVALID -j DROP
ipt -A INPUT -m state --state NEW -p udp --dport 53 -j ACCEPT
ipt -A INPUT -p tcp -m multiport --dports 80,443,8000:8080 -m comment --comment "web servers" -c 77 4620 -j ACCEPT
ipt -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j SSH_CHECK
ipt -A SSH_CHECK -m recent --name ssh --set --rsource
ipt -A SSH_CHECK -m recent --name ssh --update --seconds 60 --hitcount 4 --rsource -j LOGDROP
ipt -A SSH_CHECK -s 192.0.2.0/24 -j ACCEPT
ipt -A SSH_CHECK -m iprange --src-range 198.51.100.10-198.51.100.20 -j ACCEPT
ipt -A SSH_CHECK -j RETURN
ipt -A LOGDROP -m limit --limit 5/min --limit-burst 10 -j LOG --log-prefix "iptables drop: " --log-level 4 --log-tcp-options --log-ip-options
ipt -A LOGDROP -j NFLOG --nflog-group 5 --nflog-prefix "dropped"
ipt -A LOGDROP -j DROP
ipt -A INPUT -p icmp --icmp-type echo-request -m limit --limit 5/sec --limit-burst 10 -j ACCEPT
ipt -A INPUT -p icmp --icmp-type 3/4 -j ACCEPT
ipt -A INPUT -p tcp --dport 25 -m hashlimit --hashlimit-above 10/min --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name smtp -j DROP
ipt -A INPUT -p tcp --dport 80 -m connlimit --connlimit-above 50 --connlimit-mask 32 -j REJECT --reject-with tcp-reset
ipt -A INPUT -p tcp --tcp-flags SYN,RST SYN -m tcpmss ! --mss 536:65535 -j DROP
ipt -A INPUT -p tcp --tcp-flags ALL NONE -j DROP
ipt -A INPUT -p tcp ! --syn -m conntrack --ctstate NEW -j DROP
ipt -A INPUT -m addrtype --dst-type BROADCAST -j DROP
ipt -A INPUT -m pkttype --pkt-type multicast -j DROP
ipt -A INPUT -m mac --mac-source 02:00:00:00:00:01 -j ACCEPT
ipt -A INPUT -p udp -m length --length 0:28 -j DROP
ipt -A INPUT -p tcp --dport 8081 -m string --string "GET /admin" --algo bm --to 200 -j DROP
ipt -A INPUT -m u32 --u32 "6&0xFF=1" -j ACCEPT
ipt -A INPUT -p tcp --dport 3389 -m time --timestart 08:00 --timestop 17:00 --weekdays Mon,Tue,Wed,Thu,Fri -j ACCEPT
ipt -A INPUT -p udp --dport 161 -m statistic --mode random --probability 0.25 -j ACCEPT
ipt -A INPUT -p udp --dport 162 -m statistic --mode nth --every 3 --packet 1 -j ACCEPT
ipt -A INPUT -s 203.0.113.0/24 -j REJECT --reject-with icmp-net-prohibited
ipt -A INPUT -p tcp -j REJECT --reject-with tcp-reset
ipt -A INPUT -c 3 180 -j REJECT --reject-with icmp-host-prohibited
ipt -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -A FORWARD -i veth0 -o wan0 -s 192.0.2.0/24 -j ACCEPT
ipt -A OUTPUT -m owner --uid-owner 0 -j ACCEPT
ipt -A OUTPUT -m owner --gid-owner 1000 -p tcp --dport 25 -j REJECT
ipt -A OUTPUT -m owner ! --uid-owner 1000-1999 -j ACCEPT
ipt -I INPUT 2 -s 198.51.100.99/32 -m comment --comment "inserted at position 2" -j DROP

# requires: xtables
# iptables-nft-restore -c and ip6tables-nft-restore -c: chain policy counters
# and rule counters loaded from a saved file, as a reboot-persistence
# service (netfilter-persistent, iptables.service) restores them.
iptables-nft-restore -c <<'IPT'
*filter
:INPUT DROP [12345:987654]
:FORWARD DROP [7:420]
:OUTPUT ACCEPT [99999:12345678]
:ALLOWED - [0:0]
[5000:300000] -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[10:600] -A INPUT -i lo -j ACCEPT
[3:180] -A INPUT -p tcp -m tcp --dport 22 -j ALLOWED
[0:0] -A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
[2:120] -A ALLOWED -s 192.0.2.0/24 -j ACCEPT
[1:60] -A ALLOWED -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [100:6000]
:INPUT ACCEPT [50:3000]
:OUTPUT ACCEPT [20:1200]
:POSTROUTING ACCEPT [30:1800]
[4:240] -A POSTROUTING -s 192.0.2.0/24 -o wan0 -j MASQUERADE
COMMIT
*mangle
:PREROUTING ACCEPT [1:1]
:INPUT ACCEPT [2:2]
:FORWARD ACCEPT [3:3]
:OUTPUT ACCEPT [4:4]
:POSTROUTING ACCEPT [5:5]
[6:6] -A PREROUTING -j CONNMARK --restore-mark
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
[8:8] -A PREROUTING -p udp -m udp --dport 123 -j CT --notrack
COMMIT
IPT
ip6tables-nft-restore -c <<'IPT'
*filter
:INPUT DROP [42:4200]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [43:4300]
[40:4000] -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[1:80] -A INPUT -p ipv6-icmp -j ACCEPT
[1:72] -A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
IPT

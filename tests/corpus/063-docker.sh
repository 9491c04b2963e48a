# requires: xtables
# Docker's iptables-nft chains, issued as dockerd issues them for the default
# bridge, a user-defined network and two published ports (documentation and
# benchmark ranges stand in for 172.17.0.0/16 and 172.18.0.0/16).
ipt() { iptables-nft -w "$@"; }
BR=198.18.0.0/16; C1=198.18.0.2; UBR=198.19.0.0/16; C2=198.19.0.3

ipt -t nat -N DOCKER
ipt -t filter -N DOCKER
ipt -t filter -N DOCKER-ISOLATION-STAGE-1
ipt -t filter -N DOCKER-ISOLATION-STAGE-2
ipt -t filter -N DOCKER-USER
ipt -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
ipt -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
ipt -t nat -I POSTROUTING -s $BR ! -o docker0 -j MASQUERADE
ipt -t nat -I DOCKER -i docker0 -j RETURN
ipt -t filter -A FORWARD -j DOCKER-USER
ipt -t filter -A DOCKER-USER -j RETURN
ipt -t filter -I FORWARD -o docker0 -j DOCKER
ipt -t filter -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -t filter -I FORWARD -i docker0 ! -o docker0 -j ACCEPT
ipt -t filter -I FORWARD -i docker0 -o docker0 -j ACCEPT
ipt -t filter -I FORWARD -j DOCKER-ISOLATION-STAGE-1
ipt -t filter -I DOCKER-ISOLATION-STAGE-1 -j RETURN
ipt -t filter -I DOCKER-ISOLATION-STAGE-2 -j RETURN
ipt -t filter -I DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
ipt -t filter -I DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
# A user-defined network, as "docker network create" adds it.
ipt -t nat -I POSTROUTING -s $UBR ! -o br-0123456789ab -j MASQUERADE
ipt -t nat -I DOCKER -i br-0123456789ab -j RETURN
ipt -t filter -I FORWARD -o br-0123456789ab -j DOCKER
ipt -t filter -I FORWARD -o br-0123456789ab -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
ipt -t filter -I FORWARD -i br-0123456789ab ! -o br-0123456789ab -j ACCEPT
ipt -t filter -I FORWARD -i br-0123456789ab -o br-0123456789ab -j ACCEPT
ipt -t filter -I DOCKER-ISOLATION-STAGE-1 -i br-0123456789ab ! -o br-0123456789ab -j DOCKER-ISOLATION-STAGE-2
ipt -t filter -I DOCKER-ISOLATION-STAGE-2 -o br-0123456789ab -j DROP
# docker run -p 8080:80 (default bridge) and -p 127.0.0.1:5432:5432 (user network)
ipt -t filter -A DOCKER -d $C1/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
ipt -t nat -A POSTROUTING -s $C1/32 -d $C1/32 -p tcp -m tcp --dport 80 -j MASQUERADE
ipt -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination $C1:80
ipt -t filter -A DOCKER -d $C2/32 ! -i br-0123456789ab -o br-0123456789ab -p tcp -m tcp --dport 5432 -j ACCEPT
ipt -t nat -A POSTROUTING -s $C2/32 -d $C2/32 -p tcp -m tcp --dport 5432 -j MASQUERADE
ipt -t nat -A DOCKER -d 127.0.0.1/32 ! -i br-0123456789ab -p tcp -m tcp --dport 5432 -j DNAT --to-destination $C2:5432
# What an admin puts into DOCKER-USER.
ipt -t filter -I DOCKER-USER -i wan0 ! -s 192.0.2.0/24 -j DROP
ipt -t filter -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN

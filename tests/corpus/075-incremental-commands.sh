# A ruleset grown by single nft commands as an admin types them: add,
# insert at the head, insert/add relative to a handle, replace by handle,
# delete by handle, rename a chain, and a set edited element by element.
# Rule order and handles then differ from a file load.
nft add table inet admin
nft add chain inet admin input '{ type filter hook input priority 0; policy accept; }'
nft add chain inet admin old_name
nft add rule inet admin input tcp dport 22 accept
nft add rule inet admin input tcp dport 80 accept
nft insert rule inet admin input ct state established,related accept
nft add rule inet admin input udp dport 53 accept
h80=$(nft -a list chain inet admin input | awk '/tcp dport 80 accept/ { print $NF }')
h53=$(nft -a list chain inet admin input | awk '/udp dport 53 accept/ { print $NF }')
nft insert rule inet admin input position "$h80" tcp dport 443 accept
nft add rule inet admin input position "$h80" tcp dport 8080 accept
nft replace rule inet admin input handle "$h53" udp dport 853 counter accept
h22=$(nft -a list chain inet admin input | awk '/tcp dport 22 accept/ { print $NF }')
nft delete rule inet admin input handle "$h22"
nft rename chain inet admin old_name new_name
nft add rule inet admin new_name counter return
nft add rule inet admin input jump new_name
nft add set inet admin hosts '{ type ipv4_addr; }'
for i in 1 2 3 4 5 6; do nft add element inet admin hosts "{ 192.0.2.$i }"; done
nft delete element inet admin hosts '{ 192.0.2.3 }'
nft add rule inet admin input ip saddr @hosts accept
nft add table ip later
nft add chain ip later c '{ type filter hook output priority 0; }'
nft add rule ip later c counter
nft delete table ip later
nft add table ip later
nft add chain ip later c2

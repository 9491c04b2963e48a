# requires: xtables
# ufw enabled with typical rules. ufw writes iptables-nft tables (filter,
# with its ufw-* chains, for IPv4 and IPv6) and sysctls; it runs in a private
# mount namespace inside this network namespace, on copies of /etc/ufw and
# /etc/default/ufw and with a private /run, so the host stays untouched.
command -v ufw >/dev/null || { echo "ufw is not installed (tools/install-deps.sh installs it)" >&2; exit 1; }
UFWDIR=$PWD/ufw
mkdir -p "$UFWDIR/etc" "$UFWDIR/default"
cp -a /etc/ufw/. "$UFWDIR/etc/"
cp /etc/default/ufw "$UFWDIR/default/ufw"
# A fresh, disabled configuration whatever the host's copy holds.
sed -i 's/^ENABLED=.*/ENABLED=no/' "$UFWDIR/etc/ufw.conf"
export UFWDIR
unshare -m --propagation private bash -e -c '
mount --bind "$UFWDIR/etc" /etc/ufw
mount --bind "$UFWDIR/default/ufw" /etc/default/ufw
mount -t tmpfs -o mode=0755 tmpfs /run
ufw() { command ufw "$@" >/dev/null; }
ufw --force reset
ufw default deny incoming
ufw default allow outgoing
ufw default deny routed
ufw logging low
ufw allow 22/tcp
ufw limit 2222/tcp comment "rate-limited ssh"
ufw allow from 192.0.2.0/24 to any port 443 proto tcp
ufw allow from 2001:db8:1::/48 to any port 8443 proto tcp
ufw deny from 203.0.113.7
ufw reject 23
ufw allow in on lo
ufw allow 60000:61000/udp comment "mosh"
ufw allow out 53
ufw route allow in on veth0 out on wan0 from 198.51.100.0/24
ufw --force enable
'

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh — install the build dependencies, build fwguard, and show what it
# does, with a real sshd, without touching this host's firewall: everything
# happens in two private network namespaces joined by a veth pair.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
FWGUARD=$PWD/build/cli/fwguard

P=fwgdemo$$ W=$(mktemp -d /tmp/fwguard-demo.XXXXXX)
SRV=${P}s CLI=${P}c
cleanup() {
        set +e
        for ns in $SRV $CLI; do
                for pid in $(ip netns pids $ns 2>/dev/null); do kill $pid; done
        done
        sleep 0.3
        for ns in $SRV $CLI; do
                for pid in $(ip netns pids $ns 2>/dev/null); do kill -9 $pid; done
                ip netns del $ns 2>/dev/null
        done
        rm -rf "$W"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "A server namespace with a real sshd at 192.0.2.1, a client at 192.0.2.2"
ip netns add $SRV
ip netns add $CLI
ip link add ${P}v netns $SRV type veth peer name ${P}p netns $CLI
ip -n $SRV addr add 192.0.2.1/24 dev ${P}v
ip -n $CLI addr add 192.0.2.2/24 dev ${P}p
for ns in $SRV $CLI; do ip -n $ns link set lo up; done
ip -n $SRV link set ${P}v up
ip -n $CLI link set ${P}p up
ssh-keygen -q -t ed25519 -N '' -f "$W/host"
ssh-keygen -q -t ed25519 -N '' -f "$W/client"
cp "$W/client.pub" "$W/authorized_keys"
cat > "$W/sshd_config" <<EOC
ListenAddress 192.0.2.1
HostKey $W/host
PidFile $W/sshd.pid
AuthorizedKeysFile $W/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOC
ip netns exec $SRV sh -c "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m0755 /run/sshd &&
        exec /usr/sbin/sshd -D -e -f $W/sshd_config" > "$W/sshd.log" 2>&1 &
for _ in $(seq 50); do [ -s "$W/sshd.pid" ] && break; sleep 0.1; done
SSH="ip netns exec $CLI ssh -i $W/client -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
     -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=2 -o LogLevel=ERROR"
login() { if $SSH root@192.0.2.1 true; then echo "new ssh login: WORKS"; else echo "new ssh login: FAILS (locked out)"; fi; }

srv() { ip netns exec $SRV "$@"; }
srv nft -f - <<'EON'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                iif "lo" accept
                tcp dport { 22, 80, 443 } accept
        }
}
EON
srv nft list ruleset
login

step "fwguard save: an exact snapshot of the server's ruleset"
srv "$FWGUARD" save "$W/before.fwg"
ls -l "$W/before.fwg"

step "A change that locks SSH out (only 80 and 443 allowed)"
srv nft -f - <<'EON'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport { 80, 443 } accept
        }
}
EON
login

step "fwguard restore: back to the snapshot, atomically, in one transaction"
srv "$FWGUARD" restore "$W/before.fwg"
srv nft list ruleset
login

step "fwguard show: the snapshot as nft text (loaded in a private namespace)"
"$FWGUARD" show "$W/before.fwg"
echo
echo "Demo done: the host's own ruleset was never touched."

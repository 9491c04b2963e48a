#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# services.sh — services that load a ruleset of their own, seen without
# systemd (this namespace is not PID 1's) from their files and processes,
# in the private copy of /etc that sshd's mount namespace has:
#   - none enabled: no finding about them;
#   - nftables.service linked into multi-user.target.wants: an info finding
#     only (exit 0), saying what it loads and how to change it instead;
#   - ufw enabled too (ENABLED=yes), while /etc/nftables.conf starts with
#     `flush ruleset`: a boot-flush-ruleset warning; its fix, run as
#     printed, leaves a file that loads (twice, in a scratch namespace) to
#     the same tables, and the warning is gone;
#   - a running dockerd: an info finding.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up
daemon_start ip netns exec "$SSHENV_SRV"

doctor "$TMP/none"
for id in service-nftables service-ufw service-firewalld service-netfilter-persistent service-docker boot-flush-ruleset; do
        no_finding "$TMP/none" $id
done

note "nftables.service enabled"
M sh -ec 'mkdir -p /etc/systemd/system/multi-user.target.wants
        ln -sf /lib/systemd/system/nftables.service /etc/systemd/system/multi-user.target.wants/nftables.service
        cat > /etc/nftables.conf' <<'NFT'
#!/usr/sbin/nft -f

flush ruleset

table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 9090 drop
        }
}
table ip nat {
        chain prerouting {
                type nat hook prerouting priority dstnat;
        }
}
NFT
doctor "$TMP/nft"
[ "$DOCTOR_RC" = 0 ] || fail "nftables.service alone is not a problem: exit $DOCTOR_RC: $(cat "$TMP/nft.json")"
[ "$(finding "$TMP/nft" service-nftables severity)" = info ] || fail "$(cat "$TMP/nft.json")"
finding "$TMP/nft" service-nftables what | grep -qx "nftables.service is enabled at boot" || fail "$(cat "$TMP/nft.json")"
finding "$TMP/nft" service-nftables why | grep -q "flush ruleset" || fail "$(cat "$TMP/nft.json")"
[ "$(finding "$TMP/nft" service-nftables fix)" = "fwguard apply /etc/nftables.conf" ] || fail "$(cat "$TMP/nft.json")"
no_finding "$TMP/nft" boot-flush-ruleset

note "and ufw enabled"
M sh -c 'if [ -e /etc/ufw/ufw.conf ]; then sed -i "s/^ENABLED=.*/ENABLED=yes/" /etc/ufw/ufw.conf; else mkdir -p /etc/ufw; echo ENABLED=yes > /etc/ufw/ufw.conf; fi'
doctor "$TMP/both"
[ "$DOCTOR_RC" = 1 ] || fail "two loaders and a flush: exit $DOCTOR_RC"
finding "$TMP/both" service-ufw what | grep -q "^ufw.service is " || fail "$(cat "$TMP/both.json")"
[ "$(finding "$TMP/both" boot-flush-ruleset severity)" = warning ] || fail "$(cat "$TMP/both.json")"
finding "$TMP/both" boot-flush-ruleset what | grep -q "ufw.service" || fail "$(cat "$TMP/both.json")"
M cat /etc/nftables.conf > "$TMP/before.conf"
run_fix "$TMP/both" boot-flush-ruleset
M cat /etc/nftables.conf > "$TMP/after.conf"
grep -q "^flush ruleset" "$TMP/after.conf" && fail "the fix left the flush: $(cat "$TMP/after.conf")"
in_netns sh -ec "nft -f '$TMP/before.conf'; nft list ruleset" > "$TMP/want.txt"
in_netns sh -ec "nft -f '$TMP/after.conf'; nft -f '$TMP/after.conf'; nft list ruleset" > "$TMP/got.txt" ||
        fail "the fixed file does not load twice: $(cat "$TMP/after.conf")"
same "$TMP/want.txt" "$TMP/got.txt" "the fixed file does not make the same tables"
doctor "$TMP/fixed"
no_finding "$TMP/fixed" boot-flush-ruleset
finding "$TMP/fixed" service-nftables > /dev/null

note "a running dockerd"
cp /bin/sleep "$TMP/dockerd"
"$TMP/dockerd" 600 &
DOCKERD=$!
at_exit "kill $DOCKERD"
doctor "$TMP/docker"
finding "$TMP/docker" service-docker what | grep -qx "docker.service is running" || fail "$(cat "$TMP/docker.json")"
echo ok

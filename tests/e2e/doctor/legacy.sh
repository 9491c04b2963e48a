#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy.sh — iptables-legacy tables in the server namespace: nftables (and
# fwguard) cannot see them, the doctor names each (iptables and ip6tables)
# with the way to move their rules to nftables. A fresh namespace has none.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
in_netns sh -c 'iptables-legacy -w -A INPUT -j ACCEPT' > /dev/null 2>&1 || skip "kernel-feature iptables-legacy"
doctor_env_up
daemon_start ip netns exec "$SSHENV_SRV"

doctor "$TMP/none"
no_finding "$TMP/none" iptables-legacy
srv iptables-legacy -w -A INPUT -p tcp --dport 9090 -j DROP
srv ip6tables-legacy -w -t mangle -A PREROUTING -j ACCEPT
doctor "$TMP/legacy"
[ "$DOCTOR_RC" = 1 ] || fail "legacy tables: exit $DOCTOR_RC"
[ "$(finding "$TMP/legacy" iptables-legacy what)" = \
  "iptables-legacy tables exist in this network namespace: filter (iptables), mangle (ip6tables)" ] ||
        fail "$(cat "$TMP/legacy.json")"
finding "$TMP/legacy" iptables-legacy fix | grep -q "^iptables-legacy-save > .* && iptables-restore-translate -f " ||
        fail "$(cat "$TMP/legacy.json")"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# activation.sh — system test 1: the control socket is systemd's. With
# fwguardd.service stopped, `fwguard status` still answers (the socket is
# there, its file kept), and the call starts the service. The daemon says
# READY only when it is, and reports its state in STATUS=.
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot

note "installed and enabled the Debian way: running after boot"
ct_wait_active fwguardd.socket || fail "fwguardd.socket is not active after boot"
for u in fwguardd.socket fwguardd.service; do
        [ "$(ct systemctl is-enabled "$u")" = enabled ] || fail "$u is not enabled"
done

note "stopped: the socket stays, and a call starts the service"
ct systemctl stop fwguardd.service
[ "$(ct systemctl is-active fwguardd.service)" = inactive ] || fail "fwguardd.service did not stop"
ct test -S /run/fwguard/bus || fail "stopping the service removed the control socket"
out=$(ct timeout 20 fwguard status) || fail "fwguard status failed while the service was stopped: $out"
[ "$out" = idle ] || fail "status said: $out"
ct_wait_active fwguardd.service 10 || fail "the call did not start fwguardd.service"
[ "$(ct systemctl show -P Type fwguardd.service)" = notify ] || fail "fwguardd.service is not Type=notify"
status=$(ct systemctl show -P StatusText fwguardd.service)
[ "$status" = idle ] || fail "the daemon's STATUS= is '$status', not idle"

note "a restart keeps the socket: calls during it wait instead of failing"
ct systemctl restart fwguardd.service --no-block
out=$(ct timeout 20 fwguard status) || fail "fwguard status failed across a restart: $out"
[ "$out" = idle ] || fail "status across a restart said: $out"
echo ok

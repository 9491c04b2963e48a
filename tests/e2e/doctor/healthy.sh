#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# healthy.sh — on a healthy host (sshd listening with StrictModes on and a
# key login that works, fwguardd idle, a ruleset that lets SSH in, room on
# the disks), `fwguard doctor` exits 0 with no problem, in text and JSON.
# Then the same host with a drop-everything ruleset and no daemon is not
# healthy (so the verdict is not a constant).
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up
daemon_start ip netns exec "$SSHENV_SRV"

doctor "$TMP/healthy"
[ "$DOCTOR_RC" = 0 ] || fail "a healthy host: exit $DOCTOR_RC: $(cat "$TMP/healthy.json")"
python3 -c 'import json, sys; f = json.load(open(sys.argv[1])); assert all(x["severity"] == "info" for x in f), f' \
        "$TMP/healthy.json" || fail "problems on a healthy host: $(cat "$TMP/healthy.json")"
M "$FWGUARD" doctor --config "$FWGD_CONF" > "$TMP/healthy.txt" || fail "text: exit $?: $(cat "$TMP/healthy.txt")"
grep -qx "No problems found." "$TMP/healthy.txt" || fail "the text does not say so: $(cat "$TMP/healthy.txt")"
login || fail "the login stopped working"

daemon_stop
srv nft add table inet lock
srv nft add chain inet lock input '{ type filter hook input priority 0; policy drop; }'
doctor "$TMP/sick"
[ "$DOCTOR_RC" = 1 ] || fail "no daemon and SSH blocked: exit $DOCTOR_RC: $(cat "$TMP/sick.json")"
finding "$TMP/sick" fwguardd-not-running > /dev/null
finding "$TMP/sick" ruleset-blocks-ssh > /dev/null
rc=0
M "$FWGUARD" doctor --config "$FWGD_CONF" > "$TMP/sick.txt" || rc=$?
[ $rc = 1 ] || fail "text: exit $rc"
grep -qx "error \[ruleset-blocks-ssh\]: the live ruleset blocks SSH .*inet lock input: policy drop" "$TMP/sick.txt" &&
        grep -qx "  fix: nft insert rule inet lock input tcp dport 22 accept" "$TMP/sick.txt" &&
        grep -qx "2 problems found." "$TMP/sick.txt" || fail "the text: $(cat "$TMP/sick.txt")"
echo ok

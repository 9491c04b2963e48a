#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# keys.sh — authorized_keys that sshd's StrictModes refuses, checked against
# sshd itself (StrictModes yes, keys in ~/.ssh/authorized_keys):
#   - root's authorized_keys mode 0666: sshd refuses the key login; the
#     doctor names the file and `chmod go-w FILE`; the fix, run as printed,
#     makes the login work again and the finding go away;
#   - root's ~/.ssh writable by fwgdoc's group (0770): the same, naming the
#     directory;
#   - root's ~/.ssh writable by group root, which holds root alone: Debian's
#     sshd accepts it, and the doctor says nothing;
#   - fwgdoc's home owned by another uid: named, with `chown fwgdoc HOME`;
#   - a group-writable directory ABOVE the home: sshd does not look there,
#     and neither does the doctor.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up
daemon_start ip netns exec "$SSHENV_SRV"
KEYS=$HOMES/root/.ssh/authorized_keys

# refused NAME PATH: sshd refuses root's key login, the doctor names PATH
# with `chmod go-w PATH`, its fix works, and then the finding is gone.
refused() {
        local name=$1 path=$2 out=$TMP/$1
        login && fail "$name: sshd accepts the key login (the test's premise is wrong)"
        grep -q "bad ownership or modes for .*$path" "$SSHENV_DIR/sshd.log" ||
                fail "$name: sshd did not say why it refused: $(tail -n 3 "$SSHENV_DIR/sshd.log")"
        doctor "$out"
        [ "$DOCTOR_RC" = 1 ] || fail "$name: exit $DOCTOR_RC"
        finding "$out" authorized-keys-refused what | grep -qF "sshd would refuse root's $KEYS: $path is" ||
                fail "$name: the finding does not name $path: $(findings "$out" authorized-keys-refused)"
        finding "$out" authorized-keys-refused fix | grep -qxF "chmod go-w $path" ||
                fail "$name: the fix is not chmod go-w $path: $(findings "$out" authorized-keys-refused)"
        run_fix "$out" authorized-keys-refused
        login || fail "$name: the key login still fails after the fix"
        doctor "$out.fixed"
        no_finding "$out.fixed" authorized-keys-refused
        [ "$DOCTOR_RC" = 0 ] || fail "$name: exit $DOCTOR_RC after the fix: $(cat "$out.fixed.json")"
}

note "authorized_keys mode 0666"
chmod 0666 "$KEYS"
refused file "$KEYS"
[ "$(stat -c %a "$KEYS")" = 644 ] || fail "the fix left mode $(stat -c %a "$KEYS")"

note "~/.ssh writable by a group with another member"
chgrp 4252 "$HOMES/root/.ssh"
chmod 0770 "$HOMES/root/.ssh"
refused dir "$HOMES/root/.ssh"

note "~/.ssh writable by a group of root alone"
chgrp 0 "$HOMES/root/.ssh"
chmod 0770 "$HOMES/root/.ssh"
login || fail "Debian's sshd refuses a ~/.ssh writable by root's own group"
doctor "$TMP/rootgroup"
no_finding "$TMP/rootgroup" authorized-keys-refused
chmod 0700 "$HOMES/root/.ssh"

note "fwgdoc's home owned by someone else"
chown 4253 "$HOMES/fwgdoc"
doctor "$TMP/owner"
what=$(finding "$TMP/owner" authorized-keys-refused what)
case $what in
"sshd would refuse fwgdoc's $HOMES/fwgdoc/.ssh/authorized_keys: $HOMES/fwgdoc is owned by "*"(uid 4253), not fwgdoc or root") ;;
*) fail "the finding does not name fwgdoc's home and its owner: $what" ;;
esac
[ "$(finding "$TMP/owner" authorized-keys-refused fix)" = "chown fwgdoc $HOMES/fwgdoc" ] ||
        fail "the fix is not chown: $(findings "$TMP/owner" authorized-keys-refused)"
run_fix "$TMP/owner" authorized-keys-refused
[ "$(stat -c %u "$HOMES/fwgdoc")" = 4252 ] || fail "the fix did not give the home back to fwgdoc"

note "above the home directory, nothing counts"
chmod 0777 "$HOMES"
login || fail "sshd refuses for a directory above the home"
doctor "$TMP/above"
no_finding "$TMP/above" authorized-keys-refused
chmod 0755 "$HOMES"
echo ok

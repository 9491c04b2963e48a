#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# disk.sh — a full state directory: the doctor runs in a private mount
# namespace (inside sshd's) where the state directory is a small tmpfs:
#   - empty (40 MiB free): no disk finding (the threshold is not a constant);
#   - filled to the last block: a disk-full error naming the state
#     directory and its mount, with a fix;
#   - out of inodes (nr_inodes 2000, all used): inodes-full, naming it.
# The host's mounts and the test's own mount namespace never see the tmpfs.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up
mkdir -p "$FWGD_STATE"

# on_tmpfs OUT OPTS FILL: the doctor with the state directory on a tmpfs
# mounted with OPTS and filled by the shell command FILL ($1 = the directory).
on_tmpfs() {
        local out=$1 opts=$2 fill=$3
        DOCTOR_RC=0
        M unshare -m --propagation private -- sh -ec '
                mount -t tmpfs -o "$1" fwguard-doctor-test "$2"
                sh -ec "$3" sh "$2"
                "$4" doctor --config "$5" --json > "$6.json" || echo $? > "$6.rc"
                df -k "$2" | tail -n 1 > "$6.df"' sh "$opts" "$FWGD_STATE" "$fill" "$FWGUARD" "$FWGD_CONF" "$out" ||
                fail "cannot run the doctor on a tmpfs"
        [ ! -e "$out.rc" ] || DOCTOR_RC=$(cat "$out.rc")
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$out.json" || fail "bad JSON: $(cat "$out.json")"
}
findmnt -n "$FWGD_STATE" > /dev/null && fail "a tmpfs is on the state directory before the test mounts one"

note "an empty tmpfs"
on_tmpfs "$TMP/empty" size=40m true
no_finding "$TMP/empty" disk-full
no_finding "$TMP/empty" inodes-full

note "a full tmpfs"
on_tmpfs "$TMP/full" size=40m 'dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null || true; ! echo x > "$1/probe" 2>/dev/null'
[ "$DOCTOR_RC" = 1 ] || fail "a full state directory: exit $DOCTOR_RC"
[ "$(findings "$TMP/full" disk-full severity)" = error ] || fail "$(cat "$TMP/full.json")"
what=$(finding "$TMP/full" disk-full what)
case $what in
"the filesystem of the state directory $FWGD_STATE (mounted on $FWGD_STATE) has 0 KiB free of "*) ;;
*) fail "the finding does not name the state directory: $what" ;;
esac
finding "$TMP/full" disk-full fix | grep -qF "du -xh -d1 $FWGD_STATE" || fail "no fix: $(findings "$TMP/full" disk-full)"
finding "$TMP/full" disk-full why | grep -q "every apply and run fails" || fail "why: $(findings "$TMP/full" disk-full)"
findmnt -n "$FWGD_STATE" > /dev/null && fail "the tmpfs leaked into the test's mount namespace"

note "a tmpfs out of inodes"
on_tmpfs "$TMP/inodes" size=40m,nr_inodes=2000 'i=0; while true 2>/dev/null > "$1/f$i"; do i=$((i + 1)); done'
[ "$DOCTOR_RC" = 1 ] || fail "no inodes: exit $DOCTOR_RC"
finding "$TMP/inodes" inodes-full what | grep -qF "the state directory $FWGD_STATE (mounted on $FWGD_STATE) has 0 inodes free" ||
        fail "$(cat "$TMP/inodes.json")"
no_finding "$TMP/inodes" disk-full
echo ok

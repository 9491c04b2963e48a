#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# statedir.sh full|readonly — no durable record, no commit: with the state
# directory on a tiny tmpfs that is full (or remounted read-only), apply
# fails with exit 1 and says why, the live ruleset and its generation stay
# as they were, and no trial is pending. Once the directory is writable
# again, the same apply works (so it was the directory that failed it).
#
# The tmpfs is mounted in a private mount namespace that only fwguardd
# lives in: the host's mounts are not touched.
. "$SRCDIR/tests/e2e/durability/lib.sh"
CASE=$1
ruleset_setup two

mkdir -p "$FWGD_STATE"
# unshare execs the shell, which execs the daemon: $! stays the daemon.
# A tiny tmpfs (64 KiB); the full case fills it to the last block below.
daemon_start nsenter -t "$NSPID" -n -- unshare -m --propagation private -- \
        sh -c 'mount -t tmpfs -o size=64k,mode=0700 fwguard-test "$0" && exec "$@"' "$FWGD_STATE"
M() { nsenter -t "$FWGD_PID" -m -- "$@"; }
M findmnt -n -o FSTYPE,SIZE "$FWGD_STATE" | grep -q '^tmpfs' || fail "the state directory is not the tiny tmpfs"
findmnt -n "$FWGD_STATE" > /dev/null && fail "the tmpfs leaked into the test's mount namespace"

case $CASE in
full)
        M sh -c 'dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; exit 0' sh "$FWGD_STATE"
        M sh -c 'echo x > "$1/probe"' sh "$FWGD_STATE" 2>/dev/null && fail "the tmpfs is not full"
        WHY="No space left on device"
        writable() { M rm -f "$FWGD_STATE/fill"; } ;;
readonly)
        M mount -o remount,ro "$FWGD_STATE"
        WHY="Read-only file system"
        writable() { M mount -o remount,rw "$FWGD_STATE"; } ;;
*) fail "unknown case $CASE" ;;
esac

refused_apply 1 5 "$TMP/change.nft"
grep -q "$WHY" "$TMP/apply.out" || fail "apply does not say \"$WHY\""
grep -qF "$FWGD_STATE" "$TMP/apply.out" || fail "apply does not name the state directory"
keep_intact
[ "$(fwg status)" = idle ] || fail "a trial is pending: $(fwg status)"
M test -e "$FWGD_STATE/trial/record" && fail "a trial record was left behind"
[ "$(outcome 1)" = none ] || fail "the failed apply is in the history as $(outcome 1)"
kill -0 "$FWGD_PID" || fail "fwguardd died"

writable
fwg apply --timeout 5 "$TMP/change.nft" > "$TMP/apply.out" 2>&1 || { cat "$TMP/apply.out"; fail "apply failed once the directory was writable"; }
live > "$TMP/live"
same "$TMP/S1" "$TMP/live" "the second apply did not commit S1' with the guard"
fwg rollback > /dev/null
live > "$TMP/live"
same "$TMP/S0" "$TMP/live" "the rollback did not restore S0"
keep_intact
finish

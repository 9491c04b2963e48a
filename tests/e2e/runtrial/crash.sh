#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# crash.sh RUN-CALL POINT — SIGKILL fwguardd at a step of a Run trial with
# files (FWGUARDD_TEST_CRASH), restart it, and check that files and ruleset
# agree: both new (armed again, then both old at the deadline) or both old
# (rolled back). At the crash itself the files may be half done; the
# ruleset is exact.
RUNCALL=$1
POINT=$2
. "$SRCDIR/tests/e2e/runtrial/lib.sh"
ruleset_setup one
files_setup

daemon_start_ns FWGUARDD_TEST_CRASH="$POINT" FWGUARDD_TEST_CONFIRM_ANYONE=1
# AT_CRASH: ruleset and files when it dies ("MIX": some of each);
# THEN: what the restarted daemon makes of it.
case $POINT in
apply-durable) AT_CRASH="S0 OLD" THEN=not-committed ;;
apply-committed | apply-committed-record) AT_CRASH="S1 OLD" THEN=armed ;;
apply-files-partial) AT_CRASH="S1 MIX" THEN=armed ;;
apply-files-installed) AT_CRASH="S1 NEW" THEN=armed ;;
rollback-target | rollback-durable) AT_CRASH="S1 NEW" THEN=rolled-back ;;
rollback-committed) AT_CRASH="S0 NEW" THEN=rolled-back ;;
confirm-durable) AT_CRASH="S1 NEW" THEN=confirmed ;;
rollback-files-partial) AT_CRASH="S0 MIX" THEN=rolled-back ;;
rollback-files-restored | rollback-reported) AT_CRASH="S0 OLD" THEN=rolled-back ;;
*) fail "unknown point $POINT" ;;
esac
TIMEOUT=3
[ "$THEN" = armed ] && TIMEOUT=6

rc=0
run_trial "$TIMEOUT" || rc=$?
case $POINT in
apply-*) [ "$rc" != 0 ] || { cat "$TMP/run.out"; fail "Run succeeded although fwguardd crashed"; } ;;
*)      [ "$rc" = 0 ] || { cat "$TMP/run.out" "$FWGD_LOG"; fail "Run exited $rc"; }
        files_are NEW "during the trial" ;;
esac
if [ "$POINT" = confirm-durable ]; then
        ! fwg confirm > /dev/null 2>&1 || fail "confirm succeeded although fwguardd crashed"
fi
wait_crash "$POINT"
set -- $AT_CRASH
live > "$TMP/live"
same "$TMP/$1" "$TMP/live" "when fwguardd died at $POINT, live is not $1"
if [ "$2" = MIX ]; then
        { files_listing "$ETC"; sysctls_listing; } > "$TMP/F_now"
        cat "$TMP/F_OLD" "$TMP/SY_OLD" > "$TMP/FS_OLD"
        cat "$TMP/F_NEW" "$TMP/SY_NEW" > "$TMP/FS_NEW"
        ! cmp -s "$TMP/F_now" "$TMP/FS_OLD" && ! cmp -s "$TMP/F_now" "$TMP/FS_NEW" ||
                fail "at $POINT the files and sysctls are not half done: the test point is not between two of them"
else
        files_are "$2" "when fwguardd died at $POINT"
fi

daemon_start_ns
case $THEN in
armed)
        [ "$(status_field state)" = armed ] || fail "not armed after the restart: $(fwg status)"
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "after the restart, live is not S1'"
        files_are NEW "after the restart (armed)"
        wait_live "$TMP/S0" "$TMP/S1" $((TIMEOUT + 5)) > /dev/null
        wait_idle 5
        files_are OLD "after the rollback at the deadline" ;;
rolled-back | not-committed)
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after the restart, live is not S0"
        files_are OLD "after the restart ($THEN)"
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)" ;;
confirmed)
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "after the restart, live is not S1'"
        files_are NEW "after the restart (confirmed)"
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)" ;;
esac
[ "$THEN" = armed ] && THEN=rolled-back
[ "$(outcome 1)" = "$THEN" ] || fail "trial 1 is $(outcome 1), not $THEN"
# No temporary file of an interrupted write is left next to the files.
! find "$ETC" -name '*.fwguard-*' | grep . || fail "temporary files left in $ETC"
finish

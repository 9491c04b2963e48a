#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# refused.sh RUN-CALL CASE — Run refuses (exit 3) and changes nothing: not
# the ruleset (nor its generation), not a file, and no trial is left.
#   outside  a path outside the allow-list (beside it, the overlay
#            directory itself, a ".." climbing out of it)
#   symlink  an allow-listed path that is a symlink to a file elsewhere
#   stale    the ruleset changed after the seed was saved
#   nonroot  a caller that is not root (the admin group is not enough)
#   pending  a trial is pending: the second Run is refused, the first
#            trial goes on untouched
#   sysctl   a sysctl outside lib/netsysctl.h's list (a network one that
#            ufw's sysctl.conf does not name, one outside net/, a path that
#            climbs out of one on the list), with files and allowed
#            sysctls beside it: refused, nothing set
RUNCALL=$1
CASE=$2
. "$SRCDIR/tests/e2e/runtrial/lib.sh"
ruleset_setup one
files_setup
mkdir -p "$TMP/outside"
printf 'not to be touched\n' > "$TMP/outside/target"
chmod 0644 "$TMP/outside/target"

daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1

# Run with ARGS... must exit 3 and change nothing at all.
refused_run() {
        local rc=0 want_state=${WANT_STATE:-idle}
        ruleset_state N > "$TMP/state0"
        files_listing "$TMP/outside" > "$TMP/out0"
        "$@" > "$TMP/run.out" 2>&1 || rc=$?
        cat "$TMP/run.out"
        [ "$rc" = 3 ] || fail "Run exited $rc, not 3"
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "the refused Run changed the live ruleset (or its generation)"
        files_are "${WANT_FILES:-OLD}" "after the refused Run"
        files_listing "$TMP/outside" > "$TMP/out1"
        same "$TMP/out0" "$TMP/out1" "the refused Run wrote outside the allow-list"
        [ "$(status_field state)" = "$want_state" ] || fail "the status is $(fwg status), not $want_state"
}
call() { "$RUNCALL" "$FWGD_RUN/bus" "$TMP/seed.fwg" "$TMP/result.fwg" 3 0 "$@"; }

case $CASE in
outside)
        # Beside the overlay directory, a real file: only the allow-list stops it.
        mkdir "$ETC/ufwx"
        printf 'beside\n' > "$ETC/ufwx/a"
        files_listing "$ETC" > "$TMP/F_OLD"
        for bad in "$TMP/outside/target" "$ETC/ufw" "$ETC/ufw/../../outside/target" "$ETC/default/ufw.d" \
                   "$ETC/ufwx/a" "ufw/user.rules"; do
                refused_run call "${FILE_ARGS[@]}" "$bad" 644 "$TMP/new/ufw.conf"
                grep -q "Error.Refused: .* is not a file that \`fwguard run\` may change" "$TMP/run.out" ||
                        fail "not refused by the allow-list for $bad"
        done ;;
symlink)
        ln -s "$TMP/outside/target" "$ETC/ufw/link"
        files_listing "$ETC" > "$TMP/F_OLD"
        refused_run call "$ETC/ufw/link" 644 "$TMP/new/ufw.conf"
        grep -q "symlink" "$TMP/run.out" || fail "the refusal does not name the symlink"
        # A symlinked directory on the way is refused too.
        ln -s "$TMP/outside" "$ETC/ufw/dir"
        files_listing "$ETC" > "$TMP/F_OLD"
        refused_run call "$ETC/ufw/dir/target" 644 "$TMP/new/ufw.conf" ;;
stale)
        N nft add table ip other
        refused_run call "${FILE_ARGS[@]}"
        grep -q "the ruleset changed since the command ran: run it again" "$TMP/run.out" ||
                fail "not the stale-seed refusal" ;;
nonroot)
        # In the admin group, which may apply, but Run is root's alone.
        daemon_stop
        daemon_config "[run]" "overlay_dirs = $ETC/ufw" "private_files = $ETC/default/ufw" \
                "[admin]" "group = nogroup"
        daemon_start_ns
        refused_run setpriv --reuid=nobody --regid=nogroup --clear-groups "$RUNCALL" "$FWGD_RUN/bus" \
                "$TMP/seed.fwg" "$TMP/result.fwg" 3 0 "$ETC/ufw/ufw.conf" 644 "$TMP/new/ufw.conf"
        grep -q "AccessDenied: uid [0-9]* may not call Run: only root may" "$TMP/run.out" ||
                fail "not refused as AccessDenied, root only"
        # The same caller may apply: the refusal is Run's own rule.
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$FWGUARD" status > /dev/null ||
                fail "nobody cannot even ask the status" ;;
sysctl)
        for bad in net/ipv4/tcp_syncookies=0 kernel/sysrq=0 net/ipv4/ip_forward/../tcp_syncookies=0 \
                   /proc/sys/net/ipv4/ip_forward=1 net.ipv4.ip_forward=1; do
                RUN_CALL_SYSCTLS="$SYSCTLS $bad" refused_run call "${FILE_ARGS[@]}"
                grep -q "Error.Refused: .* is not a network sysctl that \`fwguard run\` may set" "$TMP/run.out" ||
                        fail "not refused by the sysctl list for $bad"
        done ;;
pending)
        run_trial 30 || { cat "$TMP/run.out"; fail "the first Run failed"; }
        live > "$TMP/S1live"
        same "$TMP/S1" "$TMP/S1live" "the first trial is not live"
        WANT_STATE=armed WANT_FILES=NEW refused_run call "$ETC/ufw/ufw.conf" 600 "$TMP/new/after.rules"
        grep -q "trial 1 is pending" "$TMP/run.out" || fail "not the pending refusal"
        fwg rollback > /dev/null || fail "rollback failed"
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "after the rollback, live is not S0"
        files_are OLD "after the rollback" ;;
*) fail "unknown case $CASE" ;;
esac
finish

# SPDX-License-Identifier: GPL-2.0-or-later
# daemon-lib.sh — shared by daemon.sh and daemon-auth.sh. Source it.
#
# fwguardd in a namespace of its own (daemon_netns, tests/lib/daemon.sh), not
# started yet, and how to reach it:
#   BUS_CALL, ADDR, OBJ, IFACE  a raw caller with an fd, and busctl's arguments
#   nobody CMD...               run CMD as nobody, in no group
#   run RC PREFIX CMD...        run CMD, which must exit RC; its stdout and
#                               stderr are kept in PREFIX.out and PREFIX.err
#   state_dir_listing           every path in the state directory, its size
#                               and mtime
. "$SRCDIR/tests/lib/common.sh"
need_root
. "$SRCDIR/tests/lib/daemon.sh"
BUS_CALL=$BUILDDIR/tests/integration/bus-call
ADDR="unix:path=$FWGD_RUN/bus"
OBJ=(org.fwguard /org/fwguard/Manager)
IFACE=org.fwguard.Manager1

daemon_netns

nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
run() {
        local want=$1 out=$2 rc=0
        shift 2
        "$@" > "$out.out" 2> "$out.err" || rc=$?
        [ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $(cat "$out.out" "$out.err")"
}
state_dir_listing() { (cd "$FWGD_STATE" && find . -printf '%p %s %T@\n' | sort); }

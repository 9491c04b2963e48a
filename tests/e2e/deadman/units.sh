#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# units.sh RUN-CALL FAKE-SYSTEMD same|other — the transient units of the
# second dead-man, asked of a fake systemd (fake-systemd.c, on the socket
# that DBUS_SYSTEM_BUS_ADDRESS names). fwguardd runs in a pid namespace of
# its own whose PID 1 (a sleep) looks like systemd: /run/systemd/system
# exists in their private mount namespace, and the system bus answers.
#   same   PID 1 is in fwguardd's network namespace, as on a host: each
#          trial arms a timer (fwguard-deadman-ID-MS.timer, due at the
#          deadline + 3 s on the wall clock, its service running `fwguard
#          deadman ID` with fwguardd's state directory and config); extend
#          starts one for the new deadline and stops the old one; rollback,
#          confirm and fwguardd's own rollback at the deadline stop it; a
#          restart arms the same timer again (UnitExists), never a second
#          one; the timer's command line, run as systemd would run it while
#          fwguardd is stopped, rolls the trial back, and fwguardd notices
#   other  PID 1 is in another network namespace (a test namespace, as
#          here): fwguardd says once why it arms no dead-man, and asks
#          systemd for no unit at all, although the bus answers (the port
#          discovery's GetUnit reaches it)
RUNCALL=$1
FAKE_SYSTEMD=$2
CASE=$3
. "$SRCDIR/tests/e2e/deadman/lib.sh"

BUS_SOCK=$TMP/system_bus_socket
BUS_LOG=$TMP/systemd.log
FWGUARD_BINARY=$(sed -n 's/^#define FWGUARD_BINARY "\(.*\)"$/\1/p' "$BUILDDIR/build-config.h")
[ -n "$FWGUARD_BINARY" ] || fail "no FWGUARD_BINARY in $BUILDDIR/build-config.h"

"$FAKE_SYSTEMD" "$BUS_SOCK" "$BUS_LOG" 2>> "$TMP/fake-systemd.err" &
at_exit "kill $!"
for _ in $(seq 100); do [ -S "$BUS_SOCK" ] && break; sleep 0.05; done
[ -S "$BUS_SOCK" ] || fail "the fake systemd does not listen"

# PID 1: a sleep in new pid, network and mount namespaces (with their own
# /proc), where /run/systemd/system exists.
unshare --net --pid --fork --mount-proc --kill-child sleep 600 > /dev/null 2>&1 &
HOLDER=$!
at_exit "kill $HOLDER"
PID1=
for _ in $(seq 250); do
        PID1=$(pgrep -P "$HOLDER" -x sleep || true)
        [ -n "$PID1" ] && [ "$(readlink "/proc/$PID1/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
        PID1=
        sleep 0.02
done
[ -n "$PID1" ] || fail "cannot make the pid namespace"
nsenter -t "$PID1" -m -- sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system'
if [ "$CASE" = same ]; then
        NSPID=$PID1
        daemon_links
fi
ruleset_setup one
FWGD_WRAP=

# fwguardd in the pid and mount namespaces of PID 1, in the network
# namespace $NSPID. nsenter forks into the pid namespace and waits:
# FWGD_WRAP is nsenter, FWGD_PID fwguardd. A stopped fwguardd stops
# nsenter too, which continues both when continued.
daemon_start_pid1() {
        daemon_start env FWGUARDD_TEST_CONFIRM_ANYONE=1 DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BUS_SOCK" \
                nsenter --net="/proc/$NSPID/ns/net" -t "$PID1" -p -m --
        FWGD_WRAP=$FWGD_PID
        FWGD_PID=$(pgrep -P "$FWGD_WRAP")
        [ -n "$FWGD_PID" ] || fail "no fwguardd below nsenter"
}
# The daemon takes its callers' pids from the socket: they must be in its
# pid namespace.
fwg() { nsenter -t "$PID1" -p -m -- "$FWGUARD" "$@"; }
daemon_stop() {
        local rc=0
        [ -n "$FWGD_PID" ] || return 0
        kill -TERM "$FWGD_PID"
        wait "$FWGD_WRAP" || rc=$?
        FWGD_PID=
        [ "$rc" = 0 ] || { cat "$FWGD_LOG" >&2; fail "fwguardd exited $rc on SIGTERM"; }
}
daemon_kill() {
        [ -n "$FWGD_PID" ] || return 0
        kill -KILL "$FWGD_PID" 2>/dev/null || true
        wait "$FWGD_WRAP" 2>/dev/null || true
        FWGD_PID=
}

# The calls to systemd of one member, one JSON array of arguments a line.
calls() {
        python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "call" and e["member"] == sys.argv[2]:
        print(json.dumps(e["args"]))' "$BUS_LOG" "$1"
}
# Wait until systemd was asked to start $1 timers in all.
wait_starts() {
        for _ in $(seq 100); do
                [ "$(started | wc -l)" -ge "$1" ] && return 0
                sleep 0.05
        done
        cat "$BUS_LOG" "$FWGD_LOG" >&2
        fail "systemd was asked to start $(started | wc -l) timers, not $1"
}
started() { calls StartTransientUnit | python3 -c 'import json, sys; [print(json.loads(l)[0]) for l in sys.stdin]'; }
stopped_units() { calls StopUnit | python3 -c 'import json, sys; [print(json.loads(l)[0]) for l in sys.stdin]'; }

# Wait until CMD... prints a line LINE.
wait_line() {
        local line=$1
        shift
        for _ in $(seq 100); do
                "$@" | grep -xF -- "$line" > /dev/null && return 0
                sleep 0.05
        done
        fail "\"$line\" never came from $*: $("$@" | tr '\n' ' ')"
}

# The last StartTransientUnit is trial $1's, due $2 s (the timeout given)
# + 3 s from the apply at $3 (seconds), with its service as systemd must
# get it. Prints the timer's name.
check_start() {
        calls StartTransientUnit | tail -1 | python3 -c '
import datetime, json, re, sys
id, timeout, t0, binary, state, conf = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:7]
name, mode, props, aux = json.loads(sys.stdin.read())
m = re.fullmatch(r"fwguard-deadman-" + id + r"-(\d+)\.timer", name)
assert m, "timer name " + name
assert mode == "fail", mode
p = dict(props)
assert p["Description"] == ["s", "fwguard: the second dead-man of trial " + id], p["Description"]
assert "TimersMonotonic" not in p, "a second trigger fires the timer twice"
(base, cal), = p["TimersCalendar"][1]
assert p["TimersCalendar"][0] == "a(ss)" and base == "OnCalendar", p["TimersCalendar"]
due = datetime.datetime.strptime(cal, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=datetime.timezone.utc).timestamp()
# The deadline is counted from the commit, a little after the apply began;
# the calendar has whole seconds, rounded up.
assert t0 + timeout + 3 <= due <= t0 + timeout + 3 + 3, "OnCalendar %s, apply at %f" % (cal, t0)
assert p["AccuracyUSec"] == ["t", 100000], p["AccuracyUSec"]
assert p["RemainAfterElapse"] == ["b", False], p["RemainAfterElapse"]
(sname, sprops), = aux
assert sname == name[:-len("timer")] + "service", sname
s = dict(sprops)
assert s["Type"] == ["s", "oneshot"], s["Type"]
assert s["TimeoutStartUSec"] == ["t", "18446744073709551615"], s["TimeoutStartUSec"]
assert s["ProtectKernelTunables"] == ["b", True] and s["ReadWritePaths"] == ["as", ["/proc/sys/net"]], s
want = [[binary, [binary, "deadman", id, "--state-dir", state, "--config", conf], False]]
assert s["ExecStart"] == ["a(sasb)", want], s["ExecStart"]
print(name)' "$1" "$2" "$3" "$FWGUARD_BINARY" "$FWGD_STATE" "$FWGD_CONF" || fail "trial $1's timer is not as it must be"
}

apply_file() {
        local t0
        t0=$(now)
        fwg apply --timeout "$1" "$2" > "$TMP/apply.out" 2>&1 || { cat "$TMP/apply.out"; fail "apply of $2 failed"; }
        APPLIED_AT=$t0
}

case $CASE in
same)
        echo 'add rule inet filter input tcp dport 8443 accept' > "$TMP/change2.nft"
        oracle "$TMP/S2" "$TMP/s0.nft" "$TMP/change.nft" "$TMP/guard.nft" "$TMP/change2.nft"
        daemon_start_pid1
        [ "$(grep -c "second dead-man: each trial also arms" "$FWGD_LOG")" = 1 ] ||
                fail "fwguardd did not say once that it arms dead-men"

        # 1: armed, moved, stopped by a requested rollback.
        apply_file 20 "$TMP/change.nft"
        wait_starts 1
        T=$(check_start 1 20 "$APPLIED_AT")
        t0=$(now)
        fwg extend 40 > /dev/null || fail "extend failed"
        wait_starts 2
        T1=$(check_start 1 40 "$t0")
        wait_line "$T" stopped_units
        [ "$T1" != "$T" ] || fail "extend kept the timer $T"
        fwg rollback > /dev/null || fail "rollback failed"
        wait_line "$T1" stopped_units

        # 2: stopped by the confirmation.
        apply_file 20 "$TMP/change.nft"
        wait_starts 3
        T2=$(check_start 2 20 "$APPLIED_AT")
        fwg confirm > /dev/null || fail "confirm failed"
        wait_line "$T2" stopped_units

        # 3: a restart arms the same timer (systemd says UnitExists), and
        # fwguardd's own rollback at the deadline stops it.
        apply_file 5 "$TMP/change2.nft"
        wait_starts 4
        T3=$(check_start 3 5 "$APPLIED_AT")
        daemon_stop
        daemon_start_pid1
        for _ in $(seq 100); do [ "$(started | grep -cxF "$T3")" = 2 ] && break; sleep 0.05; done
        [ "$(started | grep -cxF "$T3")" = 2 ] || fail "the restarted fwguardd did not arm $T3 again"
        ! stopped_units | grep -xF "$T3" > /dev/null || fail "the restart stopped the trial's timer"
        wait_live "$TMP/S1" "$TMP/S2" 10 > /dev/null
        wait_idle 5
        wait_line "$T3" stopped_units

        # 4: the timer's command line, as systemd runs it, while fwguardd is stopped.
        apply_file 3 "$TMP/change2.nft"
        wait_starts 6
        T4=$(check_start 4 3 "$APPLIED_AT")
        DEADLINE=$(deadline_sec)
        kill -STOP "$FWGD_PID"
        wait_stopped "$FWGD_PID" fwguardd
        calls StartTransientUnit | tail -1 | python3 -c '
import json, sys
(service, props), = json.loads(sys.stdin.read())[3]
for k, v in props:
    if k == "ExecStart":
        (path, argv, ignore), = v[1]
        print("\0".join(argv[1:]), end="")' > "$TMP/argv"
        mapfile -d '' ARGV < "$TMP/argv"
        [ "${ARGV[0]}" = deadman ] && [ "${ARGV[1]}" = 4 ] || fail "the service does not run fwguard deadman 4: ${ARGV[*]}"
        wait_past "$DEADLINE"
        N "$FWGUARD" "${ARGV[@]}" >> "$DM_LOG" 2>&1 || { cat "$DM_LOG"; fail "the timer's command failed"; }
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "after the timer's command, live is not what it was before trial 4"
        grep -q "trial 4 rolled back by the second dead-man" "$DM_LOG" || fail "the timer's command did not roll trial 4 back"
        kill -CONT "$FWGD_PID" "$FWGD_WRAP"
        dead_man_noticed 4
        wait_idle 5
        [ "$(rollbacks_by_daemon 4)" = 0 ] || fail "fwguardd rolled trial 4 back a second time"
        wait_line "$T4" stopped_units

        # Every timer that was started is stopped, none twice.
        started | sort -u > "$TMP/started"
        stopped_units | sort > "$TMP/stopped"
        same "$TMP/started" "$TMP/stopped" "the timers started and stopped differ" ;;
other)
        daemon_start_pid1
        apply_file 20 "$TMP/change.nft"
        fwg extend 30 > /dev/null || fail "extend failed"
        fwg confirm > /dev/null || fail "confirm failed"
        echo 'add rule inet filter input tcp dport 8443 accept' > "$TMP/change2.nft"
        apply_file 3 "$TMP/change2.nft"
        wait_idle 10
        [ "$(outcome 2)" = rolled-back ] || fail "trial 2 is $(outcome 2), not rolled back at its deadline"
        daemon_stop
        [ "$(grep -c "no second dead-man: fwguardd runs in another network namespace than PID 1" "$FWGD_LOG")" = 1 ] ||
                { cat "$FWGD_LOG"; fail "fwguardd did not say once why it arms no dead-man"; }
        calls GetUnit | grep ssh.socket > /dev/null || fail "the fake system bus was never asked anything: the test proves nothing"
        for m in StartTransientUnit StopUnit ListUnitsByPatterns; do
                [ -z "$(calls $m)" ] || fail "fwguardd called $m: $(calls $m)"
        done ;;
*) fail "unknown case $CASE" ;;
esac
finish

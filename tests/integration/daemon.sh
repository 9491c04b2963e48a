#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# daemon.sh — fwguardd's first slice: it starts in a namespace with private
# directories, answers Status on its private bus for root and for anyone,
# shows a pending trial record, stops cleanly on SIGTERM leaving the state
# directory as it was, and the CLI says how to start a daemon that is gone.
. "$SRCDIR/tests/lib/common.sh"
need_root
: "${FWGUARDD:?FWGUARDD must point to the fwguardd binary}"
TRIAL_BEGIN="$BUILDDIR/tests/integration/trial-begin"

# mktemp made TMP 0700: the unprivileged caller must reach the socket in it.
chmod 0755 "$TMP"
STATE="$TMP/state"
RUN="$TMP/run"
ADDR="unix:path=$RUN/bus"
OBJ=(org.fwguard /org/fwguard/Manager)

NSPID=$(netns_holder) || fail "no namespace"
at_exit "kill $NSPID"
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

DPID=
start_daemon() {
        # nsenter without --fork execs the daemon, so $! is the daemon itself
        # (through a shell function, it would be a subshell that SIGTERM kills).
        nsenter -t "$NSPID" -n -- "$FWGUARDD" --state-dir "$STATE" --runtime-dir "$RUN" --config /nonexistent \
                2> "$TMP/daemon.err" &
        DPID=$!
        for _ in $(seq 100); do
                [ -S "$RUN/bus" ] && "$FWGUARD" status --runtime-dir "$RUN" > /dev/null 2>&1 && return 0
                kill -0 "$DPID" 2>/dev/null || { cat "$TMP/daemon.err" >&2; fail "fwguardd died"; }
                sleep 0.05
        done
        fail "fwguardd did not answer on $RUN/bus"
}
# Stop with SIGTERM; the exit status must be 0.
stop_daemon() {
        local rc=0
        kill -TERM "$DPID"
        wait "$DPID" || rc=$?
        DPID=
        [ "$rc" = 0 ] || { cat "$TMP/daemon.err" >&2; fail "fwguardd exited $rc on SIGTERM"; }
}
at_exit '[ -z "$DPID" ] || { kill -KILL "$DPID"; wait "$DPID"; }'

start_daemon

# Idle, as text and JSON, through the option and the environment.
[ "$("$FWGUARD" status --runtime-dir "$RUN")" = idle ] || fail "status does not say idle"
FWGUARD_RUNTIME_DIR="$RUN" "$FWGUARD" status --json > "$TMP/status.json" || fail "status --json failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="idle" and d["trial"] is None, d' \
        "$TMP/status.json" || fail "status --json: $(cat "$TMP/status.json")"

# busctl speaks to the bus-less socket (the daemon answers its Hello).
busctl --address="$ADDR" introspect "${OBJ[@]}" > "$TMP/introspect" || fail "busctl introspect failed"
grep -Eq '^\.Status +method +- +stts' "$TMP/introspect" || { cat "$TMP/introspect" >&2; fail "Status not listed"; }
[ "$(busctl --address="$ADDR" call "${OBJ[@]}" org.fwguard.Manager1 Status)" = 'stts "idle" 0 0 ""' ] ||
        fail "busctl call Status"

# The socket is open to everyone; the table lets anyone call Status, and
# refuses a method it does not list.
[ "$(stat -c %a "$RUN")" = 755 ] && [ "$(stat -c %a "$RUN/bus")" = 666 ] || fail "runtime modes"
[ "$(nobody "$FWGUARD" status --runtime-dir "$RUN")" = idle ] || fail "nobody cannot call status"
nobody busctl --address="$ADDR" call "${OBJ[@]}" org.fwguard.Manager1 Nope 2> "$TMP/nope.err" &&
        fail "an unlisted method was served"
grep -q "Access denied" "$TMP/nope.err" || fail "unlisted method: $(cat "$TMP/nope.err")"

# A pending trial record, written by lib/trial, shows up.
ID=$("$TRIAL_BEGIN" "$STATE" 300 "test change") || fail "trial-begin"
"$FWGUARD" status --runtime-dir "$RUN" > "$TMP/status.txt" || fail "status with a trial failed"
grep -qx "trial $ID: snapshot-durable" "$TMP/status.txt" || fail "status: $(cat "$TMP/status.txt")"
grep -q "^deadline: .*(in [0-9]* s)" "$TMP/status.txt" || fail "no deadline: $(cat "$TMP/status.txt")"
grep -qx "test change" "$TMP/status.txt" || fail "no summary: $(cat "$TMP/status.txt")"
nobody "$FWGUARD" status --runtime-dir "$RUN" --json > "$TMP/status.json" || fail "nobody: status --json"
python3 -c '
import json, sys, time
d = json.load(open(sys.argv[1]))
t = d["trial"]
assert d["state"] == "snapshot-durable" and t["id"] == int(sys.argv[2]) and t["summary"] == "test change", d
assert 0 < t["deadline_realtime_usec"] / 1e6 - time.time() <= 300, d
' "$TMP/status.json" "$ID" || fail "status --json with a trial: $(cat "$TMP/status.json")"

# SIGTERM: exit 0, the state directory untouched, the socket gone.
(cd "$STATE" && find . -printf '%p %s %T@\n' | sort) > "$TMP/before"
stop_daemon
(cd "$STATE" && find . -printf '%p %s %T@\n' | sort) > "$TMP/after"
same "$TMP/before" "$TMP/after" "SIGTERM changed the state directory"
[ ! -e "$RUN/bus" ] || fail "the socket outlived the daemon"
[ ! -s "$TMP/daemon.err" ] || fail "fwguardd wrote: $(cat "$TMP/daemon.err")"

# No daemon: exit 1 and the command that starts it.
rc=0
"$FWGUARD" status --runtime-dir "$RUN" 2> "$TMP/down.err" || rc=$?
[ "$rc" = 1 ] || fail "status without a daemon exited $rc"
grep -q "systemctl start fwguardd" "$TMP/down.err" || fail "no hint: $(cat "$TMP/down.err")"
note "ok"

# SPDX-License-Identifier: GPL-2.0-or-later
# daemon.sh — fwguardd for tests: run inside a network namespace the test
# made, with private state and runtime directories and a config of its own.
# Source it after common.sh.
#
#   daemon_netns              the daemon's own network namespace, kept by a
#                             sleeping process NSPID: lo up, and a veth pair
#                             carrying 192.0.2.1/24 (the pre-flight probes the
#                             guarded port from the host's address); no sshd
#   daemon_links              the same links in the namespace of another NSPID
#   N CMD...                  run CMD in that namespace
#   daemon_start_ns [VAR=VAL...]  daemon_start in it, with that environment
#   daemon_config [LINES...]  write the config ([trial] timeout_min_sec = 1,
#                             so trials of a few seconds are allowed; then LINES)
#   daemon_start PREFIX...    start fwguardd under PREFIX (a command that execs
#                             it: `ip netns exec NS`, `nsenter -t PID -n --`; not
#                             a shell function such as sshenv.sh's srv, which
#                             runs in a subshell), wait until it answers;
#                             FWGD_PID is the daemon; FWGD_ARGS (an array)
#                             are more arguments for it
#   daemon_stop               SIGTERM, and it must exit 0
#   daemon_kill               SIGKILL (a crash), and reap it
#   fwg ARGS...               the CLI, talking to this daemon
#   wait_idle SECONDS         until Status says idle, or fail
#
# The rollback announcement never reaches the host's terminals: fwguardd runs
# FWGUARDD_WALL (default: a script appending its text to $FWGD_WALL_LOG).
#
# The CLI may run in any namespace: the bus is a unix socket path. The
# daemon acts on the namespace it runs in.
: "${FWGUARDD:?FWGUARDD must point to the fwguardd binary}"

FWGD_DIR=$TMP/fwguardd
FWGD_STATE=$FWGD_DIR/state
FWGD_RUN=$FWGD_DIR/run
FWGD_CONF=$FWGD_DIR/fwguard.conf
FWGD_LOG=$FWGD_DIR/daemon.log
FWGD_PID=
FWGD_ARGS=()
export FWGUARD_RUNTIME_DIR=$FWGD_RUN
mkdir -p "$FWGD_DIR"
# Unprivileged callers must reach the socket: mktemp made TMP 0700.
chmod 0755 "$TMP" "$FWGD_DIR"

FWGD_WALL_LOG=$FWGD_DIR/wall.log
printf '#!/bin/sh\nprintf "%%s\\n" "$1" >> "%s"\n' "$FWGD_WALL_LOG" > "$FWGD_DIR/wall.sh"
chmod 0755 "$FWGD_DIR/wall.sh"
export FWGUARDD_WALL=${FWGUARDD_WALL:-$FWGD_DIR/wall.sh}

daemon_config() {
        { printf '[trial]\ntimeout_min_sec = 1\n'; printf '%s\n' "$@"; } > "$FWGD_CONF"
}
[ -e "$FWGD_CONF" ] || daemon_config

fwg() { "$FWGUARD" "$@"; }

daemon_start() {
        # The prefix execs the daemon (ip netns exec, nsenter without
        # --fork), so $! is fwguardd itself.
        "$@" "$FWGUARDD" --state-dir "$FWGD_STATE" --runtime-dir "$FWGD_RUN" --config "$FWGD_CONF" \
                "${FWGD_ARGS[@]}" 2>> "$FWGD_LOG" &
        FWGD_PID=$!
        for _ in $(seq 200); do
                [ -S "$FWGD_RUN/bus" ] && fwg status > /dev/null 2>&1 && return 0
                kill -0 "$FWGD_PID" 2>/dev/null || { cat "$FWGD_LOG" >&2; fail "fwguardd died"; }
                sleep 0.05
        done
        fail "fwguardd did not answer on $FWGD_RUN/bus"
}

daemon_netns() {
        NSPID=$(netns_holder) || fail "cannot make a network namespace"
        at_exit "kill $NSPID"
        daemon_links
}
# What daemon_netns puts into the network namespace of $NSPID.
daemon_links() {
        N ip link set lo up
        N ip link add fwg0 type veth peer name fwg1
        N ip addr add 192.0.2.1/24 dev fwg0
        N ip link set fwg0 up
        N ip link set fwg1 up
}
N() { nsenter -t "$NSPID" -n -- "$@"; }
daemon_start_ns() { daemon_start env "$@" nsenter -t "$NSPID" -n --; }

daemon_stop() {
        local rc=0
        [ -n "$FWGD_PID" ] || return 0
        kill -TERM "$FWGD_PID"
        wait "$FWGD_PID" || rc=$?
        FWGD_PID=
        [ "$rc" = 0 ] || { cat "$FWGD_LOG" >&2; fail "fwguardd exited $rc on SIGTERM"; }
}

daemon_kill() {
        [ -n "$FWGD_PID" ] || return 0
        kill -KILL "$FWGD_PID" 2>/dev/null || true
        wait "$FWGD_PID" 2>/dev/null || true
        FWGD_PID=
}
at_exit daemon_kill

wait_idle() {
        local until=$((SECONDS + $1))
        while [ $SECONDS -lt $until ]; do
                [ "$(fwg status 2>/dev/null)" = idle ] && return 0
                sleep 0.1
        done
        fail "still not idle after $1 s: $(fwg status 2>&1)"
}

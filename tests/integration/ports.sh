#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ports.sh — SSH port discovery against a real sshd in a namespace of its
# own: its listening sockets, sshd -T, config ports, the fallback, and what
# must not count (other listeners, another namespace, another binary).
. "$SRCDIR/tests/lib/common.sh"
need_root
DISCOVER="$BUILDDIR/tests/integration/ports-discover"
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || fail "$SSHD is missing: install openssh-server"

# One network and mount namespace, kept by a sleeping process. sshd needs
# /run/sshd; a tmpfs on /run in the private mount namespace keeps the
# host's /run untouched.
unshare --net --mount sh -c "mount -t tmpfs tmpfs /run && mkdir /run/sshd && ip link set lo up &&
        touch '$TMP/ns.ready' && exec sleep 600" &
NSPID=$!
ns() { nsenter -t "$NSPID" -n -m -- "$@"; }
# Background processes are started with a plain nsenter, never through ns():
# a backgrounded function is a subshell, and $! would name it, not sshd.
# At exit, every process in the namespace goes: sshd's children too.
kill_namespace() {
        local net p left nsfd
        # Hold the namespace open while killing: once its last process is
        # gone the kernel gives its inode number to the next new namespace
        # at once, and the loop below would kill whatever runs in that one
        # (another test's sandbox, say).
        [ -e "/proc/$NSPID/ns/net" ] || return 0
        exec {nsfd}< "/proc/$NSPID/ns/net"
        net=$(readlink "/proc/self/fd/$nsfd")
        for _ in $(seq 50); do
                left=
                for p in /proc/[0-9]*; do
                        [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$net" ] || continue
                        kill "${p#/proc/}" 2>/dev/null && left=1
                done
                [ -z "$left" ] && break
                sleep 0.1
        done
        [ -z "$left" ] || for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$net" ] && kill -9 "${p#/proc/}" 2>/dev/null
        done
        exec {nsfd}<&-
        wait 2>/dev/null
}
at_exit kill_namespace
wait_for() {    # wait_for WHAT COMMAND...: up to 5 s for COMMAND to succeed
        local what=$1; shift
        for _ in $(seq 50); do "$@" > /dev/null 2>&1 && return 0; sleep 0.1; done
        fail "timed out waiting for $what"
}
wait_for "the namespace" test -e "$TMP/ns.ready"
listening() { [ -n "$(ns ss -Htln "sport = :$1")" ]; }

# start_sshd NAME BINARY LISTENADDRESS...: a real sshd, killed at exit.
start_sshd() {
        local name=$1 bin=$2; shift 2
        {
                echo "HostKey $TMP/hostkey"
                for a in "$@"; do echo "ListenAddress $a"; done
                echo "StrictModes no"
                echo "UsePAM no"
                echo "PidFile $TMP/$name.pid"
        } > "$TMP/$name.conf"
        nsenter -t "$NSPID" -n -m -- "$bin" -D -e -f "$TMP/$name.conf" 2> "$TMP/$name.log" &
}
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey"

start_sshd sshd "$SSHD" 127.0.0.1:2222 '[::1]:2200'
wait_for "sshd on 2222 and 2200" eval 'listening 2222 && listening 2200'
wait_for "sshd's pid file" test -s "$TMP/sshd.pid"
SSHD_PID=$(cat "$TMP/sshd.pid")

# Not sshd: a plain listener on 8080.
nsenter -t "$NSPID" -n -m -- python3 -c 'import socket, time
s = socket.socket(socket.AF_INET6)
s.bind(("::", 8080))
s.listen()
time.sleep(600)' &
wait_for "the listener on 8080" listening 8080

# A copy of sshd elsewhere, later deleted as a package upgrade would do.
mkdir "$TMP/bin"
cp "$SSHD" "$TMP/bin/sshd"
start_sshd copy "$TMP/bin/sshd" 127.0.0.1:2300
wait_for "the copied sshd on 2300" listening 2300

# expect FILE PORT SOURCES: FILE has exactly that line.
expect() { grep -qxF "$2	$3" "$1" || fail "want \"$2	$3\" in $1:
$(cat "$1")"; }
# ports FILE: the ports listed in FILE, on one line.
ports() { grep -E '^[0-9]+	' "$1" | cut -f1 | tr '\n' ' '; }

note "listening sockets of sshd, in both families; nothing else"
ns "$DISCOVER" --no-sshd-t --no-systemd > "$TMP/listen.out" || fail "ports-discover failed"
expect "$TMP/listen.out" 2200 "listening socket of sshd (pid $SSHD_PID)"
expect "$TMP/listen.out" 2222 "listening socket of sshd (pid $SSHD_PID)"
[ "$(ports "$TMP/listen.out")" = "2200 2222 " ] ||
        fail "want only 2200 and 2222 (not 8080, not the copy's 2300):
$(cat "$TMP/listen.out")"

note "sshd -T with the same config adds itself as a source, and not port 22"
ns "$DISCOVER" --no-systemd --sshd-config "$TMP/sshd.conf" > "$TMP/sshd-t.out" || fail "ports-discover failed"
expect "$TMP/sshd-t.out" 2200 "listening socket of sshd (pid $SSHD_PID), sshd -T"
expect "$TMP/sshd-t.out" 2222 "listening socket of sshd (pid $SSHD_PID), sshd -T"
[ "$(ports "$TMP/sshd-t.out")" = "2200 2222 " ] || fail "unexpected ports: $(cat "$TMP/sshd-t.out")"
! grep -q '^note: sshd -T' "$TMP/sshd-t.out" || fail "unexpected note: $(cat "$TMP/sshd-t.out")"

note "sshd -T that fails (no host key) is ignored and says so"
printf 'HostKey %s\nListenAddress 127.0.0.1:2400\n' "$TMP/nokey" > "$TMP/nokey.conf"
ns "$DISCOVER" --no-systemd --sshd-config "$TMP/nokey.conf" > "$TMP/nokey.out" || fail "ports-discover failed"
grep -qF "note: sshd -T failed, ignored: exit status 1: sshd: no hostkeys available -- exiting." \
        "$TMP/nokey.out" || fail "no note about sshd -T: $(cat "$TMP/nokey.out")"
[ "$(ports "$TMP/nokey.out")" = "2200 2222 " ] || fail "unexpected ports: $(cat "$TMP/nokey.out")"

note "an sshd -T that hangs is killed after its time limit"
printf '#!/bin/bash\nexec -a "$0" sleep 60\n' > "$TMP/bin/hang"   # named for pgrep
chmod +x "$TMP/bin/hang"
ns "$DISCOVER" --no-systemd --sshd "$TMP/bin/hang" > "$TMP/hang.out" || fail "ports-discover failed"
grep -qxF "note: sshd -T failed, ignored: no answer within 5000 ms, killed" "$TMP/hang.out" || fail "no note: $(cat "$TMP/hang.out")"
! pgrep -f "$TMP/bin/hang" > /dev/null || fail "the hanging sshd -T is still running"

note "config ports are merged"
ns "$DISCOVER" --no-sshd-t --no-systemd --port 2222 --port 4444 > "$TMP/config.out" || fail "ports-discover failed"
expect "$TMP/config.out" 2200 "listening socket of sshd (pid $SSHD_PID)"
expect "$TMP/config.out" 2222 "listening socket of sshd (pid $SSHD_PID), config"
expect "$TMP/config.out" 4444 "config"
[ "$(ports "$TMP/config.out")" = "2200 2222 4444 " ] || fail "unexpected ports: $(cat "$TMP/config.out")"

note "an sshd whose binary was deleted (upgraded) still counts"
COPY_PID=$(cat "$TMP/copy.pid")
rm "$TMP/bin/sshd"
ns "$DISCOVER" --no-sshd-t --no-systemd --sshd "$TMP/bin/sshd" > "$TMP/deleted.out" || fail "ports-discover failed"
expect "$TMP/deleted.out" 2300 "listening socket of sshd (pid $COPY_PID)"
[ "$(ports "$TMP/deleted.out")" = "2300 " ] || fail "unexpected ports: $(cat "$TMP/deleted.out")"

note "sockets of another network namespace do not count: the fallback, with its reason"
in_netns "$DISCOVER" --no-sshd-t --no-systemd > "$TMP/none.out" || fail "ports-discover failed"
expect "$TMP/none.out" 22 "fallback: nothing else found"
[ "$(ports "$TMP/none.out")" = "22 " ] || fail "unexpected ports: $(cat "$TMP/none.out")"
grep -qxF "note: no SSH port found: guarding port 22" "$TMP/none.out" || fail "no note: $(cat "$TMP/none.out")"

note "config ports alone are something found: no fallback"
in_netns "$DISCOVER" --no-sshd-t --no-systemd --port 2022 > "$TMP/cfgonly.out" || fail "ports-discover failed"
[ "$(ports "$TMP/cfgonly.out")" = "2022 " ] || fail "unexpected ports: $(cat "$TMP/cfgonly.out")"

note "no system bus is not an error"
ns "$DISCOVER" --no-sshd-t > "$TMP/nobus.out" || fail "ports-discover failed"
grep -q "^note: ssh.socket: no system bus" "$TMP/nobus.out" || fail "no note: $(cat "$TMP/nobus.out")"
[ "$(ports "$TMP/nobus.out")" = "2200 2222 " ] || fail "unexpected ports: $(cat "$TMP/nobus.out")"
echo ok

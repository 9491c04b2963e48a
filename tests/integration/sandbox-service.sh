#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sandbox-service.sh — the sandbox as a service, outside systemd:
# systemd-socket-activate runs fwguard-sandbox-spawner for each connection to
# a SOCK_SEQPACKET socket, as fwguard-sandbox.socket (Accept=yes) does, and
# sandbox_compile() / sandbox_probe() connect to it (sandbox-tool --service,
# fwguardd --sandbox-socket) instead of forking. The callers' own fork is
# disabled (FWGUARD_SANDBOX names nothing), so every answer here came
# through the service:
#   - a compile gives S1; a syntax error FILE:LINE:COL; includes are read as
#     the caller, not as the service's root;
#   - a probe: reachable, and blocked;
#   - at the deadline the caller hangs up and the spawner kills the child;
#     a crash, and a sandbox that cannot be executed, are told apart by the
#     wait status that the spawner sends;
#   - a peer that is not root is refused before anything runs; a service
#     that does not run as root is refused by the caller;
#   - fwguardd --sandbox-socket applies (compile and pre-flight probe) and
#     reports syntax errors through the service, and says so when the
#     service is gone.
# The "host" is the test's namespace: it still has its ruleset, links and
# addresses after every call.
. "$SRCDIR/tests/lib/common.sh"
need_root
. "$SRCDIR/tests/lib/daemon.sh"
: "${FWGUARD_SANDBOX:?FWGUARD_SANDBOX must point to the sandbox binary}"
TOOL=$BUILDDIR/tests/integration/sandbox-tool
SPAWNER=$BUILDDIR/sandbox/fwguard-sandbox-spawner
command -v systemd-socket-activate > /dev/null || fail "systemd-socket-activate is missing"

# The host: fwguardd's namespace (tests/lib/daemon.sh: fwg0, 192.0.2.1) with a live ruleset.
daemon_netns
N nft 'table inet live { chain input { type filter hook input priority 0; policy accept; ip saddr 198.51.100.7 counter drop; }; }'
host_state() { N nft list ruleset; N ip -o link; N ip -o -4 addr; }
host_state > "$TMP/host.before"
host_unchanged() {
        host_state > "$TMP/host.after"
        same "$TMP/host.before" "$TMP/host.after" "the host namespace changed ($1)"
}

# service NAME SANDBOX [PREFIX...]: the sandbox service at $SOCKS/NAME,
# in the host namespace, running SANDBOX; its output in $TMP/NAME.log, its
# pid in $SERVICE_PID.
SOCKS=$TMP/sockets
mkdir -m 1777 "$SOCKS"
service() {
        local name=$1 sandbox=$2 pass=() v pid
        shift 2
        for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
                [ -z "${!v:-}" ] || pass+=(-E "$v")
        done
        nsenter -t "$NSPID" -n -- "$@" systemd-socket-activate --seqpacket --accept -l "$SOCKS/$name" \
                -E FWGUARD_SANDBOX="$sandbox" "${pass[@]}" "$SPAWNER" > "$TMP/$name.log" 2>&1 &
        pid=$!
        at_exit "kill $pid 2> /dev/null"
        for _ in $(seq 200); do
                [ -S "$SOCKS/$name" ] && SERVICE_PID=$pid && return 0
                kill -0 "$pid" 2> /dev/null || break
                sleep 0.05
        done
        cat "$TMP/$name.log" >&2
        fail "the sandbox service $name did not come up"
}

# tool NAME ARGS...: sandbox-tool in the host namespace, unable to fork a
# sandbox of its own; stdout, stderr and exit code in $TMP/NAME.out, .err, $rc.
tool() {
        local name=$1; shift
        set +e
        FWGUARD_SANDBOX=$TMP/no-such-sandbox N "$TOOL" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; rc=$?
        set -e
        host_unchanged "$name"
}
want_ok() { [ "$rc" = 0 ] || fail "$1: exit $rc: $(cat "$TMP/$1.err")"; }
want_err() {  # NAME FUNCTION ERRNO-NAME TEXT
        [ "$rc" = 1 ] && grep -qx "$2: $3" "$TMP/$1.err" && grep -qF -- "$4" "$TMP/$1.err" ||
                fail "$1: exit $rc, want 1, $3 and \"$4\": $(cat "$TMP/$1.err")"
}

chmod 711 "$TMP"
PUB=$TMP/pub
mkdir -m 755 "$PUB"
service main "$FWGUARD_SANDBOX"
SOCK=$SOCKS/main
MAIN_PID=$SERVICE_PID

note "a compile through the service: S1 is S0 plus the file"
cat > "$PUB/add.nft" <<'EOF'
add rule inet live input tcp dport 22 accept
table ip extra {
	chain out {
		type filter hook output priority filter; policy accept;
		oifname "fwg0" counter
	}
}
EOF
N nft list ruleset > "$TMP/s0.nft"
in_netns sh -c "nft -f '$TMP/s0.nft' && nft -f '$PUB/add.nft' && nft list ruleset" > "$TMP/expected.txt"
tool compile --service "$SOCK" "$PUB/add.nft" rules.nft
want_ok compile
same "$TMP/expected.txt" "$TMP/compile.out" "S1 from the service is not S0 plus the file"
# The control: without the service, the same call has no sandbox to run.
tool nofork "$PUB/add.nft" rules.nft
want_err nofork sandbox_compile ENOENT "cannot execute the sandbox $TMP/no-such-sandbox"

note "a syntax error: FILE:LINE:COL under the user's name for the file"
printf 'table ip t {\n\tchain c {\n\t\ttcp dport 22 acept\n\t}\n}\n' > "$PUB/bad.nft"
tool bad --service "$SOCK" "$PUB/bad.nft" rules.nft
want_err bad sandbox_compile EINVAL 'rules.nft:3:21: syntax error, unexpected newline'
grep -qxF $'\t\ttcp dport 22 acept' "$TMP/bad.err" || fail "no source context: $(cat "$TMP/bad.err")"

note "includes are read as the caller, not as the service"
MARK="fwguard-secret-$$-$RANDOM"
printf '%s\n' "$MARK" > "$PUB/secret.nft"
chmod 600 "$PUB/secret.nft"
printf 'include "%s"\n' "$PUB/secret.nft" > "$PUB/inc-secret.nft"
tool secret --service "$SOCK" --user nobody "$PUB/inc-secret.nft" inc-secret.nft
! grep -qF "$MARK" "$TMP/secret.out" "$TMP/secret.err" || fail "nobody's include read a file of root's"
want_err secret sandbox_compile EINVAL 'Permission denied'
tool secret-root --service "$SOCK" "$PUB/inc-secret.nft" inc-secret.nft
want_err secret-root sandbox_compile EINVAL 'syntax error'
grep -qF "$MARK" "$TMP/secret-root.err" || fail "root could not read its own include: $(cat "$TMP/secret-root.err")"

note "a probe through the service: reachable, and blocked by a policy"
tool probe-ok probe --service "$SOCK" --probe-timeout 1000 fwg0 22
want_ok probe-ok
grep -qx 'port 22: reachable' "$TMP/probe-ok.out" || fail "probe: $(cat "$TMP/probe-ok.out")"
printf 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n' \
        > "$PUB/drop.nft"
tool probe-drop probe --service "$SOCK" --rules "$PUB/drop.nft" --probe-timeout 1000 fwg0 22
[ "$rc" = 3 ] || fail "probe-drop: exit $rc, want 3: $(cat "$TMP/probe-drop.out" "$TMP/probe-drop.err")"
grep -qx 'message: port 22 is blocked by inet filter input: policy drop' "$TMP/probe-drop.out" ||
        fail "probe-drop: $(cat "$TMP/probe-drop.out")"

note "the deadline: the caller hangs up, and the spawner kills the child"
mkfifo "$PUB/fifo"
printf 'include "%s"\n' "$PUB/fifo" > "$PUB/inc-fifo.nft"
start=$SECONDS
tool fifo --service "$SOCK" --timeout 2 "$PUB/inc-fifo.nft" inc-fifo.nft
want_err fifo sandbox_compile ETIMEDOUT 'the parser did not finish within 2 s'
[ $((SECONDS - start)) -le 6 ] || fail "the timeout took $((SECONDS - start)) s"
# The spawner ends once it has killed and reaped the child. (Opening the
# FIFO to see whether the child still waits on it would let the child go on.)
for _ in $(seq 100); do
        [ -z "$(pgrep -P "$MAIN_PID")" ] && break
        sleep 0.05
done
[ -z "$(pgrep -P "$MAIN_PID")" ] || fail "the spawner and its child outlived the caller's hang-up"
python3 -c '
import errno, os, sys
try:
    os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
except OSError as e:
    sys.exit(0 if e.errno == errno.ENXIO else 1)
sys.exit(1)' "$PUB/fifo" || fail "the child still waits on the FIFO after the caller hung up"

note "how the child ended comes from the spawner: a crash, no sandbox to execute"
printf '#!/bin/sh\nkill -SEGV $$\n' > "$TMP/crash"
chmod 755 "$TMP/crash"
service crash "$TMP/crash"
tool crash --service "$SOCKS/crash" "$PUB/add.nft" rules.nft
want_err crash sandbox_compile EPROTO 'the parser crashed (signal 11, Segmentation fault); nothing live was changed'
service noexec "$TMP/no-such-sandbox"
tool noexec --service "$SOCKS/noexec" "$PUB/add.nft" rules.nft
want_err noexec sandbox_compile ENOEXEC "the sandbox service at $SOCKS/noexec cannot execute the sandbox"

note "only root may use the service, and the service must be root's"
# A sandbox that leaves a mark when it runs at all.
printf '#!/bin/sh\ntouch "$0.ran"\n' > "$TMP/mark"
chmod 755 "$TMP/mark"
service mark "$TMP/mark"
# As if someone had loosened the socket's mode (the unit has 0600).
chmod 666 "$SOCKS/mark"
connect() { # [PREFIX...]: connect, and print the length of the first message (0: hung up)
        "$@" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(20)
s.connect(sys.argv[1])
print(len(s.recv(65536)))' "$SOCKS/mark"
}
[ "$(connect nsenter -t "$NSPID" -n -- setpriv --reuid=nobody --regid=nogroup --clear-groups --)" = 0 ] ||
        fail "the spawner answered a peer that is not root"
[ ! -e "$TMP/mark.ran" ] || fail "the spawner ran the sandbox for a peer that is not root"
grep -q 'refused a connection of uid 65534 (pid [0-9]*): only root may use the sandbox' "$TMP/mark.log" ||
        fail "the refusal is not logged: $(cat "$TMP/mark.log")"
# The control: root gets the sandbox run and its exit status (SandboxMsgExited, 8 bytes).
[ "$(connect)" = 8 ] || fail "root got no exit status from the spawner"
[ -e "$TMP/mark.ran" ] || fail "the spawner did not run the sandbox for root"
service nobody "$FWGUARD_SANDBOX" setpriv --reuid=nobody --regid=nogroup --clear-groups --
tool nobody-service --service "$SOCKS/nobody" "$PUB/add.nft" rules.nft
want_err nobody-service sandbox_compile EPERM "the sandbox service at $SOCKS/nobody does not run as root (uid 65534)"

note "fwguardd --sandbox-socket: an apply, its pre-flight and a syntax error go through the service"
FWGD_ARGS=(--sandbox-socket="$SOCK")
daemon_start_ns FWGUARD_SANDBOX="$TMP/no-such-sandbox"
cat > "$PUB/rules.nft" <<'EOF'
table inet fwgtest {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 8080 drop
	}
}
EOF
N nft -s list ruleset > "$TMP/live.before"
fwg apply --timeout 60 "$PUB/rules.nft" > "$TMP/apply.out" 2>&1 ||
        fail "apply through the service failed: $(cat "$TMP/apply.out")"
N nft -s list table inet fwgtest > "$TMP/applied.nft"
grep -qF 'tcp dport 22 counter accept comment "fwguard ssh guard"' "$TMP/applied.nft" &&
        grep -qF 'tcp dport 8080 drop' "$TMP/applied.nft" || fail "not applied with its guard: $(cat "$TMP/applied.nft")"
fwg rollback > "$TMP/rollback.out" 2>&1 || fail "rollback: $(cat "$TMP/rollback.out")"
N nft -s list ruleset > "$TMP/live.after"
same "$TMP/live.before" "$TMP/live.after" "the rollback did not bring the ruleset back"
rc=0
fwg apply --timeout 60 "$PUB/bad.nft" > "$TMP/apply-bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -qF "$PUB/bad.nft:3:21: syntax error, unexpected newline" "$TMP/apply-bad.out" ||
        fail "apply of a bad file through the service: exit $rc: $(cat "$TMP/apply-bad.out")"

note "the service gone: fwguardd says which socket it could not reach"
kill "$MAIN_PID"
wait "$MAIN_PID" 2> /dev/null || true
rm -f "$SOCK"
rc=0
fwg apply --timeout 60 "$PUB/rules.nft" > "$TMP/apply-gone.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -qF "cannot reach the sandbox service at $SOCK" "$TMP/apply-gone.out" ||
        fail "apply without the service: exit $rc: $(cat "$TMP/apply-gone.out")"
N nft -s list ruleset > "$TMP/live.gone"
same "$TMP/live.before" "$TMP/live.gone" "a failed apply changed the ruleset"
daemon_stop
host_unchanged end
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sandbox.sh — nft text compiled in the sandbox (lib/sandbox.c, sandbox/):
# S1 is S0 plus the file's effect; host interfaces have placeholders; errors
# come back as FILE:LINE:COL under the user's name; includes are read with
# the caller's uid and groups; a FIFO include, a crash and a hang end in a
# clear error. After every call the "host" (the test's namespace) still has
# exactly the ruleset, links and addresses it had.
. "$SRCDIR/tests/lib/common.sh"
need_root
: "${FWGUARD_SANDBOX:?FWGUARD_SANDBOX must point to the sandbox binary}"
TOOL="$BUILDDIR/tests/integration/sandbox-tool"

# The "host": a namespace kept by a sleeping process, with an interface
# named like a real one and a live ruleset.
unshare --net sleep 600 & NSPID=$!
at_exit "kill $NSPID"
# Until unshare has run, $NSPID is still in our own namespace: wait, or the
# first commands below would change the real host's links.
HOSTNS=$(readlink /proc/self/ns/net)
for _ in $(seq 100); do
        [ "$(readlink "/proc/$NSPID/ns/net")" != "$HOSTNS" ] && break
        sleep 0.05
done
[ "$(readlink "/proc/$NSPID/ns/net")" != "$HOSTNS" ] || fail "the test namespace did not come up"
ns() { nsenter -t "$NSPID" -n -- "$@"; }
# No duplicate address detection: "tentative" would change between listings.
ns sysctl -qw net.ipv6.conf.default.accept_dad=0
ns ip link add eth0 type veth peer name fwgtpeer0
ns ip addr add 192.0.2.1/24 dev eth0
ns ip addr add 2001:db8::1/64 dev eth0 nodad
ns ip link set fwgtpeer0 up
ns ip link set eth0 up
IDX=$(ns ip -o link show eth0 | cut -d: -f1)
cat > "$TMP/live.nft" <<'EOF'
table inet live {
	set blocked {
		type ipv4_addr
		elements = { 198.51.100.7 }
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr @blocked counter drop
	}
}
EOF
ns nft -f "$TMP/live.nft"

host_state() { ns nft list ruleset; ns ip -o link; ns ip -o addr; }
host_state > "$TMP/host.before"
host_unchanged() {
        host_state > "$TMP/host.after"
        same "$TMP/host.before" "$TMP/host.after" "the host namespace changed ($1)"
}

# compile NAME ARGS...: run the tool in the host namespace; S1 listing in
# $TMP/NAME.out, errors in $TMP/NAME.err, exit code in $rc.
compile() {
        local name=$1; shift
        set +e
        ns "$TOOL" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; rc=$?
        set -e
        host_unchanged "$name"
}
expect_ok() { [ "$rc" = 0 ] || fail "$1: exit $rc: $(cat "$TMP/$1.err")"; }
expect_err() {  # NAME ERRNO-NAME TEXT
        [ "$rc" = 1 ] || fail "$1: exit $rc, want 1: $(cat "$TMP/$1.err")"
        grep -qx "sandbox_compile: $2" "$TMP/$1.err" || fail "$1: want $2: $(cat "$TMP/$1.err")"
        grep -qF -- "$3" "$TMP/$1.err" || fail "$1: no \"$3\" in: $(cat "$TMP/$1.err")"
}
# The same without ever printing the output: it might hold what must not leak.
expect_err_quiet() {
        [ "$rc" = 1 ] && grep -qx "sandbox_compile: $2" "$TMP/$1.err" && grep -qF -- "$3" "$TMP/$1.err" ||
                fail "$1: want exit 1, $2 and \"$3\" (output not shown: it may hold secrets)"
}

# Files that the throwaway users may reach: $TMP itself only traversable.
chmod 711 "$TMP"
PUB="$TMP/pub"
mkdir -m 755 "$PUB"

note "a valid file: S1 is S0 plus the file's effect"
cat > "$PUB/add.nft" <<'EOF'
add rule inet live input tcp dport 22 accept
add element inet live blocked { 203.0.113.9 }
table ip extra {
	chain out {
		type filter hook output priority filter; policy accept;
		counter
	}
}
EOF
in_netns sh -c "nft -f '$TMP/live.nft' && nft -f '$PUB/add.nft' && nft list ruleset" > "$TMP/expected.txt"
compile valid "$PUB/add.nft" rules.nft
expect_ok valid
same "$TMP/expected.txt" "$TMP/valid.out" "S1 is not S0 plus the file"

note "the same from stdin"
set +e
ns "$TOOL" - - < "$PUB/add.nft" > "$TMP/stdin.out" 2> "$TMP/stdin.err"; rc=$?
set -e
host_unchanged stdin
expect_ok stdin
same "$TMP/expected.txt" "$TMP/stdin.out" "S1 from stdin differs"

note "the host's interfaces have placeholders: names, index and addresses compile"
cat > "$PUB/iface.nft" <<'EOF'
table inet iface {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "eth0" ip daddr 192.0.2.1 tcp dport 22 accept
		iif "eth0" ip6 daddr 2001:db8::1 accept
		iif "fwgtpeer0" drop
	}
}
EOF
compile iface "$PUB/iface.nft" iface.nft
expect_ok iface
# iif is stored as an index: the placeholder has the host's.
grep -qF "iif $IDX ip6 daddr 2001:db8::1 accept" "$TMP/iface.out" ||
        fail "iif \"eth0\" did not compile to the host's index $IDX: $(cat "$TMP/iface.out")"
grep -qF 'iifname "eth0" ip daddr 192.0.2.1 tcp dport 22 accept' "$TMP/iface.out" || fail "iifname rule missing"
printf 'table ip t {\n\tchain c {\n\t\tiif "nosuchif" accept\n\t}\n}\n' > "$PUB/noif.nft"
compile noif "$PUB/noif.nft" noif.nft
expect_err noif EINVAL 'noif.nft:3:7: Interface does not exist'

note "a syntax error: FILE:LINE:COL under the user's name for the file"
printf 'table ip t {\n\tchain c {\n\t\ttcp dport 22 acept\n\t}\n}\n' > "$PUB/bad.nft"
compile bad "$PUB/bad.nft" rules.nft
expect_err bad EINVAL 'rules.nft:3:21: syntax error, unexpected newline'
grep -qxF $'\t\ttcp dport 22 acept' "$TMP/bad.err" || fail "no source context: $(cat "$TMP/bad.err")"
! grep -q '/proc/self/fd' "$TMP/bad.err" || fail "the scratch path leaked: $(cat "$TMP/bad.err")"
set +e
ns "$TOOL" - - < "$PUB/bad.nft" > /dev/null 2> "$TMP/badstdin.err"; rc=$?
set -e
expect_err badstdin EINVAL 'stdin:3:21: syntax error, unexpected newline'

note "includes are read with the caller's uid and groups"
USR="fwgt$$"
useradd --system --no-create-home --shell /usr/sbin/nologin --gid nogroup --groups sudo "$USR"
at_exit "userdel $USR"
MARK="fwguard-secret-$$-$RANDOM"
printf '%s\n' "$MARK" > "$PUB/secret.nft"
chmod 600 "$PUB/secret.nft"
printf 'table ip fromgroup\n' > "$PUB/group.nft"
chgrp sudo "$PUB/group.nft"
chmod 640 "$PUB/group.nft"
printf 'table ip fromroot\n' > "$PUB/root-inc.nft"
chmod 600 "$PUB/root-inc.nft"
printf 'include "%s"\n' "$PUB/secret.nft" > "$PUB/inc-secret.nft"
printf 'include "%s"\n' "$PUB/group.nft" > "$PUB/inc-group.nft"
printf 'include "%s"\n' "$PUB/root-inc.nft" > "$PUB/inc-root.nft"
printf 'include "/etc/shadow"\n' > "$PUB/inc-shadow.nft"

# The control: read as root, nft does show an included line in its errors.
compile secret-root "$PUB/inc-secret.nft" inc-secret.nft
expect_err secret-root EINVAL 'syntax error'
grep -qF "$MARK" "$TMP/secret-root.err" || fail "control: nft did not print the included line"

compile shadow "$PUB/inc-shadow.nft" inc-shadow.nft --user "$USR"
! grep -qxFf /etc/shadow "$TMP/shadow.err" "$TMP/shadow.out" || fail "a line of /etc/shadow was printed"
expect_err_quiet shadow EINVAL 'inc-shadow.nft:1:1: Could not open file "/etc/shadow": Permission denied'
compile secret-user "$PUB/inc-secret.nft" inc-secret.nft --user "$USR"
! grep -qF "$MARK" "$TMP/secret-user.err" "$TMP/secret-user.out" || fail "the secret file was read as $USR"
expect_err secret-user EINVAL 'Permission denied'

compile group-user "$PUB/inc-group.nft" inc-group.nft --user "$USR"
expect_ok group-user
grep -qx 'table ip fromgroup {' "$TMP/group-user.out" || fail "a member of sudo cannot read a sudo-group file"
compile group-nobody "$PUB/inc-group.nft" inc-group.nft --user nobody
expect_err group-nobody EINVAL 'Permission denied'

compile root-inc "$PUB/inc-root.nft" inc-root.nft
expect_ok root-inc
grep -qx 'table ip fromroot {' "$TMP/root-inc.out" || fail "root's include is not in S1"

note "an include of a FIFO is stopped by the timeout"
mkfifo "$PUB/fifo"
at_exit "rm -f '$PUB/fifo'"
printf 'include "%s"\n' "$PUB/fifo" > "$PUB/inc-fifo.nft"
start=$SECONDS
compile fifo "$PUB/inc-fifo.nft" inc-fifo.nft --timeout 2
expect_err fifo ETIMEDOUT 'the parser did not finish within 2 s (an include of a FIFO, or a huge file?)'
[ $((SECONDS - start)) -le 6 ] || fail "the timeout took $((SECONDS - start)) s"
# Nobody is left reading the FIFO: opening it for writing without a reader fails.
python3 -c '
import errno, os, sys
try:
    os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
except OSError as e:
    sys.exit(0 if e.errno == errno.ENXIO else 1)
sys.exit(1)' "$PUB/fifo" || fail "the parser still holds the FIFO open"

note "a sandbox that crashes or hangs is a clear error; the caller goes on"
printf '#!/bin/sh\nkill -SEGV $$\n' > "$TMP/crash"
HANG="sleep $((4000 + RANDOM % 1000))"
printf '#!/bin/sh\n%s &\nwait\n' "$HANG" > "$TMP/hang"
chmod 755 "$TMP/crash" "$TMP/hang"
at_exit "pkill -x -f '$HANG'"
set +e
FWGUARD_SANDBOX="$TMP/crash" ns "$TOOL" "$PUB/add.nft" rules.nft > /dev/null 2> "$TMP/crash.err"; rc=$?
set -e
host_unchanged crash
expect_err crash EPROTO 'the parser crashed (signal 11, Segmentation fault); nothing live was changed'
set +e
FWGUARD_SANDBOX="$TMP/hang" ns "$TOOL" --timeout 1 "$PUB/add.nft" rules.nft > /dev/null 2> "$TMP/hang.err"; rc=$?
set -e
host_unchanged hang
expect_err hang ETIMEDOUT 'did not finish within 1 s'
! pgrep -x -f "$HANG" > /dev/null || fail "a process the sandbox started outlived it"

note "the memory limit"
python3 -c '
print("table ip big {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {")
print(",\n".join("10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255) for i in range(100000)))
print("\t\t}\n\t}\n}")' > "$PUB/big.nft"
if grep -q __asan_init "$FWGUARD_SANDBOX"; then
        note "AddressSanitizer build: RLIMIT_AS is not applied, nothing to check"
else
        compile big "$PUB/big.nft" big.nft --memory 32
        expect_err big ENOMEM 'the parser ran out of memory (limit 32 MiB)'
fi

host_unchanged end
echo ok

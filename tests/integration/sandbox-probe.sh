#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sandbox-probe.sh — the reachability probe run in the sandbox (sandbox_probe()):
# the ruleset under test is loaded next to placeholders of the host's links
# and probed through the placeholder of the named host interface; the
# blocker is named as probe_run() names it; an unknown interface and a bad
# request are clear errors; the deadline covers the probe's budget. After
# every call the "host" (the test's namespace) still has exactly the
# ruleset, links, addresses and routes it had.
. "$SRCDIR/tests/lib/common.sh"
need_root
: "${FWGUARD_SANDBOX:?FWGUARD_SANDBOX must point to the sandbox binary}"
TOOL="$BUILDDIR/tests/integration/sandbox-tool"
[ -x "$TOOL" ] || fail "no $TOOL"

# The "host": a namespace with an eth0 and a live ruleset.
NSPID=$(netns_holder) || fail "the test namespace did not come up"
at_exit "kill $NSPID"
ns() { nsenter -t "$NSPID" -n -- "$@"; }
# No duplicate address detection: "tentative" would change between listings.
ns sysctl -qw net.ipv6.conf.default.accept_dad=0
ns ip link add eth0 type veth peer name fwgtpeer0
ns ip addr add 192.0.2.1/24 dev eth0
ns ip addr add 2001:db8:f::1/64 dev eth0 nodad
ns ip link set fwgtpeer0 up
ns ip link set eth0 up
# Its counter shows that no probe packet ever crosses it.
ns nft 'table ip live { chain input { type filter hook input priority 0; policy accept; ip saddr 198.51.100.7 counter drop; }; }'

host_state() {
        ns nft list ruleset; ns ip -o link; ns ip -o addr; ns ip -o route; ns ip -6 -o route
}
host_state > "$TMP/host.before"
host_unchanged() {
        host_state > "$TMP/host.after"
        same "$TMP/host.before" "$TMP/host.after" "the host namespace changed ($1)"
}

# probe NAME ARGS...: sandbox-tool probe in the host namespace; its output
# in $TMP/NAME.out, errors in $TMP/NAME.err, exit code in $rc.
probe() {
        local name=$1; shift
        set +e
        ns "$TOOL" probe "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; rc=$?
        set -e
        sed "s/^/  $name| /" "$TMP/$name.out" "$TMP/$name.err"
        host_unchanged "$name"
}
want_rc() { [ "$rc" = "$2" ] || fail "$1: exit $rc, want $2: $(cat "$TMP/$1.err")"; }
want() { grep -qxF -- "$2" "$TMP/$1.out" || fail "$1: no line: $2"; }
want_err() {  # NAME ERRNO-NAME TEXT
        [ "$rc" = 1 ] || fail "$1: exit $rc, want 1: $(cat "$TMP/$1.err")"
        grep -qx "sandbox_probe: $2" "$TMP/$1.err" || fail "$1: want $2: $(cat "$TMP/$1.err")"
        grep -qF -- "$3" "$TMP/$1.err" || fail "$1: no \"$3\" in: $(cat "$TMP/$1.err")"
}

cat > "$TMP/c1.nft" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport { 80, 443 } accept
	}
}
EOF

note "1: inet filter input policy drop, 80 and 443 accepted: 22 blocked by the policy, 80 reachable"
probe c1 --rules "$TMP/c1.nft" --probe-timeout 1000 --client 198.51.100.77 --server 192.0.2.1 eth0 22 80
want_rc c1 3
want c1 'port 22: blocked'
want c1 'message: port 22 is blocked by inet filter input: policy drop'
want c1 'verdict: policy'
want c1 'packet: tcp'
want c1 'guard-fixable: yes'
want c1 'port 80: reachable'
want c1 'message: port 80 is reachable from 198.51.100.77: connection and data both ways'

note "2: the same with a guard-like accept at the head of input: reachable"
cat > "$TMP/c2.nft" <<'EOF'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport 22 counter accept comment "fwguard ssh guard"
		tcp dport { 80, 443 } accept
	}
}
EOF
probe c2 --rules "$TMP/c2.nft" --probe-timeout 1000 eth0 22 80
want_rc c2 0
want c2 'message: port 22 is reachable from 198.51.100.77: connection and data both ways'
want c2 'message: port 80 is reachable from 198.51.100.77: connection and data both ways'

note "3: IPv6, an ip6 table dropping neighbour solicitations: blocked, ND, not guard-fixable"
echo 'table ip6 nd { chain input { type filter hook input priority 0; icmpv6 type nd-neighbor-solicit drop; }; }' \
        > "$TMP/c3.nft"
probe c3 --rules "$TMP/c3.nft" --probe-timeout 1000 --client 2001:db8:ffff::77 --server 2001:db8:f::1 eth0
want_rc c3 3
want c3 'message: port 22 is blocked by ip6 nd input: rule `icmpv6 type nd-neighbor-solicit drop` (IPv6 neighbour discovery: SSH needs it to reach the host; the TCP guard does not cover it)'
want c3 'packet: nd'
want c3 'guard-fixable: no'
want c3 'rule: icmpv6 type nd-neighbor-solicit drop'
# The control: without the drop, IPv6 gets through.
probe c3ok --probe-timeout 1000 --client 2001:db8:ffff::77 --server 2001:db8:f::1 eth0
want_rc c3ok 0
want c3ok 'message: port 22 is reachable from 2001:db8:ffff::77: connection and data both ways'

note "4: a host interface that does not exist is a clear error"
probe noif eth9 22
want_err noif ENODEV 'the host has no interface eth9 to probe through (it has '
grep -qF 'eth0' "$TMP/noif.err" || fail "noif: the host's interfaces are not named: $(cat "$TMP/noif.err")"
probe lo lo 22
want_err lo ENODEV 'the host has no interface lo to probe through'

note "the live ruleset is what is probed without --rules: its drop of 198.51.100.7 blocks that client"
probe live --probe-timeout 1000 --client 198.51.100.7 eth0
want_rc live 3
want live 'message: port 22 is blocked by ip live input: rule `ip saddr 198.51.100.7 counter drop`'

note "16 ports, the most there are: the whole answer crosses the socket"
# shellcheck disable=SC2046
probe ports16 --probe-timeout 1000 eth0 $(seq 2201 2216)
want_rc ports16 0
[ "$(grep -c '^port [0-9]*: reachable$' "$TMP/ports16.out")" = 16 ] || fail "ports16: not 16 reachable ports"
want ports16 'message: port 2216 is reachable from 198.51.100.77: connection and data both ways'

note "requests outside the contract are refused before the sandbox starts"
# shellcheck disable=SC2046
probe ports17 eth0 $(seq 2201 2217)
want_err ports17 EINVAL 'the probe takes 1 to 16 ports'
probe dup eth0 22 22
want_err dup EINVAL 'a port is named twice'
probe fam --client 2001:db8:ffff::77 eth0 22
want_err fam EINVAL 'not two addresses of one family'
probe same --client 192.0.2.1 eth0 22
want_err same EINVAL 'the server and client addresses are the same'
probe quote 'eth"0' 22
want_err quote EINVAL 'the interface name is empty, too long, or has characters'
probe long 0123456789abcdef 22
want_err long EINVAL 'the interface name is empty, too long, or has characters'
probe slow --probe-timeout 60001 eth0 22
want_err slow EINVAL "the probe's timeout is not 1 to 60000 ms"

note "an unprivileged caller probes in a user namespace of its own"
probe user --rules "$TMP/c1.nft" --probe-timeout 1000 --user nobody eth0 22 80
want_rc user 3
want user 'message: port 22 is blocked by inet filter input: policy drop'
want user 'message: port 80 is reachable from 198.51.100.77: connection and data both ways'

note "the deadline covers the probe's budget: a 3 s probe under a 1 s sandbox timeout"
probe budget --rules "$TMP/c1.nft" --timeout 1 --probe-timeout 3000 eth0 22
want_rc budget 3
want budget 'message: port 22 is blocked by inet filter input: policy drop'

note "a sandbox that hangs is stopped at the deadline: the timeout plus the probe's budget"
HANG="sleep $((4000 + RANDOM % 1000))"
printf '#!/bin/sh\n%s &\nwait\n' "$HANG" > "$TMP/hang"
chmod 755 "$TMP/hang"
at_exit "pkill -x -f '$HANG'"
start=$SECONDS
FWGUARD_SANDBOX="$TMP/hang" probe hang --timeout 1 --probe-timeout 500 eth0 22
want_err hang ETIMEDOUT 'the probe did not finish within 6 s; nothing live was changed'
[ $((SECONDS - start)) -le 10 ] || fail "the deadline took $((SECONDS - start)) s"
! pgrep -x -f "$HANG" > /dev/null || fail "a process the sandbox started outlived it"

host_unchanged end
echo ok

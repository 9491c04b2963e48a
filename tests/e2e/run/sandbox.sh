#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The run sandbox (issue 7, CLI side) with real ufw: what a command does in it
# comes back (exit code, output, the ruleset S1, the changed allow-listed
# files), and nothing reaches the live ruleset or the files it started from.
#
#   sandbox.sh RUN_SANDBOX CASE
#     ufw-enable  `ufw --force enable`: S1 has ufw's chains and the baseline,
#                 ufw.conf (ENABLED=yes) and the user rules are captured
#     ufw-fail    `ufw allow nonsense`: its exit code and message come back, no change
#     ufw-noop    `ufw status`: no change, no trial (fwguard run says so, --json too)
#     outside     a write outside the allow-list fails inside and lands nowhere
#     prompt      `ufw enable` under an "sshd" ancestor asks; 'y' and 'n' through the pty
#     nonroot     a non-root caller is refused (exit 3) and nothing runs
#     sysctl      network sysctls: the live namespace's values are copied into
#                 the sandbox, those that `ufw --force enable` (its
#                 sysctl.conf) or `sysctl -w` change come back, only keys of
#                 lib/netsysctl.h's list, and the live namespace's (and the
#                 host's) values stay as they were
#
# Safety: the whole test runs in a network namespace it makes, inside a
# private mount namespace whose /etc/ufw, /etc/default/ufw and /run are
# private copies (tmpfs over the target of the outside case), so even a broken
# sandbox cannot touch the host. The host's files are checked at the end too.
# No daemon runs: `fwguard run` stops at the Run call ("fwguardd is not
# running") after printing what it would hand over.
. "$SRCDIR/tests/lib/common.sh"
need_root

RUN_SANDBOX=$1
CASE=$2
command -v ufw > /dev/null || fail "ufw is not installed (see tests/README or TESTING-NOTES: apt-get install ufw)"

# A directory outside the allow-list that exists on this host.
OUTSIDE=/etc/sudoers.d
[ -d "$OUTSIDE" ] || OUTSIDE=/etc/ssh
[ -d "$OUTSIDE" ] || OUTSIDE=/usr/local/sbin

host_sums() {
        find /etc/ufw /etc/default/ufw "$OUTSIDE" -xdev \( -type f -o -type l \) -print0 2>/dev/null | sort -z |
                xargs -0 stat -c '%n %a %s' | sort
        find /etc/ufw /etc/default/ufw -type f -print0 | sort -z | xargs -0 sha256sum
}

SYSCTL_KEYS="net/ipv4/icmp_echo_ignore_all net/ipv4/conf/all/accept_redirects net/ipv4/icmp_echo_ignore_broadcasts
             net/ipv4/tcp_fin_timeout net/ipv4/ip_forward net/ipv4/tcp_syncookies"
sysctl_values() { for k in $SYSCTL_KEYS; do echo "$k $(cat "/proc/sys/$k")"; done; }

if [ -z "${RUN_INNER:-}" ]; then
        sysctl_values > "$TMP/host-sysctl.before"
        NSPID=$(netns_holder) || fail "cannot make a network namespace"
        at_exit "kill $NSPID"
        N() { nsenter -t "$NSPID" -n -- "$@"; }
        N ip link set lo up
        N ip link add fwg0 type veth peer name fwg1
        N ip addr add 192.0.2.1/24 dev fwg0
        N ip link set fwg0 up
        host_sums > "$TMP/host.before"
        rc=0
        N unshare -m --propagation private -- env RUN_INNER=1 bash "$0" "$@" || rc=$?
        host_sums > "$TMP/host.after"
        same "$TMP/host.before" "$TMP/host.after" "the host's files changed"
        sysctl_values > "$TMP/host-sysctl.after"
        same "$TMP/host-sysctl.before" "$TMP/host-sysctl.after" "the host's network sysctls changed"
        [ ! -e "$OUTSIDE/fwguard-run-test" ] || fail "the write reached the host's $OUTSIDE"
        exit $rc
fi

# ---- inside: the test's network namespace, a private mount namespace
mkdir -p "$TMP/etc-ufw" "$TMP/default"
cp -a /etc/ufw/. "$TMP/etc-ufw/"
cp -a /etc/default/ufw "$TMP/default/ufw"
mount --bind "$TMP/etc-ufw" /etc/ufw
mount --bind "$TMP/default/ufw" /etc/default/ufw
mount -t tmpfs tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs "$OUTSIDE"
export FWGUARD_RUNTIME_DIR=$TMP/no-daemon

# The live ruleset: a baseline that S1 must keep, and that must stay as it is.
nft -f - <<'EOF'
table inet base {
        chain input {
                type filter hook input priority 0; policy accept;
                ct state established,related accept
        }
}
EOF
ruleset_state > "$TMP/live.before"
( cd /etc/ufw && find . -type f -print0 | sort -z | xargs -0 sha256sum ) > "$TMP/etc.before"
sha256sum /etc/default/ufw >> "$TMP/etc.before"

check_untouched() {
        ruleset_state > "$TMP/live.after"
        same "$TMP/live.before" "$TMP/live.after" "the live ruleset changed"
        ( cd /etc/ufw && find . -type f -print0 | sort -z | xargs -0 sha256sum ) > "$TMP/etc.after"
        sha256sum /etc/default/ufw >> "$TMP/etc.after"
        same "$TMP/etc.before" "$TMP/etc.after" "the files the sandbox started from changed"
        [ -z "$(ls -A "$OUTSIDE")" ] || fail "something was written to $OUTSIDE: $(ls -A "$OUTSIDE")"
}

# run_sb NAME CMD...: sandbox_run() alone, results in $TMP/NAME
run_sb() {
        local name=$1
        shift
        mkdir -p "$TMP/$name"
        "$RUN_SANDBOX" "$TMP/$name" -- "$@" < /dev/null > "$TMP/$name/out" 2>&1 ||
                { cat "$TMP/$name/out" >&2; fail "run-sandbox failed"; }
        "$FWGUARD" show "$TMP/$name/s1.fwg" > "$TMP/$name/s1.nft" || fail "S1 is not a valid snapshot"
}

case $CASE in
ufw-enable)
        run_sb en ufw --force enable
        grep -q "Firewall is active" "$TMP/en/out" || { cat "$TMP/en/out"; fail "ufw did not enable"; }
        [ "$(cat "$TMP/en/exit")" = 0 ] || fail "exit code $(cat "$TMP/en/exit")"
        for c in ufw-user-input ufw-before-input ufw-not-local; do
                grep -q "chain $c " "$TMP/en/s1.nft" || fail "S1 lacks ufw's chain $c"
        done
        grep -q "table ip filter" "$TMP/en/s1.nft" || fail "S1 lacks ufw's table ip filter"
        grep -q "table inet base" "$TMP/en/s1.nft" && grep -q "ct state established,related accept" "$TMP/en/s1.nft" ||
                fail "S1 lost the seed's table inet base"
        grep -q "policy drop" "$TMP/en/s1.nft" || fail "S1 has no drop policy (default deny incoming)"
        grep -q "^/etc/ufw/ufw.conf 0644$" "$TMP/en/files" || { cat "$TMP/en/files"; fail "ufw.conf not captured"; }
        grep -q "^ENABLED=yes" "$TMP/en/content/etc/ufw/ufw.conf" || fail "captured ufw.conf is not ENABLED=yes"
        grep -q "^ENABLED=no" /etc/ufw/ufw.conf || fail "the real ufw.conf changed"
        # Only allow-listed paths, and only what changed.
        ! grep -v -E '^/etc/(ufw/|default/ufw |nftables.conf |iptables/)' "$TMP/en/files" ||
                fail "a path outside the allow-list was captured"
        ! grep -q "before.rules " "$TMP/en/files" || fail "an unchanged file was captured"

        # The CLI: the same, up to the Run call (no daemon here).
        rc=0
        "$FWGUARD" run -- ufw --force enable < /dev/null > "$TMP/cli.out" 2>&1 || rc=$?
        [ $rc = 1 ] || { cat "$TMP/cli.out"; fail "fwguard run exited $rc, want 1 (no daemon)"; }
        for l in "table ip filter" "file /etc/ufw/ufw.conf (mode 0644)" "fwguardd is not running"; do
                grep -qF "$l" "$TMP/cli.out" || { cat "$TMP/cli.out"; fail "fwguard run did not say '$l'"; }
        done
        check_untouched
        ;;
ufw-fail)
        run_sb bad ufw allow nonsense
        [ "$(cat "$TMP/bad/exit")" = 1 ] || fail "exit code $(cat "$TMP/bad/exit"), want ufw's 1"
        grep -q "Could not find a profile matching 'nonsense'" "$TMP/bad/out" || fail "ufw's message did not come back"
        [ ! -s "$TMP/bad/files" ] || fail "files captured: $(cat "$TMP/bad/files")"
        rc=0
        "$FWGUARD" ufw allow nonsense < /dev/null > "$TMP/cli.out" 2>&1 || rc=$?
        [ $rc = 1 ] || fail "fwguard ufw exited $rc, want 1"
        grep -q "Could not find a profile matching 'nonsense'" "$TMP/cli.out" || fail "no ufw message from fwguard ufw"
        grep -q "ufw exited 1; nothing was changed" "$TMP/cli.out" || { cat "$TMP/cli.out"; fail "no exit-code line"; }
        ! grep -q "fwguardd" "$TMP/cli.out" || fail "fwguard ufw went on to the daemon"
        rc=0
        "$FWGUARD" run --json -- ufw allow nonsense < /dev/null > "$TMP/cli.json" 2> /dev/null || rc=$?
        [ $rc = 1 ] || fail "--json: exit $rc"
        python3 - "$TMP/cli.json" <<'EOF' || { cat "$TMP/cli.json"; fail "--json lacks tool_exit_code 1"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool_exit_code"] == 1 and d["changed"] is False and d["trial"] is None, d
EOF
        check_untouched
        ;;
ufw-noop)
        run_sb st ufw status
        [ "$(cat "$TMP/st/exit")" = 0 ] || fail "exit code $(cat "$TMP/st/exit")"
        grep -q "Status: inactive" "$TMP/st/out" || fail "ufw's output did not come back"
        [ ! -s "$TMP/st/files" ] || fail "files captured: $(cat "$TMP/st/files")"
        "$FWGUARD" save "$TMP/live.fwg"
        "$FWGUARD" show "$TMP/live.fwg" > "$TMP/live.nft"
        same "$TMP/live.nft" "$TMP/st/s1.nft" "S1 of a no-op differs from the live ruleset"
        "$FWGUARD" ufw status < /dev/null > "$TMP/cli.out" 2>&1 || fail "fwguard ufw status failed"
        grep -q "changed nothing (neither the ruleset nor a file); no trial" "$TMP/cli.out" ||
                { cat "$TMP/cli.out"; fail "no 'nothing changed' line"; }
        "$FWGUARD" run --json -- ufw status < /dev/null > "$TMP/cli.json" 2> "$TMP/cli.err" || fail "--json failed"
        grep -q "Status: inactive" "$TMP/cli.err" || fail "--json: the tool's output did not go to stderr"
        python3 - "$TMP/cli.json" <<'EOF' || { cat "$TMP/cli.json"; fail "--json is wrong"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool_exit_code"] == 0 and d["changed"] is False and d["trial"] is None, d
EOF
        check_untouched
        ;;
outside)
        run_sb out sh -c "echo evil > $OUTSIDE/fwguard-run-test; echo \"outside: \$?\";
                           echo ok > /etc/ufw/fwguard-run-test; echo \"inside: \$?\";
                           mount -o remount,rw / 2>&1; echo \"remount: \$?\";
                           ls /dev | grep -E '^(sd|vd|xvd|nvme|loop|mem\$|kmem|port\$)' && echo disks-visible; exit 7"
        grep -q "Read-only file system" "$TMP/out/out" || { cat "$TMP/out/out"; fail "the failed write was not reported"; }
        grep -q "outside: [1-9]" "$TMP/out/out" || fail "the write outside the allow-list succeeded"
        grep -q "inside: 0" "$TMP/out/out" || { cat "$TMP/out/out"; fail "the write to /etc/ufw failed"; }
        grep -q "remount: [1-9]" "$TMP/out/out" || fail "the command could remount / read-write"
        ! grep -q "disks-visible" "$TMP/out/out" || fail "the host's disks are in the sandbox's /dev"
        [ "$(cat "$TMP/out/exit")" = 7 ] || fail "exit code $(cat "$TMP/out/exit"), want 7"
        grep -qx "/etc/ufw/fwguard-run-test 0644" "$TMP/out/files" || fail "the allowed write was not captured"
        ! grep -q "$OUTSIDE" "$TMP/out/files" || fail "the outside path was captured"
        check_untouched
        ;;
prompt)
        # ufw asks before enabling only under sshd: an ancestor named sshd.
        cp "$(command -v bash)" "$TMP/sshd"
        for answer in n y; do
                rc=0
                mkdir -p "$TMP/p$answer"
                printf '%s\n' "$answer" | "$TMP/sshd" -c '"$0" "$@"; exit $?' "$RUN_SANDBOX" "$TMP/p$answer" -- ufw enable \
                        > "$TMP/p$answer.out" 2>&1 || rc=$?
                [ $rc = 0 ] || { cat "$TMP/p$answer.out"; fail "run-sandbox failed"; }
                grep -q "Proceed with operation (y|n)?" "$TMP/p$answer.out" ||
                        { cat "$TMP/p$answer.out"; fail "ufw did not ask through the pty"; }
        done
        grep -q "Aborted" "$TMP/pn.out" || fail "'n' did not abort"
        [ ! -s "$TMP/pn/files" ] || fail "'n' still changed files"
        grep -q "Firewall is active" "$TMP/py.out" || { cat "$TMP/py.out"; fail "'y' did not enable"; }
        grep -q "^ENABLED=yes" "$TMP/py/content/etc/ufw/ufw.conf" || fail "'y': ufw.conf not captured"
        # The same through fwguard run.
        rc=0
        printf 'y\n' | "$TMP/sshd" -c '"$0" "$@"; exit $?' "$FWGUARD" run -- ufw enable > "$TMP/cli.out" 2>&1 || rc=$?
        grep -q "Proceed with operation (y|n)?" "$TMP/cli.out" && grep -qF "file /etc/ufw/ufw.conf" "$TMP/cli.out" ||
                { cat "$TMP/cli.out"; fail "fwguard run: no prompt, or no change"; }
        check_untouched
        ;;
sysctl)
        # The live (test) namespace: values that a fresh namespace does not
        # have, and that ufw's sysctl.conf sets otherwise.
        echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all
        echo 1 > /proc/sys/net/ipv4/conf/all/accept_redirects
        echo 0 > /proc/sys/net/ipv4/icmp_echo_ignore_broadcasts
        echo 45 > /proc/sys/net/ipv4/tcp_fin_timeout
        echo 1 > /proc/sys/net/ipv4/tcp_syncookies
        sysctl_values > "$TMP/sysctl.before"
        run_sb en sh -c 'ufw --force enable && echo "fin $(cat /proc/sys/net/ipv4/tcp_fin_timeout)"'
        grep -q "Firewall is active" "$TMP/en/out" || { cat "$TMP/en/out"; fail "ufw did not enable"; }
        # Copied in: the sandbox saw the live value, not a new namespace's 60.
        grep -q "^fin 45" "$TMP/en/out" || { cat "$TMP/en/out"; fail "the live sysctls were not copied in"; }
        for kv in "net/ipv4/icmp_echo_ignore_all 0" "net/ipv4/conf/all/accept_redirects 0" \
                  "net/ipv4/icmp_echo_ignore_broadcasts 1"; do
                grep -qx "$kv" "$TMP/en/sysctls" || { cat "$TMP/en/sysctls"; fail "ufw's $kv not captured"; }
        done
        ! grep -E "tcp_fin_timeout|ip_forward|tcp_syncookies" "$TMP/en/sysctls" ||
                fail "a sysctl that ufw did not change was captured"
        sysctl_values > "$TMP/sysctl.after"
        same "$TMP/sysctl.before" "$TMP/sysctl.after" "ufw in the sandbox changed the live sysctls"

        run_sb sw sysctl -w net.ipv4.ip_forward=1 net.ipv4.tcp_syncookies=0
        grep -qx "net/ipv4/ip_forward 1" "$TMP/sw/sysctls" || { cat "$TMP/sw/sysctls"; fail "ip_forward not captured"; }
        ! grep -q tcp_syncookies "$TMP/sw/sysctls" || fail "a sysctl outside the list was captured"
        sysctl_values > "$TMP/sysctl.after"
        same "$TMP/sysctl.before" "$TMP/sysctl.after" "sysctl -w in the sandbox changed the live sysctls"

        # The CLI: what it hands over (no daemon here), nothing live.
        rc=0
        "$FWGUARD" run -- sysctl -w net.ipv4.ip_forward=1 < /dev/null > "$TMP/cli.out" 2>&1 || rc=$?
        [ $rc = 1 ] || { cat "$TMP/cli.out"; fail "fwguard run exited $rc, want 1 (no daemon)"; }
        for l in "sysctl net/ipv4/ip_forward = 1" "fwguardd is not running"; do
                grep -qF "$l" "$TMP/cli.out" || { cat "$TMP/cli.out"; fail "fwguard run did not say '$l'"; }
        done
        sysctl_values > "$TMP/sysctl.after"
        same "$TMP/sysctl.before" "$TMP/sysctl.after" "fwguard run changed the live sysctls"
        check_untouched
        ;;
nonroot)
        chmod 0755 "$TMP"
        rc=0
        setpriv --reuid=65534 --regid=65534 --clear-groups "$FWGUARD" ufw status > "$TMP/cli.out" 2>&1 || rc=$?
        [ $rc = 3 ] || { cat "$TMP/cli.out"; fail "non-root: exit $rc, want 3"; }
        grep -q "only root may run" "$TMP/cli.out" || fail "no clear refusal"
        ! grep -q "Status:" "$TMP/cli.out" || fail "ufw ran for a non-root caller"
        rc=0
        setpriv --reuid=65534 --regid=65534 --clear-groups "$FWGUARD" run -- touch /tmp/x > "$TMP/cli.out" 2>&1 || rc=$?
        [ $rc = 3 ] || fail "non-root run: exit $rc, want 3"
        mkdir -p "$TMP/nr" && chmod 0777 "$TMP/nr"
        rc=0
        setpriv --reuid=65534 --regid=65534 --clear-groups "$RUN_SANDBOX" "$TMP/nr" -- true > "$TMP/nr.out" 2>&1 || rc=$?
        [ $rc = 3 ] || { cat "$TMP/nr.out"; fail "sandbox_run() for non-root: exit $rc, want 3 (-EPERM)"; }
        check_untouched
        ;;
*)
        fail "unknown case $CASE"
        ;;
esac
note "run/$CASE: ok"

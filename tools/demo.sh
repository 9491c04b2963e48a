#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh — install the build dependencies, build fwguard, and show its main
# job with a real sshd and ssh client: a change that would lock SSH out goes
# live through fwguardd with the SSH guard, and the dead-man timer rolls it
# back exactly; a second change is confirmed and stays.
#
# The host's firewall is never touched: sshd, fwguardd and every ruleset live
# in two private network namespaces joined by a veth pair, and the daemon's
# state and runtime directories are private too. Every step checks what it
# shows; if anything behaves otherwise the demo says FAIL and exits non-zero.
# Everything it made is removed on any exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
tools/install-deps.sh
build() { local out; out=$("$@" 2>&1) || { echo "$out" >&2; echo "demo.sh: the build failed" >&2; exit 1; }; }
[ -d build ] || build meson setup build
build ninja -C build

export SRCDIR=$PWD FWGUARD=$PWD/build/cli/fwguard FWGUARDD=$PWD/build/daemon/fwguardd
export FWGUARD_SANDBOX=$PWD/build/sandbox/fwguard-sandbox     # not installed: the build's
# The test suites' helpers: common.sh gives TMP and at_exit (hooks run in
# reverse order on any exit), sshenv.sh the namespaces with sshd and ssh,
# daemon.sh fwguardd with private directories and a config of its own.
. tests/lib/common.sh
passed= stopped=
demo_end() {
        [ -z "$passed" ] || return 0
        if [ -n "$stopped" ]; then
                echo "demo.sh: stopped; everything it made is removed" >&2
                return 0
        fi
        [ ! -s "${FWGD_LOG:-}" ] || { echo "--- the end of fwguardd's log:"; tail -n 20 "$FWGD_LOG"; } >&2
        echo "demo.sh: FAILED${failed_at:+ at $failed_at}; everything it made is removed" >&2
}
# Where set -e ended the demo: the line of this script, and the command
# that failed there (perhaps inside a helper).
set -E
failed_at=
on_err() { [ -n "$failed_at" ] || failed_at="line ${BASH_LINENO[${#BASH_LINENO[@]} - 2]} ($1)"; }
trap 'on_err "$BASH_COMMAND"' ERR
at_exit demo_end        # the last hook to run
trap 'stopped=1; exit 130' INT
trap 'stopped=1; exit 143' TERM HUP
# Counters move with traffic and timed set elements count down: not changes.
host_ruleset() { nft -s list ruleset | strip_expires; }
host_ruleset > "$TMP/host-before.nft"
. tests/lib/sshenv.sh
at_exit sshenv_down
. tests/lib/daemon.sh
cd "$TMP"

if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' N=$'\e[0m'; else B= D= G= N=; fi
nstep=0
step() { nstep=$((nstep + 1)); printf '\n%s%d. %s%s\n' "$B" $nstep "$1" "$N"; [ -z "${2:-}" ] || printf '   %s\n' "$2"; }
show() { printf '   %s$ %s%s\n' "$D" "$*" "$N"; }
say() { printf '   %s%s%s\n' "$D" "$*" "$N"; }
indent() { sed 's/^/     /'; }
ok() { printf '   %s✓ %s%s\n' "$G" "$1" "$N"; }
expect() { local what=$1; shift; "$@" || fail "$what"; ok "$what"; }
# On the server, as its admin: in sshd's mount namespace too (its private
# /run, where `sshd -T` finds /run/sshd), as fwguardd runs.
on_srv() { nsenter -t "$sshd_pid" -m -n --wd="$PWD" -- "$@"; }
# fwguard as the admin on the server types it: show the command, then its
# output; the output stays in $TMP/out.
fw() {
        local rc=0
        show "fwguard $*"
        on_srv "$FWGUARD" "$@" > out 2>&1 || rc=$?
        indent < out
        return $rc
}
live() { show "nft list ruleset"; srv nft list ruleset | indent; }
# The live ruleset is FILE (as nft loads it in a scratch namespace) plus
# exactly the guard, at the head of the input chain.
# 
guarded() {
        in_netns sh -c "nft -f '$1' && nft list ruleset" > plain.txt
        srv nft list ruleset > live.txt
        python3 "$SRCDIR/tests/tools/guardcheck.py" plain.txt live.txt 22 "inet filter input" > out 2>&1 \
                || { indent < out; return 1; }
}
trial_id() { sed -n 's/^Trial \([0-9][0-9]*\) is armed.*/\1/p' out; }
not() { ! "$@"; }

cat > before.nft <<'EON'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                iif "lo" accept
                tcp dport { 22, 80, 443 } accept
        }
}
EON
cat > locking.nft <<'EON'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
        }
}
EON
cat > web-closed.nft <<'EON'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                iif "lo" accept
                tcp dport { 22, 443 } accept
        }
}
EON

step "A server namespace with a real sshd and a web port 80 (192.0.2.1), a client with ssh (192.0.2.2)" \
        "Its firewall allows SSH, 80 and 443. Nothing of this appears in the host's namespace."
sshenv_up || fail "cannot start sshd"
sshd_pid=$(cat "$SSHENV_DIR/sshd.pid")
srv_listen 80 || fail "no listener on port 80"
srv nft -f before.nft
live
expect "a new ssh login from the client works" ssh_login
expect "port 80 answers" reach 80

step "An admin is logged in: the old ssh session, kept open through the demo"
ssh_session_open || fail "cannot open the old session"
expect "the old session works" ssh_session_alive

step "fwguard save: an exact snapshot of the ruleset (fwguardd keeps one, S0, for every trial)"
fw save before.fwg
ok "before.fwg: $(stat -c %s before.fwg) bytes; 'fwguard restore before.fwg' would put it back in one transaction"

step "fwguard check: would locking.nft (policy drop on input, nothing allowed) lock SSH out?" \
        "It compiles the file and probes SSH in a sandbox; nothing live changes."
show "cat locking.nft"
indent < locking.nft
rc=0
fw check locking.nft || rc=$?
expect "exit 3: refused as written, but the guard keeps SSH open" \
        eval '[ $rc = 3 ] && grep -q "With the fwguard guard: SSH stays reachable" out'

step "Start fwguardd inside the server namespace" \
        "Private state and runtime directories, and a config that allows trials of a few seconds:"
indent < "$FWGD_CONF"
show "fwguardd --state-dir ${FWGD_STATE#$TMP/} --runtime-dir ${FWGD_RUN#$TMP/} --config ${FWGD_CONF#$TMP/}"
# In sshd's namespaces, and in a session of its own: Ctrl-C on the demo
# reaches the demo, which then stops the daemon itself.
daemon_start setsid nsenter -t "$sshd_pid" -m -n --
fw status
expect "fwguardd answers: idle" grep -qx idle out

step "fwguard apply --timeout 8 locking.nft: the change goes live with the SSH guard, under a dead-man timer"
apply_start=$SECONDS
fw apply --timeout 8 locking.nft || fail "apply exited $?"
ID=$(trial_id)
expect "trial $ID is armed" test -n "$ID"

step "The live ruleset: locking.nft, plus the guard at the head of the input chain"
live
expect "live = locking.nft + exactly the guard rule" guarded locking.nft

step "During the trial: SSH works, everything else is blocked as locking.nft says"
expect "a NEW ssh login from the client works" ssh_login
expect "the old session works" ssh_session_alive
expect "port 80 is blocked" not reach 80

step "Nobody confirms: at the deadline, fwguardd rolls the change back by itself" \
        "(the CLI, the terminal and the old session play no part in it)"
fw status
show "fwguard status    (once a second, until the trial is over)"
while :; do
        on_srv "$FWGUARD" status > out 2>&1 || { indent < out; fail "status failed"; }
        grep -qx idle out && break
        [ $SECONDS -lt $((apply_start + 8 + 20)) ] || fail "trial $ID still pending 20 s after its deadline"
        sed -n 's/^deadline: .*(\(.*\))$/rolls back \1/p' out | indent
        sleep 1
done
indent < out
ok "trial $ID is over"

step "After the rollback: exactly the ruleset from before"
show "diff <(fwguard show before.fwg) <(nft -s list ruleset)"
srv nft -s list ruleset > after.txt
"$FWGUARD" show before.fwg > before.txt
diff -u before.txt after.txt | indent || fail "the ruleset after the rollback differs from the one before"
ok "the diff is empty"
expect "port 80 answers again" reach 80
expect "a new ssh login works" ssh_login
expect "the old session works" ssh_session_alive
for _ in $(seq 40); do [ -s "$FWGD_WALL_LOG" ] && break; sleep 0.05; done
say "What fwguardd announced on the terminals (wall; captured here):"
indent < "$FWGD_WALL_LOG" 2>/dev/null || true
expect "the rollback was announced" grep -q "trial $ID was rolled back" "$FWGD_WALL_LOG"
fw history
expect "the history says trial $ID was rolled back" grep -Eq "^ *$ID +rolled-back " out

step "A change to keep: apply web-closed.nft (closes port 80), then confirm it from a NEW ssh login"
show "diff before.nft web-closed.nft"
diff before.nft web-closed.nft | indent || true
fw apply --timeout 8 web-closed.nft || fail "apply exited $?"
left=$(sed -n 's/.*rolls back at .* (in \([0-9]*\) s).*/\1/p' out)
[ -n "$left" ] || fail "apply does not say when the trial rolls back"
deadline=$((SECONDS + left + 1))
ID2=$(trial_id)
expect "trial $ID2 is armed" test -n "$ID2"
show "ssh root@192.0.2.1 fwguard confirm    (from the client)"
ssh_run FWGUARD_RUNTIME_DIR="$FWGD_RUN" "$FWGUARD" confirm > out 2>&1 || { indent < out; fail "confirm failed"; }
indent < out
printf '   fwguardd accepts it because it comes through a NEW ssh connection that crossed the\n'
printf '   new ruleset; from the old session (or ssh localhost, or a ControlMaster shell) it is refused.\n'
fw status
expect "nothing is pending" grep -qx idle out
fw history
expect "the history says trial $ID2 was confirmed" grep -Eq "^ *$ID2 +confirmed " out
say "Waiting for trial $ID2's deadline to pass..."
while [ $SECONDS -le $deadline ]; do sleep 0.5; done
expect "after the deadline, web-closed.nft (with the guard) is still live" guarded web-closed.nft
expect "port 80 is blocked" not reach 80
expect "a new ssh login works" ssh_login

step "Clean up, and check that the host was left alone"
ns_inodes=$(stat -c %i "/run/netns/$SSHENV_SRV" "/run/netns/$SSHENV_CLI" | paste -sd'|')
daemon_pid=$FWGD_PID
expect "fwguardd stops cleanly on SIGTERM" daemon_stop
sshenv_down
expect "no namespace of the demo is left" not eval "ip netns list | grep -Eq '^($SSHENV_SRV|$SSHENV_CLI)( |\$)'"
left=$(for p in /proc/[0-9]*; do readlink "$p/ns/net" 2>/dev/null | grep -Eq "^net:\[($ns_inodes)\]$" && echo "${p#/proc/}"; done || true)
expect "no process of the demo is left (sshd, fwguardd, ssh, listener)" \
        eval '[ -z "$left" ] && ! kill -0 "$sshd_pid" "$daemon_pid" 2>/dev/null'
host_ruleset > "$TMP/host-after.nft"
diff -u "$TMP/host-before.nft" "$TMP/host-after.nft" >&2 \
        || fail "the host's ruleset changed during the demo (another tool on this host? the demo only works in its namespaces)"
ok "the host's ruleset is as it was before the demo (nft list ruleset)"
passed=yes
printf '\n%sDemo passed. The host'"'"'s ruleset was not touched, and nothing is left behind.%s\n' "$B" "$N"

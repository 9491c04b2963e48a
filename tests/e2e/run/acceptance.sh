#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# acceptance.sh CASE — issue 7's acceptance list end to end: a real sshd in a
# server namespace, a real ssh client, fwguardd in the server namespace, real
# ufw and iptables-nft, `fwguard run` started from a NEW ssh login (as an
# administrator would, and so that ufw sees sshd among its ancestors), and
# confirmations from another fresh login (issue 6's proof).
#
#   rollback   `ufw --force enable` (default deny incoming, no allow 22): a new
#              login works during the trial, ufw is active with its rule;
#              unconfirmed, the ruleset and /etc/ufw/* return exactly, ufw
#              says inactive
#   confirm    the same, confirmed: ruleset and /etc/ufw stay, through a
#              daemon restart
#   prompt     `ufw enable` answered through the pty: 'n' aborts (no trial),
#              'y' enables (a trial)
#   iptables   `iptables -P INPUT DROP` confirmed, then `iptables -A INPUT -p
#              tcp --dport 80 -j ACCEPT` as a second trial, rolled back to the
#              first one's result; SSH works throughout (the guard)
#   notrial    `ufw allow nonsense` (fails) and `ufw status` (no-op): no trial,
#              history unchanged, nothing changed, exit code and output back
#   outside    a write outside the allow-list lands nowhere (the rest of the
#              command's change still makes a trial); a non-root caller is refused
#   pending    during a trial, `fwguard run` is refused like a second apply
#
# Safety: the host's /etc is never written. The whole test (sshd, fwguardd,
# the CLI, ufw) runs in a private mount namespace where /etc is a copy on a
# tmpfs (so /etc/ufw, /etc/default/ufw, /etc/nftables.conf and a missing
# /etc/iptables are all private: the daemon installs files by rename, which a
# bind mount of a single file would refuse) and /run is a tmpfs. The host's
# files are hashed before and after.
. "$SRCDIR/tests/lib/common.sh"
need_root
CASE=$1
command -v ufw > /dev/null || fail "ufw is not installed (apt-get install ufw)"
command -v iptables-nft > /dev/null || fail "iptables-nft is not installed"

host_sums() {
        local p
        for p in /etc/ufw /etc/default/ufw /etc/nftables.conf /etc/iptables /etc/sudoers.d; do
                if [ -e "$p" ]; then
                        find "$p" -printf '%p %y %m %s\n' | sort
                        find "$p" -type f -print0 | sort -z | xargs -0 -r sha256sum
                else
                        echo "$p absent"
                fi
        done
}

if [ -z "${RUNACC_INNER:-}" ]; then
        host_sums > "$TMP/host.before"
        rc=0
        unshare -m --propagation private -- env RUNACC_INNER=1 RUNACC_HOST_MNT="$(readlink /proc/self/ns/mnt)" \
                bash "$0" "$@" || rc=$?
        host_sums > "$TMP/host.after"
        same "$TMP/host.before" "$TMP/host.after" "the host's files changed"
        exit $rc
fi

# ---- inside the private mount namespace
[ "$(readlink /proc/self/ns/mnt)" != "$RUNACC_HOST_MNT" ] || fail "not in a mount namespace of our own"
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir /run/etc
cp -a /etc/. /run/etc/
mount --bind /run/etc /etc
# The starting point: ufw disabled, default deny incoming, no allow 22, one
# rule of its own (8080) written while disabled (files only).
grep -q '^DEFAULT_INPUT_POLICY="DROP"' /etc/default/ufw ||
        sed -i 's/^DEFAULT_INPUT_POLICY=.*/DEFAULT_INPUT_POLICY="DROP"/' /etc/default/ufw
sed -i 's/^ENABLED=.*/ENABLED=no/' /etc/ufw/ufw.conf
unshare -n ufw allow 8080/tcp > /dev/null || fail "cannot add ufw's rule to the private /etc/ufw"

. "$SRCDIR/tests/lib/sshenv.sh"
at_exit sshenv_down
. "$SRCDIR/tests/lib/daemon.sh"

# Counters move with traffic: not a change.
live() {
        srv nft -s list ruleset 2>&1
        echo "# iptables-save"
        srv iptables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]$/[0:0]/'
        echo "# ip6tables-save"
        srv ip6tables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]$/[0:0]/'
}
etc_sums() {
        (cd /etc/ufw && find . -printf '%p %y %m %s\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        sha256sum /etc/default/ufw /etc/nftables.conf
        ls -A /etc/sudoers.d 2>/dev/null || true
        [ ! -e /etc/iptables ] || echo "/etc/iptables exists"
}
now_usec() { date +%s%6N; }
sleep_until() {
        local left=$(( $1 - $(now_usec) ))
        [ $left -le 0 ] || sleep "$(printf '%d.%06d' $((left / 1000000)) $((left % 1000000)))"
}
json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
attempt() {
        local out=$1
        shift
        set +e
        "$@" > "$out" 2>&1
        ATTEMPT_RC=$?
        set -e
}
# FWRUN ARGS: the remote command line of `fwguard ARGS` on the server.
FWREMOTE="FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD'"
# run_login OUT ARGS...: `fwguard ARGS` from a NEW ssh login; ATTEMPT_RC
run_login() {
        local out=$1
        shift
        attempt "$out" ssh_run "$FWREMOTE $*" < /dev/null
}
# A trial from a new login: sets TRIAL_ID (JSON answer in OUT, the tool's output in OUT.err).
run_trial() {
        local out=$1
        shift
        set +e
        ssh_run "$FWREMOTE run --json $*" < /dev/null > "$out" 2> "$out.err"
        ATTEMPT_RC=$?
        set -e
        [ $ATTEMPT_RC = 0 ] || { cat "$out" "$out.err" "$FWGD_LOG" >&2; fail "fwguard run $* exited $ATTEMPT_RC"; }
        TRIAL_ID=$(json "$out" 'd["trial"]')
        TRIAL_DEADLINE=$(json "$out" 'd["deadline_realtime_usec"]')
        [ "$(json "$out" 'd["tool_exit_code"]')" = 0 ] || fail "tool_exit_code: $(cat "$out")"
        note "trial $TRIAL_ID: $*"
}
confirm_login() {
        attempt "$TMP/confirm.out" ssh_run "$FWREMOTE confirm"
        [ $ATTEMPT_RC = 0 ] && grep -q "trial $TRIAL_ID confirmed" "$TMP/confirm.out" ||
                fail "confirm from a new login exited $ATTEMPT_RC: $(cat "$TMP/confirm.out")"
}
status_is() { [ "$(fwg status)" = "$1" ] || fail "${2:-}: status is '$(fwg status 2>&1)', want '$1'"; }
# A check during the trial failed: if the trial already ended, the machine
# was too slow for its timeout, and that is what to say.
fail_during() { still_armed "a failed check ($1)"; fail "$1"; }
still_armed() {
        fwg status --json > "$TMP/status.json" || fail "status failed"
        [ "$(json "$TMP/status.json" '(d.get("trial") or {}).get("id")')" = "$TRIAL_ID" ] ||
                fail "trial $TRIAL_ID is no longer pending after $1 (too slow a machine for its timeout?)"
}
outcome() {
        fwg history --json > "$TMP/history.json" || fail "history failed"
        python3 - "$TMP/history.json" "$1" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["id"] == int(sys.argv[2]):
        print(e["outcome"])
PY
}
ufw_status() { srv ufw status verbose 2>&1; }
# The network sysctls that ufw sets from its sysctl.conf, in the server's netns.
ufw_sysctls() {
        local k
        for k in $(sed -nE 's/^([a-z][^=]*)=.*/\1/p' /etc/ufw/sysctl.conf); do
                echo "$k=$(srv cat "/proc/sys/$k" 2>&1)"
        done
}
TRIAL_ID=
GUARD='-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT'

sshenv_up || fail "cannot start sshd"
# A baseline with conntrack, as on a real host, before the old session.
srv nft -f - <<'NFT'
table inet base {
        chain input {
                type filter hook input priority 10; policy accept;
                ct state established,related accept
        }
}
NFT
srv_listen 8080
srv_listen 9090
ssh_session_open || fail "cannot open the old session"
daemon_start ip netns exec "$SSHENV_SRV"
live > "$TMP/live.0"
etc_sums > "$TMP/etc.0"
ufw_sysctls > "$TMP/sysctl.0"
ufw_status > "$TMP/ufw.0"
grep -q "Status: inactive" "$TMP/ufw.0" || fail "ufw is not inactive at the start: $(cat "$TMP/ufw.0")"
live > "$TMP/live.0b"
same "$TMP/live.0" "$TMP/live.0b" "ufw status changed the ruleset"
reach 9090 || fail "9090 is not reachable at the start"

# ufw enabled, as a trial of TIMEOUT seconds: checks during the trial.
ufw_enabled_trial() {
        run_trial "$TMP/en.json" --timeout "$1" -- ufw --force enable
        grep -q "Firewall is active" "$TMP/en.json.err" || fail_during "ufw's output did not come back: $(cat "$TMP/en.json.err")"
        ssh_login || fail_during "a NEW ssh login fails during the trial (no allow 22: the guard)"
        ufw_status > "$TMP/ufw.1"
        grep -q "^Status: active" "$TMP/ufw.1" && grep -q "Default: deny (incoming)" "$TMP/ufw.1" &&
                grep -q "^8080/tcp .*ALLOW IN" "$TMP/ufw.1" || fail_during "ufw status during the trial: $(cat "$TMP/ufw.1")"
        reach 8080 || fail_during "ufw's allow 8080 is not live"
        ! reach 9090 || fail_during "9090 is reachable: ufw's default deny is not live"
        live > "$TMP/live.1"
        grep -qF -- "$GUARD" "$TMP/live.1" || fail_during "no guard in ip filter INPUT: $(cat "$TMP/live.1")"
        grep -q "ufw-user-input" "$TMP/live.1" || fail_during "ufw's chains are not live"
        ufw_sysctls > "$TMP/sysctl.1"
        note "sysctls during the trial: $(diff "$TMP/sysctl.0" "$TMP/sysctl.1" | grep '^>' | tr '\n' ' ')"
        etc_sums > "$TMP/etc.1"
        grep -q "^ENABLED=yes" /etc/ufw/ufw.conf || fail_during "ufw.conf was not installed"
        ! cmp -s "$TMP/etc.0" "$TMP/etc.1" || fail_during "/etc/ufw did not change"
        still_armed "the checks during the trial"
}

case $CASE in
rollback)
        ufw_enabled_trial 12
        wait_idle 30
        [ "$(outcome "$TRIAL_ID")" = rolled-back ] || fail "trial $TRIAL_ID: $(cat "$TMP/history.json")"
        live > "$TMP/live.2"
        same "$TMP/live.0" "$TMP/live.2" "the ruleset did not return exactly"
        etc_sums > "$TMP/etc.2"
        same "$TMP/etc.0" "$TMP/etc.2" "/etc/ufw did not return exactly"
        ufw_sysctls > "$TMP/sysctl.2"
        same "$TMP/sysctl.0" "$TMP/sysctl.2" "ufw's network sysctls did not return"
        ufw_status > "$TMP/ufw.2"
        grep -q "Status: inactive" "$TMP/ufw.2" || fail "ufw is not inactive after the rollback: $(cat "$TMP/ufw.2")"
        reach 9090 || fail "9090 is not reachable after the rollback"
        ;;
confirm)
        ufw_enabled_trial 12
        confirm_login
        status_is idle "after the confirmation"
        daemon_stop
        daemon_start ip netns exec "$SSHENV_SRV"
        # Past the deadline the trial had.
        sleep_until $((TRIAL_DEADLINE + 1000000))
        status_is idle "after the restart"
        [ "$(outcome "$TRIAL_ID")" = confirmed ] || fail "trial $TRIAL_ID: $(cat "$TMP/history.json")"
        live > "$TMP/live.2"
        same "$TMP/live.1" "$TMP/live.2" "the confirmed ruleset did not stay"
        etc_sums > "$TMP/etc.2"
        same "$TMP/etc.1" "$TMP/etc.2" "the confirmed /etc/ufw did not stay"
        ufw_sysctls > "$TMP/sysctl.2"
        same "$TMP/sysctl.1" "$TMP/sysctl.2" "ufw's network sysctls did not stay"
        ufw_status > "$TMP/ufw.2"
        grep -q "^Status: active" "$TMP/ufw.2" || fail "ufw is not active after the restart: $(cat "$TMP/ufw.2")"
        ssh_login || fail "a NEW ssh login fails after the confirmation"
        ! reach 9090 || fail "9090 is reachable: the confirmed ruleset is not live"
        [ ! -e "$FWGD_WALL_LOG" ] || fail "a rollback was announced: $(cat "$FWGD_WALL_LOG")"
        ;;
prompt)
        # No --force: ufw asks, because sshd is among its ancestors.
        set +e
        printf 'n\n' | ssh_run "$FWREMOTE run --timeout 12 -- ufw enable" > "$TMP/n.out" 2>&1
        rc=$?
        set -e
        [ $rc = 0 ] || fail "'n': exited $rc: $(cat "$TMP/n.out")"
        grep -q "Proceed with operation (y|n)?" "$TMP/n.out" && grep -q "Aborted" "$TMP/n.out" ||
                fail "'n': no prompt, or not aborted: $(cat "$TMP/n.out")"
        grep -q "changed nothing" "$TMP/n.out" || fail "'n': $(cat "$TMP/n.out")"
        status_is idle "after 'n'"
        live > "$TMP/live.n"
        same "$TMP/live.0" "$TMP/live.n" "'n' changed the ruleset"
        set +e
        printf 'y\n' | ssh_run "$FWREMOTE run --timeout 12 -- ufw enable" > "$TMP/y.out" 2>&1
        rc=$?
        set -e
        [ $rc = 0 ] || fail "'y': exited $rc: $(cat "$TMP/y.out") $(cat "$FWGD_LOG")"
        grep -q "Proceed with operation (y|n)?" "$TMP/y.out" && grep -q "Firewall is active" "$TMP/y.out" ||
                fail "'y': no prompt, or not enabled: $(cat "$TMP/y.out")"
        grep -q "file /etc/ufw/ufw.conf" "$TMP/y.out" || fail "'y': ufw.conf is not in the change: $(cat "$TMP/y.out")"
        fwg status --json > "$TMP/status.json"
        TRIAL_ID=$(json "$TMP/status.json" '(d.get("trial") or {}).get("id")')
        [ "$TRIAL_ID" != None ] || fail_during "'y': no trial: $(cat "$TMP/status.json")"
        ufw_status > "$TMP/ufw.1"
        grep -q "^Status: active" "$TMP/ufw.1" || fail_during "'y': ufw is not active: $(cat "$TMP/ufw.1")"
        ssh_login || fail_during "a NEW ssh login fails during the trial"
        still_armed "the checks"
        wait_idle 30
        live > "$TMP/live.2"
        same "$TMP/live.0" "$TMP/live.2" "the ruleset did not return"
        etc_sums > "$TMP/etc.2"
        same "$TMP/etc.0" "$TMP/etc.2" "/etc/ufw did not return"
        ;;
iptables)
        run_trial "$TMP/p.json" --timeout 30 -- iptables -P INPUT DROP
        ssh_login || fail_during "a NEW ssh login fails under INPUT DROP (the guard)"
        ! reach 9090 || fail_during "9090 is reachable: the drop policy is not live"
        srv iptables-save > "$TMP/ipt.1"
        grep -q "^:INPUT DROP" "$TMP/ipt.1" && grep -qF -- "$GUARD" "$TMP/ipt.1" ||
                fail "iptables-save during the first trial: $(cat "$TMP/ipt.1")"
        still_armed "the checks"
        confirm_login
        status_is idle "after the confirmation"
        FIRST=$TRIAL_ID
        live > "$TMP/live.1"
        srv_listen 80
        ! reach 80 || fail "80 is reachable before the second trial"
        run_trial "$TMP/a.json" --timeout 12 -- iptables -A INPUT -p tcp --dport 80 -j ACCEPT
        srv iptables-save > "$TMP/ipt.2"
        sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]$//' "$TMP/ipt.2" > "$TMP/ipt.2n"
        cat > "$TMP/ipt.2want" <<EOF
*filter
:INPUT DROP 
$GUARD
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
EOF
        grep -v '^:FORWARD\|^:OUTPUT' "$TMP/ipt.2n" > "$TMP/ipt.2got" || true
        same "$TMP/ipt.2want" "$TMP/ipt.2got" "iptables-save during the second trial"
        reach 80 || fail_during "80 is not reachable: the second trial's rule is not live"
        ssh_login || fail_during "a NEW ssh login fails during the second trial"
        still_armed "the checks of the second trial"
        wait_idle 30
        [ "$(outcome "$TRIAL_ID")" = rolled-back ] && [ "$(outcome "$FIRST")" = confirmed ] ||
                fail "history: $(cat "$TMP/history.json")"
        live > "$TMP/live.2"
        same "$TMP/live.1" "$TMP/live.2" "the second trial did not return to the first one's result"
        ! reach 80 || fail "80 is still reachable after the rollback"
        ssh_login || fail "a NEW ssh login fails after the rollback"
        ;;
notrial)
        fwg history --json > "$TMP/hist.0"
        run_login "$TMP/bad.out" ufw allow nonsense
        [ $ATTEMPT_RC = 1 ] || fail "ufw allow nonsense: exit $ATTEMPT_RC, want 1: $(cat "$TMP/bad.out")"
        grep -q "Could not find a profile matching 'nonsense'" "$TMP/bad.out" || fail "ufw's message: $(cat "$TMP/bad.out")"
        grep -q "ufw exited 1; nothing was changed" "$TMP/bad.out" || fail "no exit code line: $(cat "$TMP/bad.out")"
        attempt "$TMP/bad.json" ssh_run "$FWREMOTE run --json -- ufw allow nonsense 2>/dev/null"
        [ $ATTEMPT_RC = 1 ] && [ "$(json "$TMP/bad.json" 'd["tool_exit_code"], d["trial"]')" = "(1, None)" ] ||
                fail "--json: exit $ATTEMPT_RC: $(cat "$TMP/bad.json")"
        run_login "$TMP/st.out" ufw status
        [ $ATTEMPT_RC = 0 ] || fail "ufw status: exit $ATTEMPT_RC: $(cat "$TMP/st.out")"
        grep -q "Status: inactive" "$TMP/st.out" || fail "ufw's output: $(cat "$TMP/st.out")"
        grep -q "changed nothing (neither the ruleset nor a file); no trial" "$TMP/st.out" || fail "$(cat "$TMP/st.out")"
        # A tool's own non-zero exit code, other than 1, comes back too.
        run_login "$TMP/rc.out" run --json -- sh -c "'echo said-this; exit 5'"
        [ $ATTEMPT_RC = 1 ] && grep -q said-this "$TMP/rc.out" && grep -q '"tool_exit_code": 5' "$TMP/rc.out" ||
                fail "exit 5: fwguard exited $ATTEMPT_RC: $(cat "$TMP/rc.out")"
        status_is idle "after commands that make no trial"
        fwg history --json > "$TMP/hist.1"
        same "$TMP/hist.0" "$TMP/hist.1" "the history changed"
        live > "$TMP/live.2"
        same "$TMP/live.0" "$TMP/live.2" "the ruleset changed"
        etc_sums > "$TMP/etc.2"
        same "$TMP/etc.0" "$TMP/etc.2" "/etc/ufw changed"
        ;;
outside)
        mkdir -p /etc/sudoers.d
        etc_sums > "$TMP/etc.0"
        run_trial "$TMP/o.json" --timeout 12 -- sh -c "'echo evil > /etc/sudoers.d/fwguard-acc; echo outside=\$?; nft add table inet acc_outside'"
        grep -q "Read-only file system" "$TMP/o.json.err" && grep -q "outside=[1-9]" "$TMP/o.json.err" ||
                fail "the write outside did not fail in the sandbox: $(cat "$TMP/o.json.err")"
        srv nft list table inet acc_outside > /dev/null || fail_during "the command's table is not live"
        [ ! -e /etc/sudoers.d/fwguard-acc ] || fail_during "the write outside the allow-list reached /etc/sudoers.d"
        etc_sums > "$TMP/etc.1"
        same "$TMP/etc.0" "$TMP/etc.1" "files changed by the trial"
        still_armed "the checks"
        # A non-root caller: refused, and nothing runs.
        attempt "$TMP/nr.out" ssh_run "setpriv --reuid=65534 --regid=65534 --clear-groups env $FWREMOTE ufw --force enable"
        [ $ATTEMPT_RC = 3 ] && grep -q "only root may run" "$TMP/nr.out" ||
                fail "non-root: exit $ATTEMPT_RC: $(cat "$TMP/nr.out")"
        ! grep -q "Firewall is active" "$TMP/nr.out" || fail "ufw ran for a non-root caller"
        still_armed "the non-root attempt"
        wait_idle 30
        live > "$TMP/live.2"
        same "$TMP/live.0" "$TMP/live.2" "the ruleset did not return"
        ;;
pending)
        run_trial "$TMP/t.json" --timeout 60 -- iptables -A INPUT -p tcp --dport 8081 -j DROP
        live > "$TMP/live.1"
        etc_sums > "$TMP/etc.1"
        run_login "$TMP/second.out" run -- ufw --force enable
        [ $ATTEMPT_RC = 3 ] || fail_during "a second run during a trial: exit $ATTEMPT_RC, want 3: $(cat "$TMP/second.out")"
        grep -qi "pending" "$TMP/second.out" || fail_during "the refusal does not say why: $(cat "$TMP/second.out")"
        note "refused: $(grep -i pending "$TMP/second.out" | head -1)"
        ! grep -q "Firewall is active" "$TMP/second.out" || fail_during "ufw ran before the refusal: $(cat "$TMP/second.out")"
        # Word for word what a second apply hears.
        echo "table inet acc_pending { }" > "$TMP/second.nft"
        attempt "$TMP/apply.out" fwg apply --timeout 5 "$TMP/second.nft"
        [ $ATTEMPT_RC = 3 ] || fail_during "a second apply: exit $ATTEMPT_RC: $(cat "$TMP/apply.out")"
        want=$(grep -o "trial $TRIAL_ID is pending.*" "$TMP/apply.out") || fail_during "apply's refusal: $(cat "$TMP/apply.out")"
        grep -qF -- "$want" "$TMP/second.out" ||
                fail "run's refusal differs from apply's: $(cat "$TMP/apply.out") / $(cat "$TMP/second.out")"
        run_login "$TMP/ufw.out" ufw allow 22/tcp
        [ $ATTEMPT_RC = 3 ] || fail_during "fwguard ufw during a trial: exit $ATTEMPT_RC, want 3: $(cat "$TMP/ufw.out")"
        still_armed "the refused runs"
        live > "$TMP/live.1b"
        same "$TMP/live.1" "$TMP/live.1b" "a refused run changed the ruleset"
        etc_sums > "$TMP/etc.1b"
        same "$TMP/etc.1" "$TMP/etc.1b" "a refused run changed files"
        [ "$(outcome "$TRIAL_ID")" = "" ] || fail "the trial ended: $(cat "$TMP/history.json")"
        ;;
*)
        fail "unknown case $CASE"
        ;;
esac
ssh_session_alive || fail "the old session died"
note "run/acceptance/$CASE: ok"

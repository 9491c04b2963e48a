#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# outside.sh — issue 6, case (13): root processes started outside sshd
# whose parent chain is otherwise plausible, each with an environment that
# claims an ssh login (SSH_CONNECTION, SSH_TTY), are refused with "not under
# a ssh login":
#   (13a) `fwguard confirm` detached from a root shell outside ssh by a
#         double fork and setsid (reparented to PID 1 or the subreaper)
#   (13b) a job of a cron-like root daemon (crond.py: detached, named
#         "sshd") started outside sshd
#   (13c) a login to the installed sshd run as `sshd -i` by root outside the
#         service manager, detached to PID 1 as if ssh.socket had started it,
#         speaking over pipes: it holds no TCP connection
# The trial stays armed through all of them and rolls back at its deadline:
# S0 again, a NEW ssh login works, the old session survived.
. "$SRCDIR/tests/e2e/confirm/confirm-env.sh"
default_s0
change_rules "$TMP/rules.nft"
trial_env_up
FORGED=("SSH_CONNECTION=192.0.2.2 40000 192.0.2.1 22" "SSH_CLIENT=192.0.2.2 40000 22" SSH_TTY=/dev/pts/0)

mkdir -m 0755 "$TMP/cron"
srv python3 "$SRCDIR/tests/e2e/confirm/crond.py" "$TMP/cron"
for _ in $(seq 100); do [ -s "$TMP/cron/pid" ] && break; sleep 0.05; done
[ -s "$TMP/cron/pid" ] || fail "the cron-like daemon did not start"
at_exit "kill $(cat "$TMP/cron/pid") 2>/dev/null"

apply_trial "$TMP/rules.nft" 10
[ "$(srv nft list table inet fwgconfirm | grep -c 'tcp dport 8081 drop')" = 1 ] || fail "the change is not live"

note "(13a) double fork and setsid from a root shell outside ssh"
srv env "${FORGED[@]}" python3 -c '
import os, sys
if os.fork(): os._exit(0)
os.setsid()
if os.fork(): os._exit(0)
os.execv("/bin/sh", ["/bin/sh", "-c", sys.argv[1]])' \
        "sed 's/.*) //' /proc/\$\$/stat | cut -d' ' -f2 > $TMP/13a.ppid; $CONFIRM > $TMP/13a.out 2>&1; echo \$? > $TMP/13a.rc"
for _ in $(seq 200); do [ -s "$TMP/13a.rc" ] && break; sleep 0.05; done
note "(13a) its parent is pid $(tr -d ' ' < "$TMP/13a.ppid")"
refused "(13a) detached root process" "$(cat "$TMP/13a.rc" 2>/dev/null)" "$TMP/13a.out" "not under a ssh login"

note "(13b) a job of a cron-like root daemon"
echo "$CONFIRM" > "$TMP/cron/confirm.job"
for _ in $(seq 200); do [ -s "$TMP/cron/confirm.rc" ] && break; sleep 0.05; done
refused "(13b) cron-like daemon's job" "$(cat "$TMP/cron/confirm.rc" 2>/dev/null)" "$TMP/cron/confirm.out" "not under a ssh login"

note "(13c) the installed sshd as 'sshd -i', started by root outside the service manager, over pipes"
proxy="unshare -m sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m0755 /run/sshd &&
        exec setsid -f /usr/sbin/sshd -i -e -f $SSHENV_DIR/sshd_config 2>> $TMP/13c.sshd.log'"
attempt "$TMP/13c.out" srv ssh -i "$SSHENV_DIR/client" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ControlMaster=no \
        -o ControlPath=none -o ProxyCommand="$proxy" root@fwguard-outside \
        "sed 's/.*) //' /proc/\$PPID/stat | cut -d' ' -f2 > $TMP/13c.ppid; $CONFIRM"
grep -q "is not confirmed\|may not" "$TMP/13c.out" ||
        fail "(13c) the login under sshd -i did not reach fwguard confirm: $(cat "$TMP/13c.out" "$TMP/13c.sshd.log")"
note "(13c) the session's sshd has parent $(tr -d ' ' < "$TMP/13c.ppid" 2>/dev/null)"
refused "(13c) sshd -i over pipes" "$ATTEMPT_RC" "$TMP/13c.out" "not under a ssh login"

note "after every refusal the trial is armed; at its deadline it rolls back"
srv nft list table inet fwgconfirm > /dev/null 2>&1 || fail "the change is gone before the deadline"
sleep_until $((TRIAL_DEADLINE + 500000))
wait_idle 20
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
scratch_nft true > "$TMP/s0.txt"
live_nft > "$TMP/live.txt"
same "$TMP/s0.txt" "$TMP/live.txt" "the rollback did not restore S0"
ssh_login || fail "a NEW ssh login fails after the rollback"
ssh_session_alive || fail "the old session died"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# refused.sh — issue 6's refusals. Every attempt to confirm a trial that
# does not come through a NEW ssh login to the installed sshd from another
# host is refused with exit 3 and a reason saying what to do; the trial
# stays armed through all of them and rolls back at its deadline.
#   (6) the old session's shell, started before the commit
#   (7) a new shell multiplexed over the old connection (ControlMaster),
#       also through `confirm --auto` (one line, exit 3)
#   (8) ssh localhost, and ssh to the host's own address, from the old session
#   (9) a port forward (-L) through the old connection to the host's sshd
#   (10) a process of the old session detached with setsid
#   (11) a root process outside sshd with a forged SSH_CONNECTION
#   (12) a root-run copy of the sshd binary at another path (on port 2222,
#        which is guarded too, so that only the binary is wrong)
#   (14) a connection that came in before the commit, its login after
#   (15) an unprivileged user under a new login
. "$SRCDIR/tests/e2e/confirm/confirm-env.sh"
default_s0
change_rules "$TMP/rules.nft"
daemon_config "[guard]" "ssh_ports = 22, 2222"
trial_env_up

note "(12) a copy of sshd at another path, listening on port 2222"
mkdir -m 0755 "$TMP/copy"
cp /usr/sbin/sshd "$TMP/copy/sshd"
sed -e 's/^Port .*/Port 2222/' -e "s|^PidFile .*|PidFile $TMP/copy/sshd.pid|" \
        "$SSHENV_DIR/sshd_config" > "$TMP/copy/sshd_config"
srv sh -c "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m0755 /run/sshd &&
        exec $TMP/copy/sshd -D -e -f $TMP/copy/sshd_config" > "$TMP/copy/sshd.log" 2>&1 &
for _ in $(seq 50); do [ -s "$TMP/copy/sshd.pid" ] && break; sleep 0.1; done
[ -s "$TMP/copy/sshd.pid" ] || fail "the copy of sshd did not start: $(cat "$TMP/copy/sshd.log")"

note "(6) a shell of the old session, started before the commit, waits to confirm"
_ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 \
        "touch $TMP/old6.started; while [ ! -e $TMP/go6 ]; do sleep 0.05; done; $CONFIRM" \
        > "$TMP/old6.out" 2>&1 &
OLD6=$!
note "(14) a TCP connection opened before the commit, its login held back"
cli ssh -i "$SSHENV_DIR/client" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
        -o ControlMaster=no -o ControlPath=none \
        -o ProxyCommand="python3 $SRCDIR/tests/e2e/confirm/relay.py 192.0.2.1 22 $TMP/pre14.connected $TMP/go14" \
        root@192.0.2.1 "$CONFIRM" > "$TMP/pre14.out" 2>&1 &
PRE14=$!
for _ in $(seq 100); do [ -e "$TMP/old6.started" ] && [ -e "$TMP/pre14.connected" ] && break; sleep 0.05; done
[ -e "$TMP/old6.started" ] && [ -e "$TMP/pre14.connected" ] || fail "the old shell or the early connection is not there"
sleep 0.05      # more than a clock tick before the commit

apply_trial "$TMP/rules.nft" 40
[ "$(srv nft list table inet fwgconfirm | grep -c 'tcp dport 8081 drop')" = 1 ] || fail "the change is not live"

touch "$TMP/go6"
wait "$OLD6" && rc=0 || rc=$?
refused "(6) old session" "$rc" "$TMP/old6.out" "this session was opened at .*, before the change was committed at .*: open a NEW ssh connection"

attempt "$TMP/mux7.out" _ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 "$CONFIRM"
refused "(7) multiplexed" "$ATTEMPT_RC" "$TMP/mux7.out" "ControlMaster=no"
attempt "$TMP/auto7.out" _ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 "$CONFIRM --auto"
refused "(7) multiplexed, confirm --auto" "$ATTEMPT_RC" "$TMP/auto7.out" "^fwguard: trial $TRIAL_ID is not confirmed: .*ControlMaster=no"
[ "$(wc -l < "$TMP/auto7.out")" = 1 ] || fail "confirm --auto said more than one line: $(cat "$TMP/auto7.out")"

inner_ssh="ssh -i $SSHENV_DIR/client -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
attempt "$TMP/lo8.out" _ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 "$inner_ssh root@127.0.0.1 \"$CONFIRM\""
refused "(8) ssh localhost" "$ATTEMPT_RC" "$TMP/lo8.out" "comes from 127.0.0.1, this host itself"
attempt "$TMP/own8.out" _ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 "$inner_ssh root@192.0.2.1 \"$CONFIRM\""
refused "(8) ssh to the host's own address" "$ATTEMPT_RC" "$TMP/own8.out" "comes from 192.0.2.1, this host itself"

_ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 -O forward -L 2022:127.0.0.1:22 root@192.0.2.1 2> /dev/null ||
        fail "cannot add a port forward to the old connection"
attempt "$TMP/fwd9.out" cli ssh -i "$SSHENV_DIR/client" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ControlMaster=no \
        -o ControlPath=none -p 2022 root@127.0.0.1 "$CONFIRM"
refused "(9) port forward" "$ATTEMPT_RC" "$TMP/fwd9.out" "this host itself"

_ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 \
        "setsid -f sh -c \"$CONFIRM > $TMP/setsid10.out 2>&1; echo \\\$? > $TMP/setsid10.rc\" < /dev/null > /dev/null 2>&1"
for _ in $(seq 100); do [ -s "$TMP/setsid10.rc" ] && break; sleep 0.1; done
refused "(10) setsid from the old session" "$(cat "$TMP/setsid10.rc" 2>/dev/null)" "$TMP/setsid10.out" "not under a ssh login"

attempt "$TMP/forged11.out" srv env SSH_CONNECTION="192.0.2.2 40000 192.0.2.1 22" SSH_CLIENT="192.0.2.2 40000 22" \
        SSH_TTY=/dev/pts/0 "$FWGUARD" confirm
refused "(11) forged SSH_CONNECTION" "$ATTEMPT_RC" "$TMP/forged11.out" "not under a ssh login"

attempt "$TMP/copy12.out" _ssh -o ControlMaster=no -o ControlPath=none -p 2222 root@192.0.2.1 "$CONFIRM"
refused "(12) copy of sshd" "$ATTEMPT_RC" "$TMP/copy12.out" "runs $TMP/copy/sshd, which is not the installed sshd"

touch "$TMP/go14"
wait "$PRE14" && rc=0 || rc=$?
refused "(14) connection before the commit" "$rc" "$TMP/pre14.out" "opened at .*, before the change was committed at"

attempt "$TMP/user15.out" ssh_run "setpriv --reuid=nobody --regid=nogroup --clear-groups env $CONFIRM"
refused "(15) unprivileged user" "$ATTEMPT_RC" "$TMP/user15.out" "may not call Confirm\|Access denied"

note "after every refusal the trial is armed; at its deadline it rolls back"
guarded_is_s1_file() { srv nft list table inet fwgconfirm > /dev/null 2>&1; }
guarded_is_s1_file || fail "the change is gone before the deadline"
sleep_until $((TRIAL_DEADLINE + 500000))
wait_idle 20
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
scratch_nft true > "$TMP/s0.txt"
live_nft > "$TMP/live.txt"
same "$TMP/s0.txt" "$TMP/live.txt" "the rollback did not restore S0"
ssh_login || fail "a NEW ssh login fails after the rollback"
ssh_session_alive || fail "the old session died"
echo ok

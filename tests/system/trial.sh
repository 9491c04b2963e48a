#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# trial.sh — system test 2, through the installed units and login hook:
#   a. apply a locking ruleset, confirm nothing: SSH stays reachable during
#      the trial, the old session lives, and the dead-man rolls it back to
#      the exact ruleset before;
#   b. apply it again: a confirm that systemd-run spawns (a child of PID 1,
#      not of sshd) is refused; a NEW login runs the login hook
#      (/etc/ssh/sshrc), which confirms; the change stays past the deadline;
#   c. the same with sshd -i under ssh.socket (Accept=yes): a NEW
#      connection confirms.
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot
ct_config

ct_lock_file
ct_nft > "$TMP/s0.txt"
ct_session_open

note "a. no confirmation: rolled back at the deadline"
ct_apply 6 /root/lock.nft
id=$TRIAL_ID
ct_nft > "$TMP/s1.txt"
guarded_as "$TMP/plain.txt" "$TMP/s1.txt" 22 "inet lockme input"
ct_banner || fail "sshd is not reachable during the trial"
ct_session_alive || fail "the old session died during the trial"
[ "$(ct_status "['trial']['id']")" = "$id" ] || fail "status does not show trial $id"
ct_wait_idle 20 || fail "the trial was not rolled back"
ct_nft > "$TMP/after.txt"
same "$TMP/s0.txt" "$TMP/after.txt" "the ruleset after the rollback is not the one before"
[ "$(ct_outcome "$id")" = rolled-back ] || fail "history: $(ct fwguard history)"
ct_journal_has MESSAGE_ID=df8af50ae3d645d190b82366b783dd78 fwguardd.service || fail "no rollback in the journal"
ct_session_alive || fail "the old session died in the rollback"

note "b. a NEW login confirms through the login hook"
ct_apply 8 /root/lock.nft
id=$TRIAL_ID
rc=0
ct systemd-run --wait --pipe --quiet /usr/bin/fwguard confirm > "$TMP/sdrun.txt" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "a confirm spawned by systemd-run was not refused (exit $rc): $(cat "$TMP/sdrun.txt")"
[ "$(ct_status "['state']")" = armed ] || fail "a confirm spawned by systemd-run ended the trial"
ct_ssh -- true || fail "a NEW ssh login failed during the trial"
ct_wait_idle 5 || fail "the login did not confirm"
[ "$(ct_outcome "$id")" = confirmed ] || fail "history: $(ct fwguard history)"
sleep 9
ct_nft > "$TMP/kept.txt"
guarded_as "$TMP/plain.txt" "$TMP/kept.txt" 22 "inet lockme input"
ct_session_alive || fail "the old session died"
ct_ssh -- true || fail "a NEW ssh login failed after the confirmation"

note "c. sshd -i under ssh.socket with Accept=yes"
mkdir -p "$CT_ROOT/etc/systemd/system/ssh.socket.d"
printf '[Socket]\nAccept=yes\n' > "$CT_ROOT/etc/systemd/system/ssh.socket.d/accept.conf"
cat > "$CT_ROOT/etc/systemd/system/ssh@.service" <<'UNIT'
[Unit]
Description=OpenBSD Secure Shell server, per connection
[Service]
ExecStartPre=/bin/mkdir -p /run/sshd
ExecStart=-/usr/sbin/sshd -i
StandardInput=socket
StandardError=journal
UNIT
ct systemctl daemon-reload
ct systemctl disable --now ssh.service
ct systemctl enable --now ssh.socket
ct_ssh -- true || fail "no login through ssh.socket"
sed 's/lockme/locktoo/' "$CT_ROOT/root/lock.nft" > "$CT_ROOT/root/lock2.nft"
ct_apply 8 /root/lock2.nft
id=$TRIAL_ID
ct_ssh -- true || fail "a NEW login through ssh.socket failed during the trial"
ct_wait_idle 5 || fail "a login through sshd -i did not confirm"
[ "$(ct_outcome "$id")" = confirmed ] || fail "history: $(ct fwguard history)"
echo ok

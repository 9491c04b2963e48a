#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ports.sh — sshd moves to port 2222 (restarted with a new config) under a
# confirmed lockout that lets in only what the guard on port 22 accepts. At
# the next change of the ruleset (here no system bus tells of the restart)
# the monitor finds the ports again and every guard accepts 2222 instead of
# 22: a NEW login on 2222 works.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
default_s0
lockout_rules "$TMP/rules.nft"
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
apply_trial "$TMP/rules.nft" 30
ssh_run "FWGUARD_RUNTIME_DIR='$FWGD_RUN' '$FWGUARD' confirm" > /dev/null || fail "confirm exited $?"

note "sshd restarts on port 2222"
kill "$(cat "$SSHENV_DIR/sshd.pid")"
rm -f "$SSHENV_DIR/sshd.pid"
sed -i 's/^Port 22$/Port 2222/' "$SSHENV_DIR/sshd_config"
srv sh -c "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m0755 /run/sshd &&
           exec /usr/sbin/sshd -D -e -f '$SSHENV_DIR/sshd_config'" >> "$SSHENV_DIR/sshd.log" 2>&1 &
wait_until 5 "sshd did not start on 2222" test -s "$SSHENV_DIR/sshd.pid"
! ssh_login 2222 || fail "a login on 2222 works before the monitor acted: the test proves nothing"

note "the next change of the ruleset: the guards follow the ports"
srv nft add table inet poke
log_wait 10 "the SSH ports changed from 22 to 2222" 0
ssh_login 2222 || fail "a NEW login on port 2222 fails"
scratch_nft "nft -f '$TMP/rules.nft'; nft add table inet poke" > "$TMP/s1-poke.txt"
live_nft > "$TMP/guarded.txt"
python3 "$SRCDIR/tests/tools/guardcheck.py" "$TMP/s1-poke.txt" "$TMP/guarded.txt" 2222 "${LOCKOUT_GUARDED[@]}" ||
        fail "the guards are not exactly those for port 2222"
ssh_session_alive || fail "the old session died"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

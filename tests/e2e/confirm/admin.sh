#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# admin.sh — issue 6: a sudo-group admin who is not root confirms from a
# fresh login, and so does a fresh login that changes user on the way (4):
#   - `ssh fwgadmin@host fwguard confirm`: the proof walks from the caller
#     through the sshd child owned by fwgadmin up to the root per-connection
#     sshd (checked: the daemon names a root sshd whose child is fwgadmin's)
#   - (4) fwgadmin's new login, then `su` to root (this host has no sudo:
#     su with pam_wheel's trust for the sudo group stands in for it)
#   - (4) root's new login, `su` to fwgadmin and from there `su` back to root
#   - (4) root's new login, `setpriv` to fwgadmin (uid 4242, groups of the
#     user)
# Each confirms: the change stays, the history says confirmed. Then su
# launders nothing: fwgadmin's su to root inside the OLD session is refused
# (the old connection), the trial stays armed and rolls back at its deadline.
. "$SRCDIR/tests/e2e/confirm/login-env.sh"
default_s0
change_rules "$TMP/rules.nft"
# No login hook here: the commands below confirm, not sshrc before them.
rm "$ETC/ssh/sshrc" "$ETC/profile.d/fwguard.sh"
login_env_up

PORT=8080
fresh_trial() {
        PORT=$((PORT + 1))
        { [ $PORT = 8081 ] || echo "delete table inet fwgconfirm"; sed "s/8081/$PORT/" "$TMP/rules.nft"; } > "$TMP/t$PORT.nft"
        apply_trial "$TMP/t$PORT.nft" "${1:-30}"
}

# confirms NAME USER REMOTE-CMD WANT-UID: a new login as USER runs CMD,
# which prints the uid that ran `fwguard confirm` and then its output.
confirms() {
        local name=$1 user=$2 cmd=$3 want_uid=$4 out=$TMP/$RANDOM.out
        fresh_trial
        attempt "$out" ssh_as "$user" "$cmd"
        [ "$ATTEMPT_RC" = 0 ] || fail "$name: exited $ATTEMPT_RC: $(cat "$out"); sshd said: $(tail -n 5 "$SSHENV_DIR/sshd.log")"
        [ "$(head -n 1 "$out")" = "uid=$want_uid" ] || fail "$name: confirm did not run as uid $want_uid: $(cat "$out")"
        grep -q "trial $TRIAL_ID confirmed" "$out" || fail "$name: it says: $(cat "$out")"
        [ "$(fwg status)" = idle ] || fail "$name: not idle: $(fwg status); it said: $(cat "$out")"
        [ "$(history_get "$TRIAL_ID" outcome)" = confirmed ] || fail "$name: history: $(cat "$TMP/history.json")"
        srv nft list table inet fwgconfirm > "$TMP/table.txt" 2>&1 || true
        grep -q "tcp dport $PORT drop" "$TMP/table.txt" || fail "$name: the confirmed change is not live: $(cat "$TMP/table.txt")"
        note "$name: confirmed"
}
UIDCONFIRM="echo uid=\$(id -u); $CONFIRM"

# The user's sshd child and its parent, recorded while the login runs.
confirms "fwgadmin: ssh host fwguard confirm" fwgadmin \
        "pp=\$(sed 's/.*) //' /proc/\$PPID/stat | cut -d' ' -f2);
         echo \$PPID \$pp \$(stat -c %U /proc/\$PPID) > ~/chain.txt;
         echo \$pp - \$(stat -c %U /proc/\$pp) >> ~/chain.txt; $UIDCONFIRM" 4242
{ read -r upid uppid uuser _; read -r rpid _ ruser _; } < "$HOMES/fwgadmin/chain.txt"
[ "$uuser" = fwgadmin ] && [ "$ruser" = root ] && [ "$rpid" = "$uppid" ] ||
        fail "the login's shell does not run under an sshd of fwgadmin under a root sshd: $(cat "$HOMES/fwgadmin/chain.txt")"
grep -q "pid [0-9]* runs under sshd $rpid," "$FWGD_LOG" ||
        fail "the daemon did not name the root sshd $rpid above fwgadmin's sshd $upid: $(grep 'runs under' "$FWGD_LOG")"
note "the proof walked through fwgadmin's sshd $upid to the root sshd $rpid"

confirms "(4) fwgadmin, then su to root" fwgadmin "su -c '$UIDCONFIRM' root" 0
confirms "(4) root, su to fwgadmin, su back to root" root \
        "su -s /bin/sh -c \"su -c '$UIDCONFIRM' root\" fwgadmin" 0
confirms "(4) root, setpriv to fwgadmin" root \
        "setpriv --reuid=4242 --regid=4242 --init-groups sh -c '$UIDCONFIRM'" 4242

note "su inside the old session launders nothing"
fresh_trial 8
attempt "$TMP/oldsu.out" _ssh -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 \
        "su -s /bin/sh -c \"su -c '$CONFIRM' root\" fwgadmin"
refused "su to fwgadmin and back, in the old session" "$ATTEMPT_RC" "$TMP/oldsu.out" "before the change was committed"
sleep_until $((TRIAL_DEADLINE + 500000))
wait_idle 20
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
srv nft list table inet fwgconfirm > "$TMP/after.txt" 2>&1 || true
grep -q "tcp dport $((PORT - 1)) drop" "$TMP/after.txt" || fail "the rollback did not restore the last confirmed change: $(cat "$TMP/after.txt")"
grep -q "tcp dport $PORT drop" "$TMP/after.txt" && fail "the unconfirmed change is still live: $(cat "$TMP/after.txt")"
ssh_login || fail "a NEW ssh login fails after the rollback"
ssh_session_alive || fail "the old session died"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hook.sh — issue 6, case (2): the login hook confirms from an interactive
# login (a terminal, `ssh -tt`, no command), for root and for fwgadmin (in
# the sudo group, not root), with bash and with dash as the login shell;
# through /etc/ssh/sshrc alone, through /etc/profile.d/fwguard.sh alone (a
# user whose ~/.ssh/rc keeps sshd from running sshrc), and through both.
# Each confirms with exactly one line, the change stays and the history
# says confirmed; with nothing pending the hook prints nothing. Then one
# trial gets refusals: a login multiplexed over the old connection (one
# line: why, and the fix), an unprivileged user's login (silent) and his
# `ssh host fwguard confirm` (refused); it stays armed through them and
# rolls back at its deadline.
. "$SRCDIR/tests/e2e/confirm/login-env.sh"
default_s0
change_rules "$TMP/rules.nft"
login_env_up

PORT=8080
fresh_trial() {
        PORT=$((PORT + 1))
        { [ $PORT = 8081 ] || echo "delete table inet fwgconfirm"; sed "s/8081/$PORT/" "$TMP/rules.nft"; } > "$TMP/t$PORT.nft"
        apply_trial "$TMP/t$PORT.nft" "${1:-30}"
}

# via: which hook may run. sshrc: /etc/ssh/sshrc only (no profile.d file);
# profile: /etc/profile.d/fwguard.sh only (the user has ~/.ssh/rc, so sshd
# skips sshrc); both: as installed, sshrc runs the hook and the profile
# must not run it again (a refusal would be said twice: see the multiplexed
# login below).
set_via() {
        set_ssh_rc "$1" "$([ "$2" = profile ] && echo yes || echo no)"
        if [ "$2" = sshrc ]; then rm -f "$ETC/profile.d/fwguard.sh"; else cp "$HOOKS/fwguard.sh" "$ETC/profile.d/"; fi
}

# hook_confirms USER SHELL VIA: a new interactive login of USER with SHELL.
hook_confirms() {
        local user=$1 shell=$2 via=$3 name="(2) $1, $2, via $3" out
        out=$TMP/hook-$user-${shell##*/}-$via.out
        set_shell "$user" "$shell"
        set_via "$user" "$via"
        fresh_trial
        login_tty "$user" "$out" || fail "$name: the login exited $?: $(cat "$out")"
        grep -q '@@END$' "$out" || fail "$name: the shell did not run to its end: $(cat "$out")"
        [ "$(hook_lines "$out")" = "fwguard: trial $TRIAL_ID confirmed by this new ssh login: the change stays." ] ||
                fail "$name: the hook did not say exactly one line of confirmation: $(cat "$out")"
        [ "$(fwg status)" = idle ] || fail "$name: not idle: $(fwg status); the login said: $(cat "$out")"
        [ "$(history_get "$TRIAL_ID" outcome)" = confirmed ] || fail "$name: history: $(cat "$TMP/history.json")"
        srv nft list table inet fwgconfirm > "$TMP/table.txt" 2>&1 || true
        grep -q "tcp dport $PORT drop" "$TMP/table.txt" || fail "$name: the confirmed change is not live: $(cat "$TMP/table.txt")"
        note "$name: confirmed"
}

hook_confirms root /bin/bash sshrc
hook_confirms root /bin/dash sshrc
hook_confirms fwgadmin /bin/bash sshrc
hook_confirms fwgadmin /bin/dash sshrc
hook_confirms root /bin/bash profile
hook_confirms fwgadmin /bin/dash profile
hook_confirms fwgadmin /bin/bash both
hook_confirms root /bin/dash both

note "nothing pending: the hook is silent, for both paths and both users"
for user in root fwgadmin; do
        for via in both profile; do
                set_via "$user" "$via"
                login_tty "$user" "$TMP/idle-$user-$via.out" || fail "idle login of $user exited $?"
                grep -q '@@END$' "$TMP/idle-$user-$via.out" || fail "idle login of $user: $(cat "$TMP/idle-$user-$via.out")"
                [ -z "$(hook_lines "$TMP/idle-$user-$via.out")" ] ||
                        fail "the hook spoke with nothing pending ($user, ~/.ssh/rc $via): $(cat "$TMP/idle-$user-$via.out")"
        done
done
set_via root both
set_via fwgadmin both

note "a login multiplexed over the old connection: one line from the hook, with the reason and the fix"
fresh_trial 8
printf 'echo @@EN""D\nexit\n' | _ssh -tt -o ControlPath="$SSHENV_DIR/cm" -p 22 root@192.0.2.1 > "$TMP/mux.raw" 2>&1 ||
        fail "the multiplexed login exited $?: $(cat "$TMP/mux.raw")"
tr -d '\r' < "$TMP/mux.raw" > "$TMP/mux.out"
grep -q '@@END$' "$TMP/mux.out" || fail "the multiplexed login: $(cat "$TMP/mux.out")"
hook_lines "$TMP/mux.out" > "$TMP/mux.hook"
[ "$(wc -l < "$TMP/mux.hook")" = 1 ] && grep -q "^fwguard: trial $TRIAL_ID is not confirmed: .*ControlMaster=no" "$TMP/mux.hook" ||
        fail "the hook did not say one line of refusal with the fix: $(cat "$TMP/mux.out")"
still_armed "the multiplexed login"

note "an unprivileged user's login: silent, nothing confirmed; the trial rolls back at its deadline"
set_shell fwgplain /bin/dash
login_tty fwgplain "$TMP/plain.out" || fail "fwgplain's login exited $?: $(cat "$TMP/plain.out")"
grep -q '@@END$' "$TMP/plain.out" || fail "fwgplain's login: $(cat "$TMP/plain.out")"
[ -z "$(hook_lines "$TMP/plain.out")" ] || fail "the hook spoke to an unprivileged user: $(cat "$TMP/plain.out")"
still_armed "fwgplain's login"
attempt "$TMP/plain-run.out" ssh_as fwgplain "$CONFIRM"
refused "fwgplain's ssh host fwguard confirm" "$ATTEMPT_RC" "$TMP/plain-run.out" "may not call Confirm\|Access denied"
sleep_until $((TRIAL_DEADLINE + 500000))
wait_idle 20
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
srv nft list table inet fwgconfirm > "$TMP/after.txt" 2>&1 || true
grep -q "tcp dport $((PORT - 1)) drop" "$TMP/after.txt" || fail "the rollback did not restore the last confirmed change: $(cat "$TMP/after.txt")"
grep -q "tcp dport $PORT drop" "$TMP/after.txt" && fail "the unconfirmed change is still live: $(cat "$TMP/after.txt")"
ssh_login || fail "a NEW ssh login fails after the rollback"
ssh_session_alive || fail "the old session died"
echo ok

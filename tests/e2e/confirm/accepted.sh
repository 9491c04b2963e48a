#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# accepted.sh — issue 6's acceptances: a NEW key login from the client
# namespace confirms, the change stays past its deadline and the history
# says confirmed.
#   (3) non-interactive `ssh host fwguard confirm`
#   (1) a new login with a terminal (ssh -tt) running `fwguard confirm`
#   --auto: from a new login, one line saying it confirmed; then, with
#   nothing pending, silent and exit 0; and silent when no daemon runs
. "$SRCDIR/tests/e2e/confirm/confirm-env.sh"
default_s0
change_rules "$TMP/rules.nft"
trial_env_up

confirmed() {
        local name=$1 out=$2
        [ "$(fwg status)" = idle ] || fail "$name: not idle after the confirmation: $(fwg status); it said: $(cat "$out")"
        [ "$(history_get "$TRIAL_ID" outcome)" = confirmed ] || fail "$name: history: $(cat "$TMP/history.json")"
        srv nft list table inet fwgconfirm > "$TMP/table.txt" 2>&1 || true
        grep -q "tcp dport $PORT drop" "$TMP/table.txt" || fail "$name: the confirmed change is not live: $(cat "$TMP/table.txt")"
        note "$name: confirmed"
}
# A new trial over the last one: the table is made again, with another port.
PORT=8080
fresh_trial() {
        PORT=$((PORT + 1))
        { [ $PORT = 8081 ] || echo "delete table inet fwgconfirm"; sed "s/8081/$PORT/" "$TMP/rules.nft"; } > "$TMP/t$PORT.nft"
        apply_trial "$TMP/t$PORT.nft" 30
}

fresh_trial
attempt "$TMP/run3.out" ssh_run "$CONFIRM"
[ "$ATTEMPT_RC" = 0 ] || fail "(3) ssh host fwguard confirm exited $ATTEMPT_RC: $(cat "$TMP/run3.out")"
grep -q "trial $TRIAL_ID confirmed" "$TMP/run3.out" || fail "(3) it says: $(cat "$TMP/run3.out")"
confirmed "(3) non-interactive" "$TMP/run3.out"
FIRST=$TRIAL_ID

fresh_trial
attempt "$TMP/tty1.out" _ssh -tt -o ControlMaster=no -o ControlPath=none -p 22 root@192.0.2.1 "$CONFIRM"
[ "$ATTEMPT_RC" = 0 ] || fail "(1) a login with a terminal exited $ATTEMPT_RC: $(cat "$TMP/tty1.out")"
grep -q "trial $TRIAL_ID confirmed" "$TMP/tty1.out" || fail "(1) it says: $(cat "$TMP/tty1.out")"
confirmed "(1) with a terminal" "$TMP/tty1.out"

fresh_trial
attempt "$TMP/auto.out" ssh_run "$CONFIRM --auto"
[ "$ATTEMPT_RC" = 0 ] || fail "confirm --auto exited $ATTEMPT_RC: $(cat "$TMP/auto.out")"
[ "$(cat "$TMP/auto.out")" = "fwguard: trial $TRIAL_ID confirmed by this new ssh login: the change stays." ] ||
        fail "confirm --auto said: $(cat "$TMP/auto.out")"
confirmed "confirm --auto" "$TMP/auto.out"
attempt "$TMP/auto-idle.out" ssh_run "$CONFIRM --auto"
[ "$ATTEMPT_RC" = 0 ] && [ ! -s "$TMP/auto-idle.out" ] ||
        fail "confirm --auto with nothing pending: exit $ATTEMPT_RC, said: $(cat "$TMP/auto-idle.out")"
attempt "$TMP/auto-nodaemon.out" ssh_run "FWGUARD_RUNTIME_DIR=$TMP/nowhere '$FWGUARD' confirm --auto"
[ "$ATTEMPT_RC" = 0 ] && [ ! -s "$TMP/auto-nodaemon.out" ] ||
        fail "confirm --auto without a daemon: exit $ATTEMPT_RC, said: $(cat "$TMP/auto-nodaemon.out")"

[ "$(history_get "$FIRST" outcome)" = confirmed ] || fail "history of the first trial: $(cat "$TMP/history.json")"
ssh_session_alive || fail "the old session died"
[ ! -e "$FWGD_WALL_LOG" ] || fail "a rollback was announced: $(cat "$FWGD_WALL_LOG")"
echo ok

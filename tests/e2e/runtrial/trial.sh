#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# trial.sh RUN-CALL rollback|confirm — Run makes one trial of a ruleset and
# four files (one changed with its mode, one created, one deleted, a
# private file changed with its mode):
#   rollback  not confirmed: at the deadline the ruleset is S0 again AND the
#             files are exactly as before (contents, modes; the created
#             file is gone, the deleted one is back);
#   confirm   confirmed: ruleset and files stay, and survive a restart;
#   filesonly the command changed files only (the result is the seed): a
#             trial of the files alone, rolled back at the deadline, and
#             the ruleset (and its generation) never touched;
#   reboot    the record says another boot: the reboot ended the trial, the
#             files are restored (the next boot loads the old ones, as the
#             history says: rolled back) and the ruleset is not touched,
#             nor the network sysctls (this boot's own);
#   sysctlsonly  the command changed network sysctls only: a trial of
#             them alone, rolled back at the deadline.
# Each trial sets two network sysctls of the daemon's namespace too (lib.sh):
# set during the trial, set back with the files; the host's never change.
RUNCALL=$1
CASE=$2
. "$SRCDIR/tests/e2e/runtrial/lib.sh"
ruleset_setup one
files_setup

daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
if [ "$CASE" = sysctlsonly ]; then
        FILE_ARGS=()
        cp "$TMP/F_OLD" "$TMP/F_NEW"
fi
if [ "$CASE" = filesonly ] || [ "$CASE" = sysctlsonly ]; then
        cp "$TMP/seed.fwg" "$TMP/result.fwg"
        cp "$TMP/S0" "$TMP/S1"
        ruleset_state N > "$TMP/state0"
fi
run_trial 3 || { cat "$TMP/run.out" "$FWGD_LOG"; fail "Run failed"; }
cat "$TMP/run.out"
if [ "$CASE" != sysctlsonly ]; then
        grep -q "file $ETC/ufw/after.rules: created" "$TMP/run.out" || fail "the changes do not name the created file"
        grep -q "file $ETC/ufw/before.rules: deleted" "$TMP/run.out" || fail "the changes do not name the deleted file"
fi
grep -q "sysctl net/ipv4/tcp_fin_timeout: 61 -> 37" "$TMP/run.out" || fail "the changes do not name the sysctl"
live > "$TMP/live"
same "$TMP/S1" "$TMP/live" "during the trial, live is not S1' with the guard"
files_are NEW "during the trial"
[ "$(status_field state)" = armed ] || fail "not armed: $(fwg status)"

case $CASE in
rollback)
        wait_live "$TMP/S0" "$TMP/S1" 10 > /dev/null
        wait_idle 5
        files_are OLD "after the rollback"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back" ;;
confirm)
        fwg confirm > /dev/null || fail "confirm failed"
        files_are NEW "after the confirmation"
        daemon_stop
        daemon_start_ns
        sleep 4         # past the deadline the trial had
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "after the restart, live is not S1'"
        files_are NEW "after the restart"
        [ "$(fwg status)" = idle ] || fail "not idle: $(fwg status)"
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1), not confirmed" ;;
filesonly | sysctlsonly)
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "a trial of files alone touched the ruleset"
        for _ in $(seq 100); do
                [ "$(fwg status)" = idle ] && break
                sleep 0.1
        done
        wait_idle 1
        files_are OLD "after the rollback"
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "the rollback of files alone touched the ruleset"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back" ;;
reboot)
        daemon_stop
        python3 "$TOOLS/trialrecord.py" "$FWGD_STATE/trial/record" set boot_id 00000000-0000-4000-8000-000000000000
        ruleset_state N > "$TMP/state0"
        daemon_start_ns
        [ "$(fwg status)" = idle ] || fail "not idle: $(fwg status)"
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "recovering a trial of another boot touched the ruleset"
        ONLY_FILES=1 files_are OLD "after recovering a trial of another boot"
        sysctls_are NEW "after recovering a trial of another boot (this boot's own)"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back" ;;
*) fail "unknown case $CASE" ;;
esac
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# boot.sh RUN-CALL — a Run trial (a ruleset, four files, two sysctls) is
# pending when the machine goes down (fwguardd killed, as by a power loss).
# `fwguard boot` on a trial of this boot leaves everything alone (fwguardd's
# business). After a reboot (another boot id, a fresh network namespace),
# `fwguard boot`, with no fwguardd, puts every file back exactly (contents,
# modes: a created file gone, a deleted one back), touches no ruleset and
# no sysctl, and the history that fwguardd shows when it starts says
# rolled back, because the reboot ended it.
RUNCALL=$1
. "$SRCDIR/tests/e2e/runtrial/lib.sh"
. "$SRCDIR/tests/e2e/persist/lib.sh"
ruleset_setup one
files_setup

daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
run_trial 30 || { cat "$TMP/run.out" "$FWGD_LOG"; fail "Run failed"; }
files_are NEW "during the trial"
daemon_kill

# Of this boot: not fwguard boot's to end.
fwg_root boot > "$TMP/boot.out" || fail "fwguard boot failed on a trial of this boot"
grep -q "trial 1 is of this boot" "$TMP/boot.out" || fail "fwguard boot did not leave trial 1 alone: $(cat "$TMP/boot.out")"
[ "$(record_get state)" = armed ] || fail "fwguard boot changed the record of a trial of this boot"
files_are NEW "after fwguard boot on a trial of this boot"

reboot fwg0
ruleset_state N > "$TMP/stateN0"
ruleset_state R > "$TMP/stateR0"
R "$FWGUARD" boot --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > "$TMP/boot.out" 2>&1 ||
        { cat "$TMP/boot.out"; fail "fwguard boot failed"; }
cat "$TMP/boot.out"
grep -q "trial 1 (armed) is from an earlier boot" "$TMP/boot.out" || fail "fwguard boot did not end trial 1"
ONLY_FILES=1 files_are OLD "after fwguard boot"
sysctls_are NEW "after fwguard boot (the trial's namespace keeps its own)"
[ ! -e "$FWGD_STATE/trial/record" ] || fail "trial 1 is still pending after fwguard boot"
ruleset_state N > "$TMP/stateN1"
ruleset_state R > "$TMP/stateR1"
same "$TMP/stateN0" "$TMP/stateN1" "fwguard boot touched the old namespace's ruleset"
same "$TMP/stateR0" "$TMP/stateR1" "fwguard boot touched the new boot's ruleset"
# Run trials keep nothing for a reboot: the tool's own files do.
[ -z "$(entries)" ] || fail "a Run trial left persisted entries: $(entries)"

daemon_start_ns
[ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back"
report 1 | grep -q "reboot" || fail "the history does not say that the reboot ended trial 1"
finish

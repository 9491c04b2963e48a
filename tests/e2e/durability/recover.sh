#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# recover.sh before|after|reboot — fwguardd stopped (SIGTERM) with a trial
# armed, then started again:
#   before  restarted before the deadline: armed again with the same
#           deadline, and rolled back at it, not earlier, not much later;
#   after   restarted after the deadline: rolled back at once (within 1 s
#           of answering);
#   reboot  the record says another boot: the reboot ended the trial, the
#           history says so (rolled back, with a report naming the reboot),
#           and the live ruleset is NOT touched (nor its generation).
. "$SRCDIR/tests/e2e/durability/lib.sh"
CASE=$1
ruleset_setup two
TIMEOUT=3
[ "$CASE" = before ] && TIMEOUT=5

daemon_start_ns
fwg apply --timeout "$TIMEOUT" "$TMP/change.nft" > /dev/null || fail "apply failed"
DEADLINE_US=$(status_field deadline_realtime_usec)
DEADLINE=$(usec_sec "$DEADLINE_US")
daemon_stop
live > "$TMP/live"
same "$TMP/S1" "$TMP/live" "stopping fwguardd changed the live ruleset"
[ "$(record_get state)" = armed ] || fail "the record says $(record_get state), not armed"

case $CASE in
before)
        sleep 1.5       # as in crash.sh: a deadline counted again would show
        daemon_start_ns
        armed_again "$DEADLINE_US"
        rolled_back_at_deadline "$DEADLINE" "$TIMEOUT" ;;
after)
        wait_past "$(fsub "$DEADLINE" -0.3)"
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "something rolled back while fwguardd was stopped"
        T_START=$(now)
        daemon_start_ns
        rolled_back_at_once "$T_START" ;;
reboot)
        python3 "$TOOLS/trialrecord.py" "$FWGD_STATE/trial/record" set boot_id \
                "$(python3 -c 'import uuid; print(uuid.uuid4())')"
        ruleset_state N > "$TMP/state0"
        daemon_start_ns
        [ "$(fwg status)" = idle ] || fail "not idle after the restart: $(fwg status)"
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1), not rolled-back"
        report 1 | grep -q "reboot" || fail "the history does not say that the reboot ended the trial: $(report 1)"
        # Past the deadline too: no dead-man is left to act on this boot's ruleset.
        wait_past "$(fsub "$DEADLINE" -0.5)"
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "the trial of another boot made fwguardd touch the live ruleset" ;;
*) fail "unknown case $CASE" ;;
esac
[ ! -e "$FWGD_STATE/trial/record" ] || fail "a trial record is left in the state directory"
keep_intact
finish

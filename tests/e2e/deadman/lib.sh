# SPDX-License-Identifier: GPL-2.0-or-later
# deadman/lib.sh — shared by the tests of the second dead-man. Source it
# after setting RUNCALL (tests/e2e/runtrial's run-call, for Run trials).
#
# Builds on runtrial/lib.sh, and so on durability/lib.sh: fwguardd in a
# network namespace of its own (N CMD runs CMD there), live, oracle,
# ruleset_setup, S0 and S1, outcome, report, status_field, files_setup,
# run_trial, files_are, finish. No systemd and no sshd: `fwguard deadman`
# runs here as the timer's service would run it, in the daemon's network
# namespace, on its state directory and config.
#
#   deadman ID [VAR=VAL...]   run `fwguard deadman ID` (with that environment);
#                             its output goes to $DM_LOG; returns its exit code
#   deadman_bg ID [VAR=VAL...]  the same in the background: DM_BG is its pid
#   stopped PID               is PID stopped (SIGSTOP)?
#   wait_stopped PID WHAT     until it is, or fail (WHAT: for the message)
#   ended_record ID           the state trial ID ended from, read from the
#                             state directory (no daemon needed)
#   ended_report ID           its report, from the state directory
#   deadline_sec              the pending trial's deadline (seconds, as now)
#   rollbacks_by_daemon ID    how many times fwguardd logged rolling trial ID back
#   dead_man_noticed ID       fwguardd said that the second dead-man rolled
#                             trial ID back (within a few seconds)
. "$SRCDIR/tests/e2e/runtrial/lib.sh"

DM_LOG=$TMP/deadman.log
: > "$DM_LOG"
GRACE=3         # lib/deadman.h: DEADMAN_GRACE_SEC

deadman() {
        local id=$1
        shift
        env "$@" nsenter -t "$NSPID" -n -- "$FWGUARD" deadman "$id" --state-dir "$FWGD_STATE" \
                --config "$FWGD_CONF" >> "$DM_LOG" 2>&1
}

deadman_bg() {
        deadman "$@" &
        DM_BG=$!
}

stopped() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ]; }

wait_stopped() {
        for _ in $(seq 300); do
                stopped "$1" && return 0
                sleep 0.05
        done
        fail "$2 did not stop"
}

ended_record() { python3 "$TOOLS/trialrecord.py" "$FWGD_STATE/history/$1/record" get state; }
ended_report() { cat "$FWGD_STATE/history/$1/report" 2>/dev/null || true; }

deadline_sec() { usec_sec "$(status_field deadline_realtime_usec)"; }

rollbacks_by_daemon() { grep -c "^fwguardd: trial $1 rolled back (" "$FWGD_LOG" || true; }

dead_man_noticed() {
        for _ in $(seq 100); do
                grep -q "^fwguardd: trial $1 was rolled back by the second dead-man" "$FWGD_LOG" && return 0
                sleep 0.05
        done
        cat "$FWGD_LOG" >&2
        fail "fwguardd did not say that the second dead-man rolled trial $1 back"
}

# Every test ends here: no sanitizer report from the dead-man either, and
# the host's sysctls as they were when a Run trial set some (files_setup).
eval "deadman_$(declare -f finish)"
finish() {
        ! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$DM_LOG" >&2 ||
                fail "a sanitizer report in fwguard deadman's output"
        if [ -e "$TMP/SY_HOST" ]; then
                deadman_finish
        else
                durability_finish
        fi
}

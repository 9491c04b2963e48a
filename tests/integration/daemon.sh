#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# daemon.sh — fwguardd's bus surface, in a namespace with private directories:
# Status for root and anyone (text, JSON, option and environment); busctl
# speaks to the socket, and introspection lists every method and signal with
# its signature; an unlisted method is refused; Check and Diff answer through
# the daemon with an fd; confirm, rollback and extend with nothing pending
# exit 1; a file with a syntax error exits 1 with FILE:LINE:COL and changes
# nothing (acceptance 10); a real trial shows in Status, survives SIGTERM
# with the state directory untouched and comes back at the next start; with
# no daemon the CLI says how to start one. Authorization: daemon-auth.sh.
. "$SRCDIR/tests/integration/daemon-lib.sh"

daemon_start_ns

# Idle, as text and JSON, through the option and the environment.
[ "$(FWGUARD_RUNTIME_DIR= "$FWGUARD" status --runtime-dir "$FWGD_RUN")" = idle ] || fail "status --runtime-dir is not idle"
FWGUARD_RUNTIME_DIR="$FWGD_RUN" "$FWGUARD" status --json > "$TMP/status.json" || fail "status --json failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="idle" and d["trial"] is None, d' \
        "$TMP/status.json" || fail "status --json: $(cat "$TMP/status.json")"

# busctl speaks to the bus-less socket (the daemon answers its Hello), and
# introspection lists the whole interface with its signatures.
busctl --address="$ADDR" introspect "${OBJ[@]}" > "$TMP/introspect" || fail "busctl introspect failed"
while read -r member kind sig result; do
        grep -Eq "^\\.$member +$kind +$(printf '%s' "$sig" | sed 's/[()]/\\&/g') +$(printf '%s' "$result" | sed 's/[()]/\\&/g') " \
                "$TMP/introspect" || { cat "$TMP/introspect" >&2; fail "introspect: no $kind $member $sig -> $result"; }
done <<'EOF'
Apply method hstt ttsas
Confirm method - ts
Rollback method - tbus
Extend method t t
Status method - stts
History method - a(tsttuss)
RollbackTo method ttt ttsas
Check method hsb is
Diff method hsb is
Armed signal tt -
Confirmed signal t -
RolledBack signal tsbu -
Refused signal s -
EOF
[ "$(busctl --address="$ADDR" call "${OBJ[@]}" $IFACE Status)" = 'stts "idle" 0 0 ""' ] || fail "busctl call Status"

# The socket is open to everyone; the table lets anyone call Status, and
# refuses a method it does not list (even to root).
[ "$(stat -c %a "$FWGD_RUN")" = 755 ] && [ "$(stat -c %a "$FWGD_RUN/bus")" = 666 ] || fail "runtime modes"
[ "$(nobody "$FWGUARD" status)" = idle ] || fail "nobody cannot call status"
for who in nobody env; do
        $who busctl --address="$ADDR" call "${OBJ[@]}" $IFACE Nope 2> "$TMP/nope.err" &&
                fail "an unlisted method was served ($who)"
        grep -q "Access denied\|may not call Nope" "$TMP/nope.err" || fail "unlisted method ($who): $(cat "$TMP/nope.err")"
done

# Nothing pending: exit 1 and say so.
run 1 "$TMP/nc" fwg confirm
grep -q "nothing to confirm" "$TMP/nc.err" || fail "confirm: $(cat "$TMP/nc.err")"
run 1 "$TMP/nr" fwg rollback
grep -q "nothing to roll back" "$TMP/nr.err" || fail "rollback: $(cat "$TMP/nr.err")"
run 1 "$TMP/ne" fwg extend 10
grep -q "nothing to extend" "$TMP/ne.err" || fail "extend: $(cat "$TMP/ne.err")"

cat > "$TMP/rules.nft" <<'NFT'
table inet fwgtest {
        chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 8080 drop
        }
}
NFT
cat > "$TMP/lockout.nft" <<'NFT'
table inet fwgtest {
        chain input {
                type filter hook input priority filter; policy drop;
        }
}
NFT

# Check and Diff through the daemon, the file passed as an fd.
"$BUS_CALL" "$FWGD_RUN/bus" Check hsb "$TMP/rules.nft" rules.nft false > "$TMP/check.out" || fail "Check failed"
[ "$(head -1 "$TMP/check.out")" = 0 ] && grep -q "As written: SSH stays reachable" "$TMP/check.out" ||
        fail "Check of a safe file: $(cat "$TMP/check.out")"
"$BUS_CALL" "$FWGD_RUN/bus" Check hsb "$TMP/lockout.nft" lockout.nft false > "$TMP/check.out" || fail "Check failed"
[ "$(head -1 "$TMP/check.out")" = 3 ] && grep -q "inet fwgtest input: policy drop" "$TMP/check.out" ||
        fail "Check of a lockout: $(cat "$TMP/check.out")"
"$BUS_CALL" "$FWGD_RUN/bus" Diff hsb "$TMP/rules.nft" rules.nft false > "$TMP/diff.out" || fail "Diff failed"
[ "$(head -1 "$TMP/diff.out")" = 0 ] && grep -q "^+.*tcp dport 8080 drop" "$TMP/diff.out" ||
        fail "Diff: $(cat "$TMP/diff.out")"
N "$FWGUARD" diff "$TMP/rules.nft" > "$TMP/diff.local" || fail "fwguard diff (local) failed"
tail -n +2 "$TMP/diff.out" | sed 's/rules\.nft/FILE/g' > "$TMP/diff.bus"
sed "s|$TMP/rules\\.nft|FILE|g" "$TMP/diff.local" > "$TMP/diff.loc"
same "$TMP/diff.loc" "$TMP/diff.bus" "Diff through the daemon differs from the local diff"

# Acceptance 10: a syntax error. Exit 1 with FILE:LINE:COL, no trial, nothing changed.
printf 'table inet fwgtest {\n\tchain input {\n\t\ttcp dport 22 acept\n\t}\n}\n' > "$TMP/bad.nft"
ruleset_state N > "$TMP/rs.before"
fwg history --json > "$TMP/hist.before"
run 1 "$TMP/bad" fwg apply --timeout 5 "$TMP/bad.nft"
grep -q "$TMP/bad.nft:3:[0-9]*:" "$TMP/bad.err" || fail "no FILE:LINE:COL: $(cat "$TMP/bad.err")"
[ "$(fwg status)" = idle ] || fail "a bad file left a trial: $(fwg status)"
fwg history --json > "$TMP/hist.after"
same "$TMP/hist.before" "$TMP/hist.after" "a bad file changed the history"
ruleset_state N > "$TMP/rs.after"
same "$TMP/rs.before" "$TMP/rs.after" "a bad file changed the ruleset"

# A real trial shows up in Status, for root and for anyone.
N nft -s list ruleset > "$TMP/s0.nft"
run 0 "$TMP/apply" fwg apply --timeout 60 "$TMP/rules.nft"
ID=$(sed -n 's/^Trial \([0-9]*\) is armed.*/\1/p' "$TMP/apply.out")
[ -n "$ID" ] || fail "apply: no trial id: $(cat "$TMP/apply.out")"
cat > "$TMP/s1g.nft" <<'NFT'
table inet fwgtest {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept comment "fwguard ssh guard"
		tcp dport 8080 drop
	}
}
NFT
N nft -s list ruleset > "$TMP/live.nft"
same "$TMP/s1g.nft" "$TMP/live.nft" "the live ruleset is not S1 plus the guard"
fwg status > "$TMP/status.txt" || fail "status with a trial failed"
grep -qx "trial $ID: armed" "$TMP/status.txt" || fail "status: $(cat "$TMP/status.txt")"
grep -q "^deadline: .*(in [0-9]* s)" "$TMP/status.txt" || fail "no deadline: $(cat "$TMP/status.txt")"
grep -qx "inet fwgtest: created.*" "$TMP/status.txt" || fail "no summary: $(cat "$TMP/status.txt")"
nobody "$FWGUARD" status --json > "$TMP/status.json" || fail "nobody: status --json"
python3 -c '
import json, sys, time
d = json.load(open(sys.argv[1]))
t = d["trial"]
assert d["state"] == "armed" and t["id"] == int(sys.argv[2]) and "inet fwgtest" in t["summary"], d
assert 0 < t["deadline_realtime_usec"] / 1e6 - time.time() <= 60, d
' "$TMP/status.json" "$ID" || fail "status --json with a trial: $(cat "$TMP/status.json")"

# SIGTERM: exit 0, the state directory untouched, the trial still live,
# the socket gone; the next start takes the trial back with its deadline.
state_dir_listing > "$TMP/before"
daemon_stop
state_dir_listing > "$TMP/after"
same "$TMP/before" "$TMP/after" "SIGTERM changed the state directory"
[ ! -e "$FWGD_RUN/bus" ] || fail "the socket outlived the daemon"
N nft -s list ruleset > "$TMP/live.nft"
same "$TMP/s1g.nft" "$TMP/live.nft" "SIGTERM changed the ruleset"
! grep -Eiq "sanitizer|runtime error|cannot|failed" "$FWGD_LOG" || fail "fwguardd complained: $(cat "$FWGD_LOG")"

# No daemon: exit 1 and the command that starts it.
run 1 "$TMP/down" fwg status
grep -q "systemctl start fwguardd" "$TMP/down.err" || fail "no hint: $(cat "$TMP/down.err")"

daemon_start_ns
fwg status --json > "$TMP/status2.json" || fail "status after the restart"
same "$TMP/status.json" "$TMP/status2.json" "the restart lost or changed the trial"
run 0 "$TMP/rb" fwg rollback
N nft -s list ruleset > "$TMP/live.nft"
same "$TMP/s0.nft" "$TMP/live.nft" "rollback after the restart is not S0"
[ "$(fwg status)" = idle ] || fail "not idle after the rollback"
daemon_stop
note "ok"

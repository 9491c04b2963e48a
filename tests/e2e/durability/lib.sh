# SPDX-License-Identifier: GPL-2.0-or-later
# durability/lib.sh — shared by the durability tests. Source it.
#
# No sshd here: the daemon's namespace of tests/lib/daemon.sh (daemon_netns:
# a veth pair carrying 192.0.2.1/24) is all the pre-flight needs, and
# fwguardd runs in it (daemon_start_ns [VAR=VAL...]; N CMD... runs CMD
# there). The expected rulesets are never taken from the daemon: oracle()
# builds them with nft alone in scratch namespaces, from the same text
# files, guard rules included.
#
#   live                      the namespace's ruleset, canonical (see canon)
#   oracle OUT FILE...        load each nft FILE in turn into a scratch
#                             namespace; OUT gets its canonical listing
#   ruleset_setup one|two     write $TMP/s0.nft, change.nft, guard.nft, load S0,
#                             and build $TMP/S0 and $TMP/S1 (S1' with the guard)
#   wait_live WANT OTHER SECS poll until the live ruleset is WANT; every
#                             listing on the way must be WANT or OTHER (never
#                             a mix); prints the time WANT was first seen
#   usec_sec USEC             microseconds as seconds, as now prints them
#   wait_past T               sleep until the clock passes T (seconds)
#   refused_apply RC SEC FILE apply FILE (--timeout SEC): it exits RC (output
#                             in $TMP/apply.out) and the live ruleset and its
#                             generation stay as they were
#   armed_again DEADLINE_US   just restarted: trial 1 armed again with that
#                             very deadline, S1' live, and early enough to
#                             see when the deadline fires
#   rolled_back_at_deadline DEADLINE TIMEOUT
#                             trial 1 rolls back to S0 at DEADLINE, not earlier
#                             nor 1 s later; idle, history and announcement
#   rolled_back_at_once T_START   restarted past the deadline: rolled back to
#                             S0 within 1 s of T_START; the same checks
#   record_get KEY            a field of the pending trial's record
#   outcome ID                the history's outcome of trial ID, or "none"
#   announced ID              the rollback of trial ID was announced (wall)
#   finish                    stop the daemon (it must exit 0) and check that
#                             its log has no sanitizer report
. "$SRCDIR/tests/lib/common.sh"
need_root
. "$SRCDIR/tests/lib/daemon.sh"

TOOLS=$SRCDIR/tests/tools
daemon_netns

now() { date +%s.%N; }
# float comparison: fle A B is A <= B
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
usec_sec() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
wait_past() { while ! fle "$1" "$(now)"; do sleep 0.1; done; }

# Counters (traffic moves them) and the remaining time of set elements
# aside; tables sorted by family and name, because a replaced table is
# listed after the others, and their order means nothing.
canon() {
        sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g; s/ expires [0-9dhms]+//g' |
                python3 -c '
import sys
blocks, cur = [], None
for line in sys.stdin.read().splitlines():
    if line.startswith("table "):
        cur = [line]
        blocks.append(cur)
    elif cur is not None:
        cur.append(line)
    else:
        sys.exit("a line outside any table: " + line)
for b in sorted(blocks, key=lambda b: b[0]):
    print("\n".join(b))'
}

live() { N nft list ruleset | canon; }

oracle() {
        local out=$1
        shift
        unshare --net -- sh -c 'for f; do nft -f "$f" || exit 1; done; nft list ruleset' sh "$@" | canon > "$out"
        [ -s "$out" ] || fail "oracle $out: nft refused its input"
}

ruleset_setup() {
        # Both: one table, one base chain; the change replaces it with a
        # drop policy, and the guard goes at its head.
        cat > "$TMP/s0.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
                tcp dport 80 accept
        }
}
NFT
        cat > "$TMP/change.nft" <<'NFT'
flush table inet filter
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport 443 accept
        }
}
NFT
        cat > "$TMP/guard.nft" <<'NFT'
insert rule inet filter input tcp dport 22 counter accept comment "fwguard ssh guard"
NFT
        case $1 in
        one) ;;
        two)    # two tables touched, three base chains, and one table left alone
                cat >> "$TMP/s0.nft" <<'NFT'
table inet filter {
        chain output {
                type filter hook output priority filter; policy accept;
        }
}
table ip keep {
        set banned {
                type ipv4_addr
                elements = { 198.51.100.7, 198.51.100.9 }
        }
        chain input {
                type filter hook input priority -10; policy accept;
                ip saddr @banned counter packets 3 bytes 180 drop
        }
}
table ip nat {
        chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
        }
}
NFT
                cat >> "$TMP/change.nft" <<'NFT'
add rule ip nat prerouting tcp dport 8080 redirect to :80
NFT
                cat >> "$TMP/guard.nft" <<'NFT'
insert rule inet filter output tcp sport 22 counter accept comment "fwguard ssh guard"
insert rule ip nat prerouting tcp dport 22 counter accept comment "fwguard ssh guard"
NFT
                ;;
        *) fail "unknown ruleset $1" ;;
        esac
        oracle "$TMP/S0" "$TMP/s0.nft"
        oracle "$TMP/S1" "$TMP/s0.nft" "$TMP/change.nft" "$TMP/guard.nft"
        ! cmp -s "$TMP/S0" "$TMP/S1" || fail "the oracles do not differ"
        N nft -f "$TMP/s0.nft"
        live > "$TMP/live"
        same "$TMP/S0" "$TMP/live" "S0 as loaded differs from its oracle"
        # Left alone means not even rewritten: the handles (a new table
        # gets a new one) and the counter stay as they are.
        N nft -a list table ip keep > "$TMP/keep0" 2>/dev/null || true
}

# The table that no change touches is byte for byte what it was.
keep_intact() {
        [ -s "$TMP/keep0" ] || return 0
        N nft -a list table ip keep > "$TMP/keep"
        same "$TMP/keep0" "$TMP/keep" "the untouched table ip keep changed"
}

wait_live() {
        local want=$1 other=$2 until t
        until=$(awk -v n="$(now)" -v s="$3" 'BEGIN { printf "%.3f", n + s }')
        while :; do
                t=$(now)
                live > "$TMP/poll"
                if cmp -s "$TMP/poll" "$want"; then
                        echo "$t"
                        return 0
                fi
                cmp -s "$TMP/poll" "$other" || { diff -u "$other" "$TMP/poll" >&2; fail "a mix: the live ruleset is neither $want nor $other"; }
                fle "$t" "$until" || fail "not $want after $3 s"
                sleep 0.05
        done
}

refused_apply() {
        local rc=0
        ruleset_state N > "$TMP/state0"
        fwg apply --timeout "$2" "$3" > "$TMP/apply.out" 2>&1 || rc=$?
        cat "$TMP/apply.out"
        [ "$rc" = "$1" ] || fail "apply of $3 exited $rc, not $1"
        ruleset_state N > "$TMP/state1"
        same "$TMP/state0" "$TMP/state1" "the refused apply changed the live ruleset (or its generation)"
}

armed_again() {
        fle "$(now)" "$(fsub "$(usec_sec "$1")" 0.5)" || fail "the restart took too long to test the deadline"
        live > "$TMP/live"
        same "$TMP/S1" "$TMP/live" "after the restart, live is not S1' with the guard"
        [ "$(status_field state)" = armed ] || fail "not armed after the restart: $(fwg status)"
        [ "$(status_field id)" = 1 ] || fail "the armed trial is not trial 1"
        [ "$(status_field deadline_realtime_usec)" = "$1" ] ||
                fail "the deadline moved: $(status_field deadline_realtime_usec), recorded $1"
}

rolled_back_at_deadline() {
        local t
        t=$(wait_live "$TMP/S0" "$TMP/S1" $(($2 + 5)))
        note "rolled back $(fsub "$t" "$1") s after the original deadline"
        fle "$(fsub "$1" 0.2)" "$t" || fail "rolled back at $t, before the deadline $1"
        fle "$t" "$(fsub "$1" -1)" || fail "rolled back at $t, long after the deadline $1"
        rolled_back_1
}

rolled_back_at_once() {
        local t
        t=$(wait_live "$TMP/S0" "$TMP/S1" 5)
        note "rolled back $(fsub "$t" "$1") s after the restart"
        fle "$t" "$(fsub "$1" -1)" || fail "the rollback took more than 1 s after the restart"
        rolled_back_1
}

rolled_back_1() {
        wait_idle 5
        [ "$(outcome 1)" = rolled-back ] || fail "trial 1 is $(outcome 1) in the history, not rolled-back"
        announced 1
}

# The record is in the daemon's state directory, whatever namespace the
# daemon's mounts are in.
record_get() { python3 "$TOOLS/trialrecord.py" "$FWGD_STATE/trial/record" get "$1"; }

outcome() {
        fwg history --json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["id"] == int(sys.argv[1]):
        print(e["outcome"])
        break
else:
    print("none")' "$1"
}

report() {
        fwg history --json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["id"] == int(sys.argv[1]):
        print("\n".join(e["report"]))' "$1"
}

# Wait for the daemon to die at a crash point, and check that it did.
wait_crash() {
        local point=$1 rc=0 i
        for i in $(seq 300); do
                kill -0 "$FWGD_PID" 2>/dev/null || break
                sleep 0.05
        done
        kill -0 "$FWGD_PID" 2>/dev/null && fail "fwguardd did not crash at $point"
        wait "$FWGD_PID" || rc=$?
        FWGD_PID=
        [ "$rc" = 137 ] || fail "fwguardd exited $rc, not by SIGKILL at $point"
        grep -q "test point $point: crashing" "$FWGD_LOG" || fail "fwguardd did not reach $point"
}

status_field() {
        fwg status --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
print(o["state"] if sys.argv[1] == "state" else (o["trial"] or {}).get(sys.argv[1], ""))' "$1"
}

# The rollback announcement (FWGUARDD_WALL, from daemon.sh) names the trial;
# wall runs detached, so give it a moment.
announced() {
        for _ in $(seq 40); do
                grep -qs "trial $1 was rolled back" "$FWGD_WALL_LOG" && return 0
                sleep 0.05
        done
        fail "the rollback of trial $1 was not announced"
}

finish() {
        daemon_stop
        ! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 ||
                fail "a sanitizer report in fwguardd's log"
}

# SPDX-License-Identifier: GPL-2.0-or-later
# trial-env.sh — shared setup of the trial acceptance tests (issue 5): a real
# sshd in a server namespace, a real ssh client, fwguardd in the server
# namespace with private directories, and oracles that do not ask the daemon.
# Source it from a test in this directory.
#
# A test describes its starting ruleset S0 as shell commands in $TMP/s0.sh
# (default_s0 writes the common one), so the same S0 can be built again in
# a scratch namespace: expected rulesets (S1, S0 plus another writer's
# changes) come from plain nft there, never from fwguard.
#
#   trial_env_up            sshd, S0 live, a listener on 8080, the old
#                           session, fwguardd (announcements: $FWGD_WALL_LOG)
#   daemon_srv_start        (re)start fwguardd in the server namespace
#   scratch_nft CMD...      `nft list ruleset` of a scratch netns: S0, then CMD
#   scratch_ipt CMD...      the same, as `iptables-save`
#   live_nft / live_ipt     the server's ruleset, normalized alike
#   apply_trial FILE SEC [OPT...]   apply; sets TRIAL_ID and TRIAL_DEADLINE (µs)
#   still_armed WHAT        fail unless TRIAL_ID is still pending (so WHAT
#                           really ran during the trial)
#   history_get ID outcome|report   one field of that history entry
#   login_from ADDR         a NEW ssh login bound to the client address ADDR
#   guarded_is_s1 PLAIN CHAIN...    live = PLAIN plus the guard in CHAINs
. "$SRCDIR/tests/lib/common.sh"
need_root
. "$SRCDIR/tests/lib/sshenv.sh"
at_exit sshenv_down
. "$SRCDIR/tests/lib/daemon.sh"

# Counters move with traffic and timed elements count down: neither is a
# change. Tables are sorted by name: replacing a table re-creates it at the
# end of the kernel's list.
norm() {
        sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g; s/ expires [0-9dhms]+//g' | python3 -c '
import re, sys
blocks, cur = [], []
for line in sys.stdin:
    if re.match(r"(table |# Warning: table )", line) and not (cur and cur[-1].startswith("# Warning")):
        cur = []
        blocks.append(cur)
    cur.append(line)
key = lambda b: re.sub(r"^# Warning: ", "", b[0])
sys.stdout.write("".join("".join(b) for b in sorted(blocks, key=key)))'
}
# iptables-save: drop the dated comments and the chains' packet counters.
norm_ipt() { sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]$/[0:0]/'; }

live_nft() { srv nft list ruleset | norm; }
live_ipt() { srv iptables-save | norm_ipt; }
scratch_nft() { in_netns sh -ec "sh -e '$TMP/s0.sh'; $*; nft list ruleset" | norm; }
scratch_ipt() { in_netns sh -ec "sh -e '$TMP/s0.sh'; $*; iptables-save" | norm_ipt; }

# The common S0: a table with conntrack (so the old session survives a drop
# policy), an iptables-nft table with an xtables match (-m comment), and a
# table that the changes below never touch.
default_s0() {
        cat > "$TMP/s0.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
        }
}
table inet keep {
        set blocked {
                type ipv4_addr
                elements = { 198.51.100.7 }
        }
        chain input {
                type filter hook input priority 10; policy accept;
                ip saddr @blocked drop
        }
}
NFT
        cat > "$TMP/s0.sh" <<EOF
nft -f '$TMP/s0.nft'
iptables-nft -w -A INPUT -p tcp --dport 9090 -m comment --comment s0 -j DROP
EOF
}

# The change that would lock SSH out: a drop policy over the existing inet
# table, and a rule added to the iptables-nft table. Touched: inet filter and
# ip filter; the guard belongs at the head of both input chains.
LOCKOUT_GUARDED=("inet filter input" "ip filter INPUT")
lockout_rules() {
        cat > "$1" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
        }
}
add rule ip filter INPUT tcp dport 8081 drop
NFT
}

trial_env_up() {
        sshenv_up || fail "cannot start sshd"
        srv sh -e "$TMP/s0.sh" || fail "cannot load S0"
        srv_listen 8080 || fail "no 8080 listener"
        # After S0, so that conntrack already tracks it, as on a real host.
        ssh_session_open || fail "cannot open the old session"
        daemon_srv_start
}

# Not `daemon_start srv`: a shell function in the background is a subshell,
# and FWGD_PID must be fwguardd itself for daemon_stop.
daemon_srv_start() { daemon_start ip netns exec "$SSHENV_SRV"; }

login_from() { _ssh -o ControlMaster=no -o ControlPath=none -o BindAddress="$1" -p 22 root@192.0.2.1 true; }

# json FILE PYEXPR: evaluate PYEXPR on the JSON document d.
json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

apply_trial() {
        local file=$1 sec=$2
        shift 2
        fwg apply --json --timeout "$sec" "$@" "$file" > "$TMP/apply.json" 2> "$TMP/apply.err" \
                || fail "apply exited $?: $(cat "$TMP/apply.err")"
        TRIAL_ID=$(json "$TMP/apply.json" 'd["trial"]')
        TRIAL_DEADLINE=$(json "$TMP/apply.json" 'd["deadline_realtime_usec"]')
        note "trial $TRIAL_ID armed, $(json "$TMP/apply.json" 'd["seconds_left"]') s left"
}

status_json() { fwg status --json > "$TMP/status.json" || fail "status failed"; }

still_armed() {
        status_json
        [ "$(json "$TMP/status.json" '(d["trial"] or {}).get("id")')" = "$TRIAL_ID" ] \
                || fail "trial $TRIAL_ID is no longer pending after $1 (rolled back early, or too slow a machine for its timeout)"
}

history_get() {
        fwg history --json > "$TMP/history.json" || fail "history failed"
        python3 - "$TMP/history.json" "$1" "$2" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["id"] == int(sys.argv[2]):
        v = e[sys.argv[3]]
        print(v if isinstance(v, str) else "\n".join(v))
PY
}

now_usec() { date +%s%6N; }
# Sleep until the realtime clock passes USEC.
sleep_until() {
        local left=$(( $1 - $(now_usec) ))
        [ $left -le 0 ] || sleep "$(printf '%d.%06d' $((left / 1000000)) $((left % 1000000)))"
}

guarded_is_s1() {
        local plain=$1
        shift
        live_nft > "$TMP/guarded.txt"
        python3 "$SRCDIR/tests/tools/guardcheck.py" "$plain" "$TMP/guarded.txt" 22 "$@" \
                || fail "the live ruleset is not S1 plus exactly the guard"
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# merge.sh — the three-way merge behind rollback, on rulesets real tools wrote.
#
# Each case builds, in one fresh namespace, base (before a trial), ours (what
# the trial committed: the admin's change plus the guard rule at the head of
# the touched table's base chains) and theirs (after another writer acted:
# nft, iptables-nft as docker uses it, fail2ban's set), saving each with
# `fwguard save`. In a second namespace it builds what the rollback should
# produce: base with only the other writer's changes. merge-driver merges the
# three snapshots; the target must list exactly as the expected ruleset and
# equal it object by object, and the conflicts must be the expected ones.
. "$SRCDIR/tests/lib/common.sh"
need_root

DRIVER="${BUILDDIR:?BUILDDIR must point to the build tree}/tests/integration/merge-driver"
[ -x "$DRIVER" ] || fail "$DRIVER is not built"
command -v iptables-nft >/dev/null || fail "iptables-nft is missing"

GUARD='tcp dport 22 accept comment fwguard-guard'

# Run bash code in a fresh network namespace.
in_ns() { in_netns bash -euo pipefail -c "$1"; }

# The handle of the first rule in FAMILY TABLE CHAIN whose listing contains TEXT.
handle_of='handle_of() { nft -a list chain "$1" "$2" "$3" | grep -F -- "$4" | head -n1 | sed -E "s/.*# handle ([0-9]+)$/\1/"; }'

# build NAME BASE TRIAL OTHER EXPECTED: the three snapshots, the expected
# ruleset (BASE then EXPECTED in a new namespace), and the merge of the three.
build() {
        local d="$TMP/$1"
        mkdir -p "$d"
        in_ns "$handle_of
               $2
               '$FWGUARD' save '$d/base.snap'
               $3
               '$FWGUARD' save '$d/ours.snap'
               $4
               '$FWGUARD' save '$d/theirs.snap'" || fail "$1: cannot build base, ours and theirs"
        in_ns "$handle_of
               $2
               $5
               nft list ruleset > '$d/expect.txt'
               '$FWGUARD' save '$d/expect.snap'" || fail "$1: cannot build the expected ruleset"
        "$DRIVER" merge "$d/base.snap" "$d/ours.snap" "$d/theirs.snap" "$d/target.snap" > "$d/merge.out" \
                || fail "$1: the merge failed"
        sed 's/^/#   /' "$d/merge.out"
}

# The target lists as the expected ruleset and equals it (counters ignored).
check_target() {
        local d="$TMP/$1"
        "$FWGUARD" show "$d/target.snap" | strip_expires > "$d/target.txt" || fail "$1: cannot list the target"
        strip_expires < "$d/expect.txt" > "$d/expect.stripped"
        same "$d/expect.stripped" "$d/target.txt" "$1: the target does not list as expected"
        "$DRIVER" equal "$d/expect.snap" "$d/target.snap" > "$d/equal.out" \
                || fail "$1: the target is not equal to the expected ruleset: $(cat "$d/equal.out")"
}

# conflicts NAME N [PATTERN...]: exactly N conflicts, and one line matching each PATTERN.
conflicts() {
        local d="$TMP/$1" n="$2" p got
        shift 2
        got=$(grep -c '^conflict ' "$d/merge.out" || true)
        [ "$got" = "$n" ] || fail "$1: $got conflicts, expected $n"
        for p in "$@"; do
                grep -q -- "$p" "$d/merge.out" || fail "$1: no conflict matching '$p'"
        done
}

# ------------------------------------------------------------------ docker, iptables-nft
# The trial guards the filter table's base chains and opens port 80. Docker
# (iptables-nft) meanwhile creates its chains, inserts its jump at the head of
# FORWARD (before our guard) and appends rules, and sets up NAT in a table the
# trial never touched.
note "docker (iptables-nft) adds chains and rules to a table the trial touched"
docker_rules='
        iptables-nft -N DOCKER
        iptables-nft -N DOCKER-USER
        iptables-nft -I FORWARD -j DOCKER-USER
        iptables-nft -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        iptables-nft -A FORWARD -o docker0 -j DOCKER
        iptables-nft -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
        iptables-nft -A DOCKER-USER -j RETURN
        iptables-nft -t nat -N DOCKER
        iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
        iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE'
build docker-iptables '
        iptables-nft -A INPUT -p tcp --dport 443 -j ACCEPT
        iptables-nft -A FORWARD -i eth0 -j ACCEPT
        iptables-nft -t nat -A POSTROUTING -o eth0 -j MASQUERADE' '
        for c in INPUT FORWARD OUTPUT; do
                iptables-nft -I $c -p tcp --dport 22 -m comment --comment "fwguard guard" -j ACCEPT
        done
        iptables-nft -A INPUT -p tcp --dport 80 -j ACCEPT' "$docker_rules" "$docker_rules"
check_target docker-iptables
conflicts docker-iptables 0

# ------------------------------------------------------------------ docker, nftables backend
# Docker's nftables firewall keeps one table with a verdict map from bridge
# to chain. A new network is a chain, a map element jumping to it, and rules.
note "docker (nftables) adds a chain, rules and a verdict map element"
docker_nft='nft -f - <<EOF
table ip docker-bridges {
        map filter-forward-in-jumps {
                type ifname : verdict
                elements = { "docker0" : jump filter-forward-in__docker0 }
        }
        chain filter-forward-in__docker0 {
                ct state established,related counter accept
                iifname "docker0" counter accept
        }
        chain filter-FORWARD {
                type filter hook forward priority filter; policy drop;
                oifname vmap @filter-forward-in-jumps
        }
}
EOF'
docker_net='nft -f - <<EOF
add chain ip docker-bridges filter-forward-in__br-5a1e
add rule ip docker-bridges filter-forward-in__br-5a1e ct state established,related counter accept
add rule ip docker-bridges filter-forward-in__br-5a1e iifname "br-5a1e" oifname "br-5a1e" counter accept
add element ip docker-bridges filter-forward-in-jumps { "br-5a1e" : jump filter-forward-in__br-5a1e }
add rule ip docker-bridges filter-FORWARD iifname "br-5a1e" counter accept
EOF'
build docker-nft "$docker_nft" "
        nft insert rule ip docker-bridges filter-FORWARD $GUARD
        nft add rule ip docker-bridges filter-FORWARD ip daddr 198.51.100.0/24 drop" "$docker_net" "$docker_net"
check_target docker-nft
conflicts docker-nft 0

# ------------------------------------------------------------------ fail2ban
# fail2ban's own table, touched by the trial (the guard), while fail2ban bans
# two addresses and unbans one.
note "fail2ban adds and removes elements of a set in a touched table"
f2b='nft -f - <<EOF
table inet f2b-table {
        set addr-set-sshd {
                type ipv4_addr
                elements = { 192.0.2.10, 192.0.2.11 }
        }
        chain f2b-chain {
                type filter hook input priority filter - 1; policy accept;
                tcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable
        }
}
EOF'
f2b_bans='
        nft add element inet f2b-table addr-set-sshd { 203.0.113.5, 203.0.113.6 }
        nft delete element inet f2b-table addr-set-sshd { 192.0.2.10 }'
build fail2ban "$f2b" "
        nft insert rule inet f2b-table f2b-chain $GUARD
        nft add rule inet f2b-table f2b-chain tcp dport 2222 drop" "$f2b_bans" "$f2b_bans"
check_target fail2ban
conflicts fail2ban 0

# ------------------------------------------------------------------ deletions
# Another writer deletes a rule the trial left alone, and one the trial added.
note "theirs deletes rules: one the trial did not change, one the trial added"
t_base='nft -f - <<EOF
table inet t {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
                udp dport 53 accept
                tcp dport 25 drop
        }
}
EOF'
build delete "$t_base" "
        nft insert rule inet t input $GUARD
        nft add rule inet t input tcp dport 8080 accept" '
        nft delete rule inet t input handle $(handle_of inet t input "udp dport 53")
        nft delete rule inet t input handle $(handle_of inet t input "dport 8080")' '
        nft delete rule inet t input handle $(handle_of inet t input "udp dport 53")'
check_target delete
conflicts delete 0

# ------------------------------------------------------------------ both edit one chain
# The trial edits a rule; another writer edits that same rule again, deletes
# a rule nobody touched, and appends one. Only the edit of the edit conflicts.
note "both sides edit one chain: a conflict, the rest exact"
edit_base='nft -f - <<EOF
table inet t {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
                udp dport 53 accept
                tcp dport 25 drop
                meta l4proto icmp accept
        }
}
EOF'
build both-edit "$edit_base" "
        nft insert rule inet t input $GUARD
        nft replace rule inet t input handle \$(handle_of inet t input 'udp dport 53') udp dport 53 drop" "
        nft replace rule inet t input handle \$(handle_of inet t input 'udp dport 53') udp dport { 53, 853 } drop comment \\\"theirs-edit\\\"
        nft delete rule inet t input handle \$(handle_of inet t input 'icmp')
        nft add rule inet t input tcp dport 993 accept comment \\\"theirs-new\\\"" "
        nft delete rule inet t input handle \$(handle_of inet t input 'icmp')
        nft add rule inet t input tcp dport 993 accept comment \\\"theirs-new\\\""
check_target both-edit
conflicts both-edit 1 '^conflict both-changed rule \[inet t chain input\]: .*comment "theirs-edit"'

# ------------------------------------------------------------------ a chain the trial created
# The trial creates a chain and jumps to it; another writer adds a rule to it.
# The rollback removes the chain, so that rule cannot be kept: a conflict.
note "theirs adds a rule to a chain the trial created"
build in-created "$t_base" "
        nft insert rule inet t input $GUARD
        nft add chain inet t extra
        nft add rule inet t extra tcp dport 3306 drop
        nft add rule inet t input jump extra" "
        nft add rule inet t extra tcp dport 5432 drop comment \\\"theirs-in-extra\\\"" ""
check_target in-created
conflicts in-created 1 '^conflict in-created rule \[inet t chain extra\]: .*theirs-in-extra'

# ------------------------------------------------------------------ references
# Another writer deletes a set the trial left alone after the trial had
# stopped using it; the rollback brings back base's rule that uses it, so the
# set comes back too (a conflict), and a rule of theirs that jumps to a chain
# the trial created cannot be kept.
note "references: a set the rollback needs, a chain the rollback removes"
ref_base='nft -f - <<EOF
table inet r {
        set allow { type ipv4_addr; elements = { 192.0.2.1 } }
        chain input {
                type filter hook input priority filter; policy accept;
                ip saddr @allow accept
        }
}
EOF'
build reference "$ref_base" "
        nft delete rule inet r input handle \$(handle_of inet r input '@allow')
        nft add chain inet r extra
        nft add rule inet r input $GUARD" "
        nft delete set inet r allow
        nft add rule inet r input jump extra comment \\\"theirs-jump\\\"
        nft add rule inet r input udp dport 123 accept" "
        nft add rule inet r input udp dport 123 accept"
check_target reference
conflicts reference 2 '^conflict reference set \[inet r set allow\]' '^conflict reference rule .*theirs-jump'

# ------------------------------------------------------------------ anonymous sets
# The trial replaces the table as the daemon does (delete and re-create in one
# batch, from a table compiled elsewhere, where the kernel named the anonymous
# sets the other way round). Another writer adds a rule with its own
# anonymous set. Rules are matched by their sets' content, whatever the names.
note "anonymous sets: renamed by the trial's commit, new in theirs"
anon_base='nft -f - <<EOF
table inet a {
        chain input {
                type filter hook input priority filter; policy accept;
                tcp dport { 80, 443 } accept
                udp dport { 53, 123 } accept
        }
}
EOF'
build anonymous "$anon_base" "
        unshare -n bash -euo pipefail -c \"
                nft add table inet a
                nft add chain inet a input '{ type filter hook input priority filter; policy accept; }'
                nft add rule inet a input udp dport { 53, 123 } accept
                nft insert rule inet a input tcp dport { 80, 443 } accept
                nft insert rule inet a input $GUARD
                '$FWGUARD' save '$TMP/anonymous-compiled.snap'\"
        '$FWGUARD' restore --tables inet:a '$TMP/anonymous-compiled.snap'" "
        nft add rule inet a input tcp dport { 8080, 8443 } accept" "
        nft add rule inet a input tcp dport { 8080, 8443 } accept"
"$DRIVER" diff "$TMP/anonymous/base.snap" "$TMP/anonymous/ours.snap" > "$TMP/anonymous/diff.out"
[ "$(wc -l < "$TMP/anonymous/diff.out")" = 1 ] || fail "anonymous: the trial's change is not just the guard: $(cat "$TMP/anonymous/diff.out")"
check_target anonymous
conflicts anonymous 0

# ------------------------------------------------------------------ no other writer
# Nothing but traffic happened after the trial: the target is base exactly,
# counters, quota use and the remaining time of elements included.
note "no other writer: the target is base exactly, counters included"
exact_base='nft -f - <<EOF
table inet e {
        counter hits { packets 7 bytes 700 }
        quota q { over 1 mbytes used 1000 bytes }
        set seen {
                type ipv4_addr; flags timeout; timeout 1h; counter
                elements = { 192.0.2.1 counter packets 3 bytes 180 }
        }
        chain output {
                type filter hook output priority filter; policy accept;
                counter packets 10 bytes 1000
                quota name q
                counter name hits
        }
}
EOF'
# A connection attempt on lo: packets through the output chain.
traffic='ip link set lo up; (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null || true'
build exact "$exact_base" "
        nft insert rule inet e output $GUARD" "
        $traffic
        nft reset counters table inet e >/dev/null
        sleep 1.1" ""
"$DRIVER" equal "$TMP/exact/ours.snap" "$TMP/exact/theirs.snap" counters > /dev/null \
        && fail "exact: no state changed between ours and theirs; the case tests nothing"
"$DRIVER" equal "$TMP/exact/base.snap" "$TMP/exact/target.snap" counters > /dev/null \
        || fail "exact: the target is not base with its counters and expirations"
"$FWGUARD" show "$TMP/exact/target.snap" | strip_expires > "$TMP/exact/target-full.txt"
"$FWGUARD" show "$TMP/exact/base.snap" | strip_expires > "$TMP/exact/base-full.txt"
grep -q 'counter packets 10 bytes 1000$' "$TMP/exact/target-full.txt" || fail "exact: the rule's counter is not base's"
same "$TMP/exact/base-full.txt" "$TMP/exact/target-full.txt" "exact: the target does not list as base"
conflicts exact 0

# ------------------------------------------------------------------ a table the trial created
note "a table the trial created, unchanged since: the target drops it"
build created-table "$t_base" "
        nft add table inet new
        nft add chain inet new c '{ type filter hook input priority 0; }'
        nft add rule inet new c $GUARD" "" ""
grep -q '^table inet new: absent' "$TMP/created-table/merge.out" || fail "created-table: the new table is not dropped"
grep -q '^table inet t: present' "$TMP/created-table/merge.out" || fail "created-table: the untouched table is gone"
check_target created-table
conflicts created-table 0

# ... and with another writer's rule in it: dropped all the same, reported.
build created-table-used "$t_base" "
        nft add table inet new
        nft add chain inet new c '{ type filter hook input priority 0; }'" "
        nft add rule inet new c udp dport 53 accept" ""
grep -q '^table inet new: absent' "$TMP/created-table-used/merge.out" || fail "created-table-used: the new table is not dropped"
check_target created-table-used
conflicts created-table-used 1 '^conflict in-created rule \[inet new\]'

# ------------------------------------------------------------------ equality
note "equality ignores counters and the remaining time of elements, unless asked"
in_ns "$exact_base
       '$FWGUARD' save '$TMP/eq1.snap'
       sleep 1.1
       '$FWGUARD' save '$TMP/eq2.snap'
       $traffic
       nft reset counters table inet e >/dev/null
       '$FWGUARD' save '$TMP/eq3.snap'
       nft add rule inet e output udp dport 53 accept
       '$FWGUARD' save '$TMP/eq4.snap'" || fail "cannot build the equality snapshots"
"$DRIVER" equal "$TMP/eq1.snap" "$TMP/eq2.snap" >/dev/null || fail "equal: expirations made two rulesets differ"
! "$DRIVER" equal "$TMP/eq1.snap" "$TMP/eq2.snap" counters >/dev/null || fail "equal: expirations do not count with counters"
"$DRIVER" equal "$TMP/eq1.snap" "$TMP/eq3.snap" >/dev/null || fail "equal: counters made two rulesets differ"
! "$DRIVER" equal "$TMP/eq2.snap" "$TMP/eq3.snap" counters >/dev/null || fail "equal: counters do not count with counters"
"$DRIVER" equal "$TMP/eq1.snap" "$TMP/eq1.snap" counters >/dev/null || fail "equal: a snapshot differs from itself"
"$DRIVER" equal "$TMP/eq3.snap" "$TMP/eq4.snap" > "$TMP/eq.out" && fail "equal: a new rule went unnoticed"
grep -qx 'differs: inet e' "$TMP/eq.out" || fail "equal: the changed table is not named"
"$DRIVER" diff "$TMP/eq3.snap" "$TMP/eq4.snap" > "$TMP/diff.out"
[ "$(wc -l < "$TMP/diff.out")" = 1 ] && grep -q '^inet e: added rule #4 of chain output' "$TMP/diff.out" \
        || fail "diff: not the one added rule: $(cat "$TMP/diff.out")"

echo "ok"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fwguard unguard (what the Debian package's prerm runs) takes exactly
# fwguard's guards out of the live ruleset: guards for any port and source,
# in every table and base chain, and nothing else (look-alikes stay). It
# refuses, changing nothing, when the ruleset without guards blocks SSH
# (unless --force), while fwguardd runs, and while a trial is pending.
. "$SRCDIR/tests/lib/common.sh"
. "$SRCDIR/tests/lib/daemon.sh"
need_root

daemon_netns
# Guards for two ports, restricted to sources (the probe address among them).
daemon_config "[daemon]" "state_dir = $FWGD_STATE" \
        "[guard]" "ssh_ports = 22, 2222" "sources = 198.51.100.0/24, 2001:db8::/32"

run() { # EXPECTED-RC NAME CMD...: run, keep the output in NAME.out
        local want=$1 name=$2 rc=0
        shift 2
        "$@" > "$name.out" 2>&1 || rc=$?
        [ "$rc" = "$want" ] || { cat "$name.out" >&2; fail "$* exited $rc, not $want"; }
}

# The ruleset as written (no guards), in a fresh namespace of its own.
plain() { # FILE OUT
        unshare --net sh -c 'nft -f "$1" && nft -s list ruleset' sh "$1" > "$2"
}
# Load FILE in the namespace, guarded as apply would guard it (check exits 3
# for a FILE that locks SSH out as written, and writes the guarded result all
# the same).
load_guarded() { # FILE
        rm -f "$TMP/guarded.fwg"
        N nft flush ruleset
        N "$FWGUARD" check "$1" -o "$TMP/guarded.fwg" --config "$FWGD_CONF" > "$TMP/check.out" 2>&1 || true
        [ -s "$TMP/guarded.fwg" ] || { cat "$TMP/check.out" >&2; fail "check -o wrote no guarded ruleset"; }
        N "$FWGUARD" restore "$TMP/guarded.fwg"
}
listing() { N nft -s list ruleset; }

cat > "$TMP/open.nft" <<'EOF'
table inet filter {
        chain input {
                type filter hook input priority 0; policy accept;
                tcp dport 80 accept
                tcp dport 22 accept comment "fwguard ssh guard"
                meta l4proto tcp th dport 22 counter accept comment "fwguard ssh guard (mine)"
                tcp dport 22 counter drop comment "fwguard ssh guard"
        }
        chain output { type filter hook output priority 0; policy accept; }
        chain forw { type filter hook forward priority 0; policy accept; tcp dport 22 accept; }
}
table ip nat {
        chain pre { type nat hook prerouting priority -100; tcp dport 8080 redirect to :80; }
}
table ip6 raw {
        chain pre { type filter hook prerouting priority -300; }
}
EOF
plain "$TMP/open.nft" "$TMP/open.expected"

# 1. Every guard goes, every other rule stays.
load_guarded "$TMP/open.nft"
listing > "$TMP/guarded.list"
for want in 'ip saddr 198.51.100.0/24 tcp dport 2222' 'ip6 saddr 2001:db8::/32 tcp dport 22' 'tcp sport 2222'; do
        grep -q "$want .*comment \"fwguard ssh guard\"" "$TMP/guarded.list" || {
                cat "$TMP/guarded.list" >&2; fail "set-up: no guard '$want'"; }
done
run 0 "$TMP/unguard" N "$FWGUARD" unguard --config "$FWGD_CONF"
listing > "$TMP/open.after"
same "$TMP/open.expected" "$TMP/open.after" "unguard did not leave exactly the ruleset without its guards"
grep -q '^-.*tcp dport 2222 .*fwguard ssh guard' "$TMP/unguard.out" || {
        cat "$TMP/unguard.out" >&2; fail "unguard did not say which rules it removes"; }

# 2. Nothing to remove: nothing changes, not even the generation.
ruleset_state N > "$TMP/state.before"
run 0 "$TMP/none" N "$FWGUARD" unguard --config "$FWGD_CONF"
grep -q "no fwguard guard rules" "$TMP/none.out" || fail "unguard without guards: $(cat "$TMP/none.out")"
ruleset_state N > "$TMP/state.after"
same "$TMP/state.before" "$TMP/state.after" "unguard without guards changed the ruleset"

# 3. Without its guards this ruleset blocks SSH: refused, unchanged; --force removes them.
cat > "$TMP/drop.nft" <<'EOF'
table inet filter {
        chain input { type filter hook input priority 0; policy drop; tcp dport 80 accept; }
}
EOF
plain "$TMP/drop.nft" "$TMP/drop.expected"
load_guarded "$TMP/drop.nft"
ruleset_state N > "$TMP/state.before"
run 3 "$TMP/refused" N "$FWGUARD" unguard --config "$FWGD_CONF"
grep -q "blocked by inet filter input: policy drop" "$TMP/refused.out" || {
        cat "$TMP/refused.out" >&2; fail "the refusal does not say what blocks SSH"; }
ruleset_state N > "$TMP/state.after"
same "$TMP/state.before" "$TMP/state.after" "a refused unguard changed the ruleset"
run 0 "$TMP/force" N "$FWGUARD" unguard --force --config "$FWGD_CONF"
listing > "$TMP/drop.after"
same "$TMP/drop.expected" "$TMP/drop.after" "unguard --force did not remove exactly the guards"

# 4. fwguardd runs (its monitor would put the guards back): refused, unchanged.
load_guarded "$TMP/open.nft"
ruleset_state N > "$TMP/state.before"
daemon_start_ns
run 1 "$TMP/daemon" N "$FWGUARD" unguard --config "$FWGD_CONF"
grep -q "fwguardd is running" "$TMP/daemon.out" || fail "unguard with fwguardd: $(cat "$TMP/daemon.out")"
ruleset_state N > "$TMP/state.after"
same "$TMP/state.before" "$TMP/state.after" "unguard changed the ruleset while fwguardd runs"

# 5. A trial is pending (its daemon crashed): refused, unchanged.
run 0 "$TMP/apply" fwg apply --timeout 300 "$TMP/drop.nft"
daemon_kill
ruleset_state N > "$TMP/state.before"
run 3 "$TMP/pending" N "$FWGUARD" unguard --config "$FWGD_CONF"
grep -q "trial [0-9]* is pending" "$TMP/pending.out" || fail "unguard during a trial: $(cat "$TMP/pending.out")"
ruleset_state N > "$TMP/state.after"
same "$TMP/state.before" "$TMP/state.after" "unguard changed the ruleset while a trial is pending"
note "ok"

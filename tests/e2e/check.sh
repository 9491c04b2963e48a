#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check.sh — `fwguard check` and `fwguard diff` beyond the lockout cases:
# safe files, syntax errors, a hanging include, fail2ban's bans, --json, and
# that the live ruleset never changes. (Includes read with the caller's
# credentials are tested on the sandbox itself: tests/integration/sandbox.sh.)
. "$SRCDIR/tests/lib/common.sh"
need_root
. "$SRCDIR/tests/lib/sshenv.sh"
at_exit sshenv_down
sshenv_up || fail "cannot start sshd"
cli ip addr add 192.0.2.3/24 dev "${SSHENV_P}p"

# fail2ban's nftables action: its own table, banning 192.0.2.3.
srv nft -f - <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
        }
}
table inet f2b-table {
        set addr-set-sshd {
                type ipv4_addr
                elements = { 192.0.2.3 }
        }
        chain f2b-chain {
                type filter hook input priority filter - 1; policy accept;
                tcp dport 22 ip saddr @addr-set-sshd reject
        }
}
NFT
ruleset_state srv > "$TMP/state0.txt"
unchanged() { ruleset_state srv > "$TMP/state1.txt"; same "$TMP/state0.txt" "$TMP/state1.txt" "$1 changed the live ruleset"; }
banned_login() { _ssh -o ControlMaster=no -o ControlPath=none -b 192.0.2.3 root@192.0.2.1 true; }
banned_login && fail "the banned address can log in before anything happened"

note "a safe file: exit 0"
cat > "$TMP/safe.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport { 22, 80 } accept
        }
}
NFT
srv "$FWGUARD" check "$TMP/safe.nft" > "$TMP/out.txt" || fail "safe file: exit $?, want 0: $(cat "$TMP/out.txt")"
grep -q "As written: SSH stays reachable" "$TMP/out.txt" || fail "safe file: no verdict"
unchanged "check of a safe file"

note "a syntax error: exit 1 with FILE:LINE:COL"
printf 'table inet filter {\n\tchain input {\n\t\ttcp dport 22 acept\n\t}\n}\n' > "$TMP/typo.nft"
set +e
srv "$FWGUARD" check "$TMP/typo.nft" > "$TMP/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "syntax error: exit $rc, want 1"
grep -q "^$TMP/typo.nft:3:21: syntax error" "$TMP/out.txt" || fail "syntax error without FILE:3:21: $(cat "$TMP/out.txt")"
unchanged "check of a bad file"

note "a file that leaves fail2ban's table alone: its ban still works, no guard goes into it"
cat > "$TMP/lock.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport 443 accept
        }
}
NFT
set +e
srv "$FWGUARD" check --json "$TMP/lock.nft" -o "$TMP/guarded.fwg" > "$TMP/out.json"; rc=$?
set -e
[ $rc = 3 ] || fail "lock.nft: exit $rc, want 3"
python3 - "$TMP/out.json" <<'PY' || fail "--json fields"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["verdict"] == "locks-ssh-out", o["verdict"]
assert o["apply"] == "proceeds-guarded", o["apply"]
assert o["touched_tables"] == ["inet filter"], o["touched_tables"]
assert o["guarded_blocking_chains"] == [], o["guarded_blocking_chains"]
p = o["as_written"]["probes"][0]["ports"][0]
assert p["port"] == 22 and not p["reachable"] and p["table"] == "filter" and p["chain"] == "input", p
assert o["with_guard"]["reachable"] is True
PY
unchanged "check --json"
"$FWGUARD" show "$TMP/guarded.fwg" > "$TMP/guarded.txt"
! sed -n '/table inet f2b-table/,/^}/p' "$TMP/guarded.txt" | grep -q "fwguard ssh guard" || fail "a guard went into fail2ban's table"
srv "$FWGUARD" restore "$TMP/guarded.fwg"
ssh_login || fail "a NEW login fails with the guarded file"
banned_login && fail "the banned address logs in: the guard defeated fail2ban's ban"

note "diff warns loudly when flush ruleset drops fail2ban's table"
srv "$FWGUARD" restore "$TMP/guarded.fwg"
ruleset_state srv > "$TMP/state0.txt"
printf 'flush ruleset\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n' > "$TMP/flush.nft"
srv "$FWGUARD" diff "$TMP/flush.nft" > "$TMP/diff.txt" 2> "$TMP/diff.err" || fail "diff failed: $(cat "$TMP/diff.err")"
grep -q "WARNING: .* deletes table inet f2b-table (it belongs to fail2ban)" "$TMP/diff.err" || fail "no fail2ban warning: $(cat "$TMP/diff.err")"
grep -q "^--- table inet f2b-table (deleted)" "$TMP/diff.txt" || fail "diff does not show the deletion"
grep -q "^-.*tcp dport 443 accept" "$TMP/diff.txt" || fail "diff does not show the removed rule: $(cat "$TMP/diff.txt")"
unchanged "diff"
srv "$FWGUARD" diff --json "$TMP/flush.nft" > "$TMP/diff.json"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert any("fail2ban" in w for w in o["warnings"]); assert {t["table"] for t in o["tables"]} >= {"filter","f2b-table"}' "$TMP/diff.json" \
        || fail "diff --json"

note "over SSH, check probes from where the admin really is"
cat > "$TMP/office.nft" <<'NFT'
table inet filter
delete table inet filter
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                ip saddr 192.0.2.2 tcp dport 22 accept
        }
}
NFT
set +e
srv "$FWGUARD" check "$TMP/office.nft" > "$TMP/out.txt" 2>&1; rc=$?
set -e
[ $rc = 3 ] || fail "office.nft from the console (probe address): exit $rc, want 3"
set +e
_ssh -o ControlMaster=no -o ControlPath=none root@192.0.2.1 \
        "FWGUARD_SANDBOX='$FWGUARD_SANDBOX' '$FWGUARD' check '$TMP/office.nft'" > "$TMP/out.txt" 2>&1; rc=$?
set -e
[ $rc = 0 ] || fail "office.nft over SSH from 192.0.2.2: exit $rc, want 0: $(cat "$TMP/out.txt")"
grep -q "port 22 from 192.0.2.2" "$TMP/out.txt" || fail "the probe did not come from the admin's address: $(cat "$TMP/out.txt")"
unchanged "check over SSH"

note "a hanging include is stopped by the sandbox's time limit"
mkfifo "$TMP/fifo"
printf 'include "%s"\n' "$TMP/fifo" > "$TMP/hang.nft"
printf '[sandbox]\ntimeout_sec = 2\n' > "$TMP/fast.conf"
set +e
timeout 30 ip netns exec "$SSHENV_SRV" "$FWGUARD" check --config "$TMP/fast.conf" "$TMP/hang.nft" > "$TMP/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "hanging include: exit $rc, want 1"
grep -q "did not finish within 2 s" "$TMP/out.txt" || fail "no timeout message: $(cat "$TMP/out.txt")"
unchanged "check of a hanging include"

note "iptables-legacy tables beside nftables are named in a warning"
srv iptables-legacy -t filter -L INPUT > /dev/null || fail "iptables-legacy"
srv "$FWGUARD" check --live > "$TMP/out.txt" 2>&1 || true
grep -q "WARNING: iptables-legacy tables exist: filter (iptables)" "$TMP/out.txt" || fail "no legacy warning: $(cat "$TMP/out.txt")"
echo ok

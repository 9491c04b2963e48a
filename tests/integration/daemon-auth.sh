#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# daemon-auth.sh — who may call what on fwguardd's bus (acceptance 9).
#
# An unprivileged uid is denied every mutating method, and those that show
# rules (Check, Diff, History), one check per method, through the CLI (exit
# 3) and on the bus (AccessDenied), at a moment when the call would
# otherwise succeed: Apply and RollbackTo while idle with a history entry to
# go back to, the others while a trial is pending. Nothing changes: ruleset
# (genid included), trial, history, state directory. Status works for it
# and says what root sees. A member of the config's admin group may do all
# of it, and check/diff go through the daemon for it; but its apply of a
# file that includes /etc/shadow, or a root-only file, fails with
# "Permission denied", starts no trial, changes nothing and leaks no line of
# the file anywhere; and a file it cannot read at all fails in the CLI
# before the daemon sees it.
. "$SRCDIR/tests/integration/daemon-lib.sh"

# The admin group: one that exists, that nobody is not in, and that cannot
# read /etc/shadow (so the include below is really forbidden to the member).
ADMGRP=
for g in adm staff users sudo; do
        gid=$(getent group "$g" | cut -d: -f3) || continue
        id -G nobody | tr ' ' '\n' | grep -qx "$gid" && continue
        [ "$(stat -c %g /etc/shadow)" = "$gid" ] && continue
        ADMGRP=$g ADMGID=$gid
        break
done
[ -n "$ADMGRP" ] || fail "no group to make the admin group (tried adm staff users sudo)"
member() { setpriv --reuid=nobody --regid=nogroup --groups="$ADMGID" -- "$@"; }
! member test -r /etc/shadow || fail "the admin member can read /etc/shadow: the include test would prove nothing"

# Everything a refused call must leave as it was.
snapshot() {
        ruleset_state N > "$TMP/$1.rs"
        fwg status --json > "$TMP/$1.status"
        fwg history --json > "$TMP/$1.history"
        state_dir_listing > "$TMP/$1.dir"
}
unchanged() {
        snapshot after
        for f in rs status history dir; do
                same "$TMP/$1.$f" "$TMP/after.$f" "$2 changed: $f"
        done
}
# deny_cli METHOD CMD...: nobody runs the CLI and is refused, exit 3.
deny_cli() {
        local method=$1
        shift
        run 3 "$TMP/deny" nobody "$FWGUARD" "$@"
        grep -q "may not call $method" "$TMP/deny.err" || fail "fwguard $*: not an access refusal: $(cat "$TMP/deny.err")"
}
# deny_bus METHOD busctl|bus-call ARGS...: nobody calls it directly. busctl
# prints only "Access denied"; the daemon's log names the method.
deny_bus() {
        local method=$1 n
        shift
        n=$(grep -c "uid 65534 was refused $method:" "$FWGD_LOG" || true)
        nobody "$@" > "$TMP/deny.out" 2> "$TMP/deny.err" && fail "$method was served to nobody: $(cat "$TMP/deny.out")"
        grep -q "may not call $method\|^Call failed: Access denied" "$TMP/deny.err" ||
                fail "bus $method: not an access refusal: $(cat "$TMP/deny.err")"
        [ "$(grep -c "uid 65534 was refused $method:" "$FWGD_LOG")" = $((n + 1)) ] ||
                fail "bus $method: the daemon did not log the refusal"
}
version() {
        printf 'table inet fwgtest\ndelete table inet fwgtest\n'
        printf 'table inet fwgtest {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n'
        printf '\t\ttcp dport %s drop\n\t}\n}\n' "$1"
}
version 8081 > "$TMP/v1.nft"
version 8082 > "$TMP/v2.nft"
version 8083 > "$TMP/v3.nft"
# live PORT: the ruleset is that version, with the guard.
live() {
        printf 'table inet fwgtest {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n'
        printf '\t\ttcp dport 22 counter accept comment "fwguard ssh guard"\n\t\ttcp dport %s drop\n\t}\n}\n' "$1"
}
check_live() {
        live "$1" > "$TMP/expected.nft"
        N nft -s list ruleset > "$TMP/live.nft"
        same "$TMP/expected.nft" "$TMP/live.nft" "$2: the live ruleset is not version $1"
}
trial_id() { sed -n 's/^Trial \([0-9]*\) is armed.*/\1/p' "$1"; }

daemon_config "[admin]" "group = $ADMGRP"
# No sshd here: this test build lets callers confirm without a fresh SSH
# login (issue 6's proof is tested in e2e/confirm); who may call is what is tested.
daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1

# Two confirmed states: trial 1 is one to go back to.
run 0 "$TMP/a1" fwg apply --timeout 60 "$TMP/v1.nft"
ID1=$(trial_id "$TMP/a1.out")
run 0 "$TMP/c1" fwg confirm
run 0 "$TMP/a2" fwg apply --timeout 60 "$TMP/v2.nft"
run 0 "$TMP/c2" fwg confirm
check_live 8082 "setup"

# Idle: Apply and RollbackTo would start a trial for root.
snapshot idle
deny_cli Apply apply --timeout 60 "$TMP/v3.nft"
deny_bus Apply "$BUS_CALL" "$FWGD_RUN/bus" Apply hstt "$TMP/v3.nft" v3.nft 60 0
deny_cli RollbackTo rollback --to "$ID1"
deny_bus RollbackTo busctl --address="$ADDR" call "${OBJ[@]}" $IFACE RollbackTo ttt "$ID1" 60 0
unchanged idle "a refused Apply or RollbackTo"

# A trial pending: Confirm, Rollback, Extend would act on it for root;
# Check and Diff would print the live ruleset.
run 0 "$TMP/a3" fwg apply --timeout 60 "$TMP/v3.nft"
ID3=$(trial_id "$TMP/a3.out")
snapshot pending
deny_cli Confirm confirm
deny_bus Confirm busctl --address="$ADDR" call "${OBJ[@]}" $IFACE Confirm
deny_cli Rollback rollback
deny_bus Rollback busctl --address="$ADDR" call "${OBJ[@]}" $IFACE Rollback
deny_cli Extend extend 10
deny_bus Extend busctl --address="$ADDR" call "${OBJ[@]}" $IFACE Extend t 10
deny_cli Check check "$TMP/v1.nft"
deny_bus Check "$BUS_CALL" "$FWGD_RUN/bus" Check hsb "$TMP/v1.nft" v1.nft false
deny_cli Diff diff "$TMP/v1.nft"
deny_bus Diff "$BUS_CALL" "$FWGD_RUN/bus" Diff hsb "$TMP/v1.nft" v1.nft false
# ...and still Apply and RollbackTo: refused as a caller, not for the pending trial.
deny_cli Apply apply --timeout 60 "$TMP/v1.nft"
deny_cli RollbackTo rollback --to "$ID1"

# History shows rules too (the conflicts a rollback could not carry over):
# administrators only. Status works for anyone, and says what root sees.
deny_cli History history
deny_bus History busctl --address="$ADDR" call "${OBJ[@]}" $IFACE History
nobody "$FWGUARD" status --json > "$TMP/nobody.status" || fail "nobody: status --json"
same "$TMP/pending.status" "$TMP/nobody.status" "nobody's status differs from root's"
nobody busctl --address="$ADDR" call "${OBJ[@]}" $IFACE Status > "$TMP/nobody.busctl" || fail "nobody: busctl Status"
grep -q "^stts \"armed\" $ID3 " "$TMP/nobody.busctl" || fail "nobody: busctl Status: $(cat "$TMP/nobody.busctl")"
unchanged pending "a refused call during a trial"
check_live 8083 "after the refusals"
run 0 "$TMP/rb3" fwg rollback
check_live 8082 "root's rollback"

# A member of the admin group may do all of it. check and diff go through
# the daemon for it (it cannot read the ruleset itself) and say what they
# say for root.
run 0 "$TMP/mcheck" member "$FWGUARD" check "$TMP/v1.nft"
grep -q "As written: SSH stays reachable" "$TMP/mcheck.out" || fail "member check: $(cat "$TMP/mcheck.out")"
run 0 "$TMP/mdiff" member "$FWGUARD" diff "$TMP/v1.nft"
N "$FWGUARD" diff "$TMP/v1.nft" > "$TMP/rdiff.out" || fail "root's diff"
same "$TMP/rdiff.out" "$TMP/mdiff.out" "the member's diff (through the daemon) differs from root's"
grep -q "^+.*tcp dport 8081 drop" "$TMP/mdiff.out" || fail "member diff: $(cat "$TMP/mdiff.out")"
run 0 "$TMP/m4" member "$FWGUARD" apply --timeout 60 "$TMP/v3.nft"
ID4=$(trial_id "$TMP/m4.out")
check_live 8083 "the member's apply"
fwg status --json > "$TMP/m4.status"
run 0 "$TMP/mext" member "$FWGUARD" extend 30
fwg status --json > "$TMP/m4x.status"
python3 -c '
import json, sys, time
a, b = (json.load(open(p))["trial"] for p in sys.argv[1:3])
assert a["id"] == b["id"] == int(sys.argv[3]), (a, b)
left = b["deadline_realtime_usec"] / 1e6 - time.time()
assert a["deadline_realtime_usec"] != b["deadline_realtime_usec"] and 20 < left <= 30, (a, b, left)
' "$TMP/m4.status" "$TMP/m4x.status" "$ID4" || fail "the member's extend did not move the deadline to 30 s"
run 0 "$TMP/mrb" member "$FWGUARD" rollback
check_live 8082 "the member's rollback"
run 0 "$TMP/m5" member "$FWGUARD" rollback --to "$ID1" --timeout 60
ID5=$(trial_id "$TMP/m5.out")
check_live 8081 "the member's rollback --to"
run 0 "$TMP/mc5" member "$FWGUARD" confirm
[ "$(fwg status)" = idle ] || fail "the member's confirm left a trial"
fwg history --json > "$TMP/m.history"
member "$FWGUARD" history --json > "$TMP/member.history" || fail "member: history --json"
same "$TMP/m.history" "$TMP/member.history" "the member's history differs from root's"
python3 -c '
import json, sys
h = {e["id"]: e for e in json.load(open(sys.argv[1]))}
for i, outcome in ((int(sys.argv[2]), "rolled-back"), (int(sys.argv[3]), "confirmed")):
        assert h[i]["outcome"] == outcome and h[i]["uid"] == 65534, h[i]
' "$TMP/m.history" "$ID4" "$ID5" || fail "history of the member's trials: $(cat "$TMP/m.history")"

# The member's file may not include what the member cannot read. The
# secret is not valid nft: were it read, libnftables would quote it.
CANARY=zq7canary
printf '%s first line of the secret\n%s second line; of the secret\n' $CANARY $CANARY > "$TMP/secret.conf"
chmod 0600 "$TMP/secret.conf"
! member cat "$TMP/secret.conf" > /dev/null 2>&1 || fail "the member can read the secret"
for inc in "$TMP/secret.conf" /etc/shadow; do
        { printf 'include "%s"\n' "$inc"; version 8084; } > "$TMP/inc.nft"
        snapshot inc
        run 1 "$TMP/inc" member "$FWGUARD" apply --timeout 60 "$TMP/inc.nft"
        grep -q "Permission denied" "$TMP/inc.err" || fail "include $inc: $(cat "$TMP/inc.err")"
        unchanged inc "the member's include of $inc"
        [ "$(fwg status)" = idle ] || fail "include $inc started a trial"
        for f in "$TMP/inc.out" "$TMP/inc.err" "$FWGD_LOG" "$TMP/after.history"; do
                ! grep -q "$CANARY" "$f" || fail "the secret leaked into $f"
                ! grep -qF -f <(grep -v '^$' /etc/shadow) "$f" || fail "a line of /etc/shadow leaked into $f"
        done
done

# A file the member cannot read at all: the CLI fails before asking.
applies=$(grep -c " applies " "$FWGD_LOG")
snapshot unreadable
run 1 "$TMP/unr" member "$FWGUARD" apply --timeout 60 "$TMP/secret.conf"
grep -q "secret.conf: Permission denied" "$TMP/unr.err" || fail "unreadable file: $(cat "$TMP/unr.err")"
[ "$(grep -c " applies " "$FWGD_LOG")" = "$applies" ] || fail "the daemon was asked to apply an unreadable file"
! grep -q "$CANARY" "$TMP/unr.out" "$TMP/unr.err" "$FWGD_LOG" || fail "the secret leaked"
unchanged unreadable "an unreadable file"
! grep -Eiq "sanitizer|runtime error|cannot|failed" "$FWGD_LOG" || fail "fwguardd complained: $(cat "$FWGD_LOG")"
daemon_stop
note "ok"

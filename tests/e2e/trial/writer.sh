#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# writer.sh CASE — another writer changes a table that the trial touched,
# during the trial.
#   carry     a docker-like writer adds a rule and a set element: after the
#             dead-man's rollback both are there, and the rest is S0 exactly.
#   conflict-replace, conflict-delete
#             the writer replaces (deletes) the rule that the trial wrote in
#             place of S0's, and adds an element: `fwguard rollback` brings
#             back S0's rule, reports the conflict, saves it in the history
#             (still there after a daemon restart) and carries the element
#             over; the rest is exact.
. "$SRCDIR/tests/e2e/trial/trial-env.sh"
CASE=$1
cat > "$TMP/s0.nft" <<'NFT'
table inet filter {
        set allowed {
                type ipv4_addr
                elements = { 198.51.100.1 }
        }
        chain DOCKER {
        }
        chain forward {
                type filter hook forward priority filter; policy accept;
                jump DOCKER
        }
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
                ip saddr @allowed accept
                tcp dport 80 accept
        }
}
NFT
echo "nft -f '$TMP/s0.nft'" > "$TMP/s0.sh"
# The trial: a drop policy, and port 80 becomes port 81.
cat > "$TMP/rules.nft" <<'NFT'
flush chain inet filter input
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                ip saddr @allowed accept
                tcp dport 81 accept
        }
}
NFT
ELEMENT="nft add element inet filter allowed '{ 198.51.100.5 }'"
case $CASE in
carry)
        WRITER="nft add rule inet filter DOCKER ip daddr 172.17.0.2 tcp dport 80 accept; $ELEMENT"
        EXPECTED=$WRITER ;;
conflict-replace)
        # Run with H, the handle of the trial's `tcp dport 81 accept`.
        WRITER="nft replace rule inet filter input handle \$H tcp dport 82 accept; $ELEMENT"
        EXPECTED=$ELEMENT SAYS="another writer replaced what the trial wrote" ;;
conflict-delete)
        WRITER="nft delete rule inet filter input handle \$H; $ELEMENT"
        EXPECTED=$ELEMENT SAYS="and another writer deleted it" ;;
*) fail "unknown case $CASE" ;;
esac
trial_env_up
scratch_nft "nft -f '$TMP/rules.nft'" > "$TMP/s1.txt" || fail "plain nft cannot load the change"
scratch_nft "$EXPECTED" > "$TMP/expected.txt"
live_nft > "$TMP/s0.txt"
cmp -s "$TMP/s0.txt" "$TMP/expected.txt" && fail "the writer's changes are invisible in a listing"

apply_trial "$TMP/rules.nft" 6
guarded_is_s1 "$TMP/s1.txt" "inet filter input"
H=$(srv nft -a list chain inet filter input | sed -n 's/.*tcp dport 81 accept # handle \([0-9]*\)$/\1/p')
[ -n "$H" ] || fail "the trial's rule is not live"
srv env H="$H" sh -ec "$WRITER" || fail "the other writer failed"
still_armed "the other writer"

if [ "$CASE" = carry ]; then
        note "after the dead-man's rollback: S0 plus the writer's rule and element"
        sleep_until "$TRIAL_DEADLINE"
        wait_idle 10
else
        note "rollback: S0's rule back, the element carried over, the conflict reported"
        fwg rollback > "$TMP/rollback.txt" || fail "rollback exited $?: $(cat "$TMP/rollback.txt")"
        cat "$TMP/rollback.txt"
        grep -q "Not carried over" "$TMP/rollback.txt" || fail "rollback does not report the conflict"
        grep -q "table inet filter: .*input" "$TMP/rollback.txt" || fail "the report does not name the chain"
        grep -qF "$SAYS" "$TMP/rollback.txt" || fail "the report does not say: $SAYS"
fi
live_nft > "$TMP/after.txt"
same "$TMP/expected.txt" "$TMP/after.txt" "after the rollback the ruleset is not what the merge should give"
[ "$(history_get "$TRIAL_ID" outcome)" = rolled-back ] || fail "history: $(cat "$TMP/history.json")"
history_get "$TRIAL_ID" report > "$TMP/report.txt"
if [ "$CASE" = carry ]; then
        [ -z "$(cat "$TMP/report.txt")" ] || fail "conflicts reported where there are none: $(cat "$TMP/report.txt")"
else
        grep -qF "$SAYS" "$TMP/report.txt" || fail "the history does not keep the conflict: $(cat "$TMP/history.json")"
        sed -n '/Not carried over/,$p' "$TMP/rollback.txt" | tail -n +2 > "$TMP/printed.txt"
        same "$TMP/printed.txt" "$TMP/report.txt" "rollback printed another report than the history saved"
        daemon_stop
        daemon_srv_start
        history_get "$TRIAL_ID" report > "$TMP/report2.txt"
        same "$TMP/report.txt" "$TMP/report2.txt" "the report is lost across a daemon restart"
fi
ssh_login || fail "a NEW ssh login fails after the rollback"
ssh_session_alive || fail "the old session died"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ufw.sh — real `ufw --force enable` without `allow 22`, outside fwguard, in
# the daemon's network namespace (ufw's files are private copies): its
# iptables-nft INPUT chain drops SSH. The monitor guards exactly that chain
# (the ruleset is ufw's own, as a scratch namespace gets it, plus the guard
# there): a NEW ssh login works, iptables -S and ufw status still work, the
# old session lives, and the log names the blocked chain and the writer.
. "$SRCDIR/tests/e2e/monitor/monitor-env.sh"
cat > "$TMP/s0.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
        }
}
NFT
echo "nft -f '$TMP/s0.nft'" > "$TMP/s0.sh"
for d in live scratch; do
        cp -a /etc/ufw "$TMP/ufw-$d"
        cp /etc/default/ufw "$TMP/default-ufw-$d"
done
# ufw in a private mount namespace that sees the copies DIR as its files.
ufw_in() { # DIR CMD
        echo "mount --bind '$TMP/ufw-$1' /etc/ufw && mount --bind '$TMP/default-ufw-$1' /etc/default/ufw && $2"
}
trial_env_up
unshare -nm sh -ec "sh -e '$TMP/s0.sh'; $(ufw_in scratch "ufw --force enable > /dev/null"); nft list ruleset" |
        norm > "$TMP/plain.txt" || fail "ufw does not enable in a scratch namespace"
grep -q 'chain ufw-before-input' "$TMP/plain.txt" || fail "ufw made no chains: $(cat "$TMP/plain.txt")"

note "ufw --force enable, without allow 22"
srv sh -ec "$(ufw_in live "ufw --force enable > /dev/null")" || fail "ufw enable failed"
wait_until 10 "ip filter INPUT was not guarded within 10 s" \
        sh -c "ip netns exec '$SSHENV_SRV' iptables -S INPUT | grep -q 'fwguard ssh guard'"
# The end of ufw's burst of commits, then the monitor's last check of it.
sleep 1
live_nft > "$TMP/live.txt"
python3 "$SRCDIR/tests/tools/guardcheck.py" "$TMP/plain.txt" "$TMP/live.txt" 22 "ip filter INPUT" ||
        fail "the monitor did not guard exactly ufw's blocking chain"
ssh_login || fail "a NEW ssh login fails after the monitor guarded ufw's chain"
! reach 8080 || fail "port 8080 is reachable: ufw's rules do not apply"
srv iptables -S INPUT | sed -n 2p | grep -qxF -- \
        '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT' ||
        fail "iptables -S does not show the guard first: $(srv iptables -S INPUT)"
srv sh -ec "$(ufw_in live "ufw status")" | grep -q "Status: active" || fail "ufw status fails"
log_wait 2 "SSH WAS BLOCKED .*chain ip filter INPUT\. Changed by pid [0-9]+ " 0
ssh_session_alive || fail "the old session died"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$FWGD_LOG" >&2 || fail "sanitizer"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# lockout.sh CASE — one lockout ruleset against a real sshd and ssh client.
#
# For CASE: `fwguard check` exits 3 and names the blocking rule or policy;
# `check -o` writes exactly S1 plus the guard in the expected chains; loaded
# into the server namespace, that lets a NEW ssh login in while port 8080
# stays blocked and the old session survives. For ARP and neighbour
# discovery lockouts, check says the guard cannot help.
. "$SRCDIR/tests/lib/common.sh"
need_root
CASE=$1
case $CASE in
port-moved) SSHENV_PORTS=2222 ;;
nd-drop) SSHENV_IPV6=1 ;;       # the admin comes over IPv6
esac
. "$SRCDIR/tests/lib/sshenv.sh"
at_exit sshenv_down
sshenv_up || fail "cannot start sshd"
IF=${SSHENV_P}v

# As on a real host, conntrack runs before the sessions that must survive.
cat > "$TMP/baseline.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
        }
}
NFT
srv nft -f "$TMP/baseline.nft"
ssh_session_open || fail "cannot open the old session"
srv_listen 8080 || fail "no 8080 listener"

GUARDED=() EXPECT= FIXABLE=yes LIVE=
case $CASE in
inet-policy-drop)
        cat > "$TMP/rules.nft" <<'NFT'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                iif "lo" accept
                tcp dport { 80, 443 } accept
        }
}
NFT
        GUARDED=("inet filter input") EXPECT="inet filter input: policy drop" ;;
two-tables)
        cat > "$TMP/rules.nft" <<'NFT'
table inet allow {
        chain input {
                type filter hook input priority 0; policy accept;
                tcp dport 22 accept
        }
}
table ip block {
        chain input {
                type filter hook input priority 10; policy accept;
                ct state established,related accept
                counter drop
        }
}
NFT
        GUARDED=("inet allow input" "ip block input") EXPECT="ip block input: rule \`counter drop\`" ;;
raw-prerouting)
        cat > "$TMP/rules.nft" <<'NFT'
table ip raw {
        chain pre {
                type filter hook prerouting priority raw; policy accept;
                ip protocol tcp drop
        }
}
NFT
        GUARDED=("ip raw pre") EXPECT="ip raw pre: rule" ;;
netdev-ingress)
        cat > "$TMP/rules.nft" <<NFT
table netdev edge {
        chain in {
                type filter hook ingress device "$IF" priority 0; policy accept;
                meta l4proto tcp drop
        }
}
NFT
        GUARDED=("netdev edge in") EXPECT="netdev edge in: rule" ;;
output-sport)
        cat > "$TMP/rules.nft" <<'NFT'
table inet out {
        chain output {
                type filter hook output priority 0; policy accept;
                tcp sport 22 drop
        }
}
NFT
        GUARDED=("inet out output:out") EXPECT="inet out output: rule \`tcp sport 22 drop\`" ;;
nat-redirect)
        cat > "$TMP/rules.nft" <<'NFT'
table ip nat {
        chain pre {
                type nat hook prerouting priority dstnat; policy accept;
                tcp dport 22 redirect to :2200
        }
}
NFT
        GUARDED=("ip nat pre") EXPECT="redirected to port 2200" ;;
port-moved)
        cat > "$TMP/rules.nft" <<'NFT'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport 22 accept
        }
}
NFT
        GUARDED=("inet filter input") EXPECT="port 2222 is blocked by inet filter input: policy drop" ;;
source-restricted)
        cat > "$TMP/rules.nft" <<'NFT'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                ip saddr 203.0.113.0/24 tcp dport 22 accept
        }
}
NFT
        GUARDED=("inet filter input") EXPECT="inet filter input: policy drop" ;;
reject-reset)
        cat > "$TMP/rules.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy accept;
                ct state established,related accept
                tcp dport 22 reject with tcp reset
        }
}
NFT
        GUARDED=("inet filter input") EXPECT="rejected by inet filter input: rule \`tcp dport 22 reject with tcp reset\`" ;;
arp-drop)
        cat > "$TMP/rules.nft" <<'NFT'
table arp block {
        chain input {
                type filter hook input priority 0; policy accept;
                drop
        }
}
NFT
        FIXABLE=no EXPECT="arp block input: rule \`drop\` (ARP" ;;
nd-drop)
        cat > "$TMP/rules.nft" <<'NFT'
table ip6 block {
        chain input {
                type filter hook input priority 0; policy accept;
                icmpv6 type nd-neighbor-solicit drop
        }
}
NFT
        GUARDED=("ip6 block input") FIXABLE=no EXPECT="ip6 block input: rule \`icmpv6 type nd-neighbor-solicit drop\` (IPv6 neighbour discovery" ;;
ufw)
        # Real ufw writes iptables-nft tables; its files are private copies.
        cp -a /etc/ufw "$TMP/etc-ufw"
        cp /etc/default/ufw "$TMP/default-ufw"
        srv sh -c "mount --bind '$TMP/etc-ufw' /etc/ufw && mount --bind '$TMP/default-ufw' /etc/default/ufw &&
                   ufw default deny incoming >/dev/null && ufw --force enable >/dev/null" || fail "ufw enable"
        LIVE=1 EXPECT="ip filter INPUT: policy drop"
        GUARDED=("ip filter INPUT") ;;
*)
        fail "unknown case $CASE" ;;
esac


# S1 as nft makes it, listed in a scratch namespace with a link of the same name.
if [ -z "$LIVE" ]; then
        in_netns sh -c "ip link add '$IF' type veth peer name fwgscratch &&
                        nft -f '$TMP/baseline.nft' && nft -f '$TMP/rules.nft' && nft list ruleset" > "$TMP/plain.txt" \
                || fail "nft cannot load the case's rules"
else
        srv nft list ruleset > "$TMP/plain.txt"
fi
ruleset_state srv > "$TMP/live-before.txt"

note "check exits 3 and names what blocks SSH"
set +e
if [ -n "$LIVE" ]; then
        srv "$FWGUARD" check --live -o "$TMP/guarded.fwg" > "$TMP/check.txt" 2>&1
else
        srv "$FWGUARD" check "$TMP/rules.nft" -o "$TMP/guarded.fwg" > "$TMP/check.txt" 2>&1
fi
rc=$?
set -e
cat "$TMP/check.txt"
[ $rc = 3 ] || fail "check exited $rc, want 3"
grep -qF -- "$EXPECT" "$TMP/check.txt" || fail "check does not say: $EXPECT"
if [ -n "$LIVE" ]; then
        note "the same live ruleset, checked as a snapshot: the same verdict, no table touched"
        srv "$FWGUARD" save "$TMP/live.fwg"
        set +e
        srv "$FWGUARD" check "$TMP/live.fwg" > "$TMP/check-snap.txt" 2>&1; rc=$?
        set -e
        [ $rc = 3 ] || fail "check of the snapshot exited $rc, want 3: $(cat "$TMP/check-snap.txt")"
        grep -qF -- "$EXPECT" "$TMP/check-snap.txt" || fail "check of the snapshot does not say: $EXPECT"
        grep -q "changes: none" "$TMP/check-snap.txt" || fail "a snapshot equal to live touched tables"
fi
# The ports sshd really serves: the listener, plus sshd -T's view of the host's own config.
PORTS=$(sed -n 's/^SSH ports: //p' "$TMP/check.txt" | grep -o '\b[0-9]\+ (' | tr -d ' (' | paste -sd,)
want_port=${SSHENV_PORTS%% *}
case ",$PORTS," in *",$want_port,"*) ;; *) fail "check does not guard sshd's port $want_port (ports: $PORTS)" ;; esac
ruleset_state srv > "$TMP/live-after.txt"
same "$TMP/live-before.txt" "$TMP/live-after.txt" "check changed the live ruleset"

if [ $FIXABLE = no ]; then
        grep -q "STILL be unreachable" "$TMP/check.txt" || fail "check does not say that the guard cannot help"
        grep -q "does not cover it" "$TMP/check.txt" || fail "check does not say what the guard does not cover"
        echo ok
        exit 0
fi
grep -q "With the fwguard guard: SSH stays reachable" "$TMP/check.txt" || fail "the guard should keep SSH open"

note "check -o writes exactly S1 plus the guard"
"$FWGUARD" show "$TMP/guarded.fwg" > "$TMP/guarded.txt" || fail "show"
python3 "$SRCDIR/tests/tools/guardcheck.py" <(strip_expires < "$TMP/plain.txt") <(strip_expires < "$TMP/guarded.txt") \
        "$PORTS" "${GUARDED[@]}" || fail "the guarded ruleset is not S1 plus the guard"

note "loaded live, the guarded ruleset lets a NEW login in and keeps 8080 blocked"
srv "$FWGUARD" restore "$TMP/guarded.fwg" || fail "restore of the guarded ruleset"
ssh_login "$want_port" || fail "a NEW ssh login on port $want_port fails with the guard"
case $CASE in output-sport|nat-redirect|reject-reset) ;;
*) ! reach 8080 || fail "port 8080 is reachable: the guard opened more than SSH" ;;
esac
ssh_session_alive || fail "the old session died"
if [ $CASE = ufw ]; then
        note "iptables -S and ufw status still work, and show the guard"
        srv iptables -S INPUT > "$TMP/iptables.txt" || fail "iptables -S fails on the guarded table"
        sed -n 2p "$TMP/iptables.txt" | grep -qxF -- '-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fwguard ssh guard" -j ACCEPT' \
                || fail "iptables -S does not show the guard first: $(cat "$TMP/iptables.txt")"
        srv sh -c "mount --bind '$TMP/etc-ufw' /etc/ufw && mount --bind '$TMP/default-ufw' /etc/default/ufw && ufw status verbose" \
                > "$TMP/ufw.txt" 2>&1 || fail "ufw status fails: $(cat "$TMP/ufw.txt")"
        grep -q "Status: active" "$TMP/ufw.txt" || fail "ufw status: $(cat "$TMP/ufw.txt")"
fi
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# port.sh — system test 6: a confirmed ruleset that lets in port 22 only (its
# own rule and fwguard's guard). sshd's Port becomes 2222 and ssh.service is
# restarted: systemd's JobRemoved makes the monitor find the ports again and
# move the guard to 2222, so a NEW login on port 2222 works; the journal says
# that the ports changed.
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot
ct_config
cat > "$CT_ROOT/root/only22.nft" <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
	}
}
NFT
ct fwguard apply --timeout 30 /root/only22.nft > /dev/null || fail "apply failed"
ct_ssh -- true || fail "a NEW login did not work to confirm"
ct_wait_idle 10 || fail "the login hook did not confirm"
ct_session_open

note "sshd moves to port 2222"
sed -i -E 's/^#?Port .*/Port 2222/' "$CT_ROOT/etc/ssh/sshd_config"
grep -qx "Port 2222" "$CT_ROOT/etc/ssh/sshd_config" || echo "Port 2222" >> "$CT_ROOT/etc/ssh/sshd_config"
ct systemctl restart ssh.service
moved() { ct nft list chain inet filter input | grep -q 'tcp dport 2222 counter packets [0-9]* bytes [0-9]* accept comment "fwguard ssh guard"'; }
for _ in $(seq 150); do moved && break; sleep 0.1; done
moved || { ct_dump; fail "the guard did not move to port 2222 within 15 s"; }
ct_ssh -p 2222 -- true || fail "a NEW login on port 2222 fails"
! ct nft list chain inet filter input | grep -q 'tcp dport 22 counter.*fwguard ssh guard' ||
        fail "the guard still accepts the old port 22: $(ct nft list chain inet filter input)"
ct_journal_has MESSAGE_ID=134e2fcb720d4c959242e4be9e5cecf8 fwguardd.service ||
        fail "no journal entry says that the ports changed"
ct_session_alive || fail "the old session died"
echo ok

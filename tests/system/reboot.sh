#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# reboot.sh — system test 4: reboots through the installed units.
#   a. A confirmed apply (confirmed by a NEW login's hook) survives a clean
#      reboot: fwguard-persist.service loads it, guarded, after
#      nftables.service, whose /etc/nftables.conf begins with `flush
#      ruleset` and has a table of its own, which stays.
#   b. The container loses power (ct_reboot --crash) during a
#      `fwguard ufw --force enable` trial that left /etc/ufw saying ENABLED=yes:
#      it comes up with the pre-trial /etc/ufw (every file, by hash),
#      ufw.service having loaded nothing, the last confirmed ruleset exactly
#      (nftables.conf's table and the apply with the guard), the trial
#      recorded as rolled back by the reboot, and a NEW login works.
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot
ct_config

cat > "$CT_ROOT/etc/nftables.conf" <<'NFT'
#!/usr/sbin/nft -f
flush ruleset
table ip fromconf {
	chain output {
		type filter hook output priority filter; policy accept;
		tcp dport 25 drop
	}
}
NFT
cat > "$CT_ROOT/root/base.nft" <<'NFT'
table inet fwgtest {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 443 accept
	}
}
NFT
sed 1,2d "$CT_ROOT/etc/nftables.conf" > "$TMP/conf-tables.nft"
cat "$TMP/conf-tables.nft" "$CT_ROOT/root/base.nft" > "$TMP/expect.nft"
plain_nft "$TMP/expect.nft" > "$TMP/plain.txt"
ct systemctl enable --now nftables.service
for u in fwguard-boot.service fwguard-persist.service; do
        [ "$(ct systemctl is-enabled "$u")" = enabled ] || fail "$u is not enabled by the package"
done

# Every file of the ufw configuration, with its mode and hash.
ufw_files() { (cd "$CT_ROOT" && find etc/ufw etc/default/ufw -type f | LC_ALL=C sort | xargs stat -c '%n %a' |
        while read -r f m; do echo "$f $m $(sha256sum < "$f" | cut -d' ' -f1)"; done); }

# The ruleset after a boot is the confirmed one, and the units did it.
confirmed_after_boot() {
        ct_wait_active fwguard-persist.service || fail "fwguard-persist.service is not active after the boot"
        ct_wait_active fwguard-boot.service || fail "fwguard-boot.service is not active after the boot"
        ct_nft > "$TMP/live.txt"
        guarded_as "$TMP/plain.txt" "$TMP/live.txt" 22 "inet fwgtest input"
}

note "a. a confirmed apply survives a reboot"
ct_apply 30 /root/base.nft
id1=$TRIAL_ID
ct_ssh -- true || fail "a NEW ssh login failed during the trial"
ct_wait_idle 10 || fail "the login did not confirm trial $id1"
[ "$(ct_outcome "$id1")" = confirmed ] || fail "history: $(ct fwguard history)"
ct fwguard persist status | grep -q "trial $id1: nft text /root/base.nft" ||
        fail "persist status does not list trial $id1: $(ct fwguard persist status)"
ct_reboot
confirmed_after_boot
ct journalctl -b -u fwguard-persist.service -o cat | grep -q "loaded inet fwgtest, with the SSH guard" ||
        fail "fwguard-persist.service did not load the apply: $(ct journalctl -b -u fwguard-persist.service -o cat)"
ct_ssh -- true || fail "a NEW ssh login failed after the reboot"

note "b. power loss during a fwguard ufw trial"
ufw_files > "$TMP/ufw-before"
grep -q '^ENABLED=no' "$CT_ROOT/etc/ufw/ufw.conf" || fail "ufw is enabled before the test"
ct fwguard ufw --timeout 120 --force enable > "$TMP/ufw.out" 2>&1 || { cat "$TMP/ufw.out"; fail "fwguard ufw failed"; }
[ "$(ct_status "['state']")" = armed ] || fail "the ufw trial is not armed: $(ct fwguard status)"
id2=$(ct_status "['trial']['id']")
grep -q '^ENABLED=yes' "$CT_ROOT/etc/ufw/ufw.conf" || fail "the trial did not install ufw.conf"
ufw_files > "$TMP/ufw-during"
! cmp -s "$TMP/ufw-before" "$TMP/ufw-during" || fail "the trial changed no file of /etc/ufw"
ct_reboot --crash
confirmed_after_boot
ufw_files > "$TMP/ufw-after"
same "$TMP/ufw-before" "$TMP/ufw-after" "after the reboot, /etc/ufw is not as before the trial"
ct_nft | grep -q ufw && fail "ufw's rules are live after the reboot: $(ct_nft)"
[ "$(ct_status "['state']")" = idle ] || fail "a trial is pending after the reboot: $(ct fwguard status)"
[ "$(ct_outcome "$id2")" = rolled-back ] || fail "trial $id2 is $(ct_outcome "$id2"): $(ct fwguard history)"
ct fwguard history | grep -q "the host rebooted during the trial" || fail "the history does not name the reboot"
[ "$(ct_outcome "$id1")" = confirmed ] || fail "trial $id1 is $(ct_outcome "$id1")"
ct_ssh -- true || fail "a NEW ssh login failed after the reboot"
echo ok

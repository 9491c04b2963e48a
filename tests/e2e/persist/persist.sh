#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# persist.sh CASE — a confirmed apply survives a reboot (lib.sh: fwguardd
# killed, another boot id, a fresh network namespace), loaded by
# `fwguard boot` + `fwguard persist load` as fwguard-boot.service and
# fwguard-persist.service run them:
#   text       nft text that names an interface by name: loaded guarded,
#              compiled afresh where that interface has another index, after
#              what nftables.service loaded: its copy of the table gives way,
#              its other table stays; the live ruleset is exactly that plus
#              the guard; loading again changes nothing
#   off        `persist off`: nothing is loaded, and a confirmation keeps
#              nothing; `persist on` keeps the next confirmed apply
#   pending    a confirmed apply, then another apply of the same table left
#              pending at the reboot: the boot ends it (rolled back) and
#              loads the confirmed one, not the trial's
#   confirmed  fwguardd dies right after the CONFIRMED record (test point
#              confirm-durable), and the machine goes down: the boot ends
#              the trial as confirmed, keeps it and loads it
#   increment  text that adds to a table made by an earlier apply is
#              replayed over it (both survive); text that makes the table
#              from nothing replaces both entries
. "$SRCDIR/tests/e2e/persist/lib.sh"
CASE=$1

cat > "$TMP/base.nft" <<'NFT'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                iif "fwg0" tcp dport 443 accept
        }
}
NFT
cat > "$TMP/guard.nft" <<'NFT'
insert rule inet filter input tcp dport 22 counter accept comment "fwguard ssh guard"
NFT

daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1

# Apply FILE and confirm it; the history must say so.
confirmed() {
        fwg apply --timeout 30 "$1" > "$TMP/apply.out" 2>&1 || { cat "$TMP/apply.out"; fail "apply of $1 failed"; }
        fwg confirm > "$TMP/confirm.out" 2>&1 || { cat "$TMP/confirm.out"; fail "confirm failed"; }
}

# Boot as the units do; the output of each step in $TMP/boot.out, load.out.
boot_load() {
        R "$FWGUARD" boot --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > "$TMP/boot.out" 2>&1 ||
                { cat "$TMP/boot.out"; fail "fwguard boot failed"; }
        R "$FWGUARD" persist load --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > "$TMP/load.out" 2>&1 ||
                { cat "$TMP/load.out"; fail "fwguard persist load failed"; }
        cat "$TMP/boot.out" "$TMP/load.out"
}

case $CASE in
text)
        confirmed "$TMP/base.nft"
        [ "$(entries)" = 1 ] || fail "the persisted entries are '$(entries)', not trial 1"
        # fwg0 comes second: its index is not the one the apply compiled.
        reboot zz fwg0
        [ "$(N ip -o link show fwg0 | cut -d: -f1)" != "$(R ip -o link show fwg0 | cut -d: -f1)" ] ||
                fail "fwg0 has the same index after the reboot: the test proves nothing"
        # What nftables.service loaded before: its inet filter gives way
        # to the confirmed one, its other table stays.
        cat > "$TMP/keep.nft" <<'NFT'
table ip keepme {
        chain output {
                type filter hook output priority filter; policy accept;
                tcp dport 25 drop
        }
}
NFT
        { cat "$TMP/keep.nft"; sed 's/443/80/' "$TMP/base.nft"; } > "$TMP/conf.nft"
        R nft -f "$TMP/conf.nft"
        boot_load
        roracle "$TMP/expect" "zz fwg0" "$TMP/keep.nft" "$TMP/base.nft" "$TMP/guard.nft"
        rlive > "$TMP/rlive"
        same "$TMP/expect" "$TMP/rlive" "after the reboot, live is not the confirmed tables with the guard"
        R "$FWGUARD" persist load --state-dir "$FWGD_STATE" --config "$FWGD_CONF" > "$TMP/load2.out" 2>&1 ||
                { cat "$TMP/load2.out"; fail "the second load failed"; }
        grep -q "live already" "$TMP/load2.out" || fail "loading twice changed something: $(cat "$TMP/load2.out")"
        rlive > "$TMP/rlive"
        same "$TMP/expect" "$TMP/rlive" "after a second load, live is not the confirmed tables with the guard" ;;
off)
        confirmed "$TMP/base.nft"
        fwg_root persist off > /dev/null || fail "persist off failed"
        fwg_root persist status | grep -q "persistence: off" || fail "status does not say off"
        [ -z "$(entries)" ] || fail "persist off kept entries: $(entries)"
        reboot fwg0
        boot_load
        grep -q "persistence is off" "$TMP/load.out" || fail "load does not say that persistence is off"
        [ -z "$(R nft list ruleset)" ] || fail "with persistence off, something was loaded: $(R nft list ruleset)"
        # Off, a confirmation keeps nothing; on again, the next one is kept.
        daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
        N nft flush ruleset
        confirmed "$TMP/base.nft"
        [ -z "$(entries)" ] || fail "with persistence off, the confirmation of trial 2 was kept: $(entries)"
        fwg_root persist on > /dev/null || fail "persist on failed"
        N nft flush ruleset
        confirmed "$TMP/base.nft"
        [ "$(entries)" = 3 ] || fail "after persist on, the entries are '$(entries)', not trial 3"
        # Turned off while a trial waits: its confirmation keeps nothing.
        N nft flush ruleset
        fwg apply --timeout 30 "$TMP/base.nft" > /dev/null || fail "the apply of trial 4 failed"
        fwg_root persist off > /dev/null || fail "persist off failed"
        fwg confirm > /dev/null || fail "the confirmation of trial 4 failed"
        [ -z "$(entries)" ] || fail "persistence turned off during trial 4 kept it: $(entries)" ;;
pending)
        confirmed "$TMP/base.nft"
        sed 's/443/8443/' "$TMP/base.nft" | sed '1i flush table inet filter' > "$TMP/other.nft"
        fwg apply --timeout 30 "$TMP/other.nft" > /dev/null || fail "the second apply failed"
        [ "$(record_get state)" = armed ] || fail "trial 2 is not armed"
        reboot fwg0
        boot_load
        grep -q "trial 2 (armed) is from an earlier boot" "$TMP/boot.out" || fail "fwguard boot did not end trial 2"
        [ ! -e "$FWGD_STATE/trial/record" ] || fail "a trial is still pending after fwguard boot"
        roracle "$TMP/expect" "fwg0" "$TMP/base.nft" "$TMP/guard.nft"
        rlive > "$TMP/rlive"
        same "$TMP/expect" "$TMP/rlive" "after the reboot, live is not the confirmed apply with the guard"
        daemon_start_ns
        [ "$(outcome 2)" = rolled-back ] || fail "trial 2 is $(outcome 2), not rolled-back"
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1), not confirmed" ;;
confirmed)
        daemon_stop
        daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1 FWGUARDD_TEST_CRASH=confirm-durable
        fwg apply --timeout 30 "$TMP/base.nft" > /dev/null || fail "apply failed"
        fwg confirm > /dev/null 2>&1 && fail "confirm succeeded through the crash"
        wait_crash confirm-durable
        [ "$(record_get state)" = confirmed ] || fail "the record is $(record_get state), not confirmed"
        [ -z "$(entries)" ] || fail "the crash left persisted entries: $(entries)"
        reboot fwg0
        boot_load
        grep -q "trial 1 was confirmed before the reboot: ended" "$TMP/boot.out" || fail "fwguard boot did not end trial 1 as confirmed"
        roracle "$TMP/expect" "fwg0" "$TMP/base.nft" "$TMP/guard.nft"
        rlive > "$TMP/rlive"
        same "$TMP/expect" "$TMP/rlive" "after the reboot, live is not the confirmed apply with the guard"
        daemon_start_ns
        [ "$(outcome 1)" = confirmed ] || fail "trial 1 is $(outcome 1), not confirmed" ;;
increment)
        confirmed "$TMP/base.nft"
        printf 'add rule inet filter input tcp dport 8080 accept\n' > "$TMP/add.nft"
        confirmed "$TMP/add.nft"
        [ "$(entries)" = "1 2" ] || fail "the entries are '$(entries)', not trials 1 and 2"
        reboot fwg0
        boot_load
        roracle "$TMP/expect" "fwg0" "$TMP/base.nft" "$TMP/add.nft" "$TMP/guard.nft"
        rlive > "$TMP/rlive"
        same "$TMP/expect" "$TMP/rlive" "after the reboot, live is not both applies with the guard"
        # Text that makes the table from nothing replaces both.
        { printf 'table inet filter\ndelete table inet filter\n'; sed 's/443/993/' "$TMP/base.nft"; } > "$TMP/whole.nft"
        daemon_start_ns FWGUARDD_TEST_CONFIRM_ANYONE=1
        N nft flush ruleset
        N nft -f "$TMP/base.nft"
        confirmed "$TMP/whole.nft"
        [ "$(entries)" = 3 ] || fail "the entries are '$(entries)', not trial 3 alone"
        reboot fwg0
        boot_load
        roracle "$TMP/expect" "fwg0" "$TMP/whole.nft" "$TMP/guard.nft"
        rlive > "$TMP/rlive"
        same "$TMP/expect" "$TMP/rlive" "after the reboot, live is not the last apply with the guard" ;;
*) fail "unknown case $CASE" ;;
esac
finish

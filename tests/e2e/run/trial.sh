#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `fwguard run` end to end with fwguardd's Run: the command's ruleset and the
# allow-listed files and the network sysctl it wrote become one trial, and the
# rollback at the deadline restores all of them exactly. The sysctl is the
# daemon's namespace's (the test's); the host's is checked unchanged. The allow-list is a directory of the test
# (never /etc): the daemon installs the captured files for real.
. "$SRCDIR/tests/lib/common.sh"
. "$SRCDIR/tests/lib/daemon.sh"
need_root

daemon_netns
FW=$TMP/fw
mkdir -p "$FW/sub"
echo old > "$FW/keep"
echo gone > "$FW/sub/del"
chmod 0640 "$FW/keep"
daemon_config "[run]" "overlay_dirs = $FW" "private_files ="
daemon_start_ns

N nft -f - <<'NFT'
table inet base {
        chain input {
                type filter hook input priority 0; policy accept;
                ct state established,related accept
        }
}
NFT
ruleset_state N > "$TMP/live.before"
snap_files() { find "$FW" -printf '%P %m %s\n' | sort; find "$FW" -type f -print0 | sort -z | xargs -0 sha256sum; }
snap_files > "$TMP/files.before"
# A value of the test's namespace that neither a new namespace nor the command has.
N sh -c 'echo 52 > /proc/sys/net/ipv4/tcp_fin_timeout'
HOST_FIN=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)

rc=0
N "$FWGUARD" run --config "$FWGD_CONF" --json --timeout 2 -- sh -c \
        "nft add table inet run_t && nft add chain inet run_t c; echo new > $FW/keep; chmod 0600 $FW/keep;
         echo x > $FW/sub/created; rm $FW/sub/del; sysctl -q -w net.ipv4.tcp_fin_timeout=33; echo 'ran ok'" < /dev/null > "$TMP/out.json" 2> "$TMP/out.err" || rc=$?
[ $rc = 0 ] || { cat "$TMP/out.json" "$TMP/out.err"; cat "$FWGD_LOG"; fail "fwguard run exited $rc"; }
grep -q "ran ok" "$TMP/out.err" || fail "the command's output did not come back (stderr with --json)"
python3 - "$TMP/out.json" <<'PY' || { cat "$TMP/out.json"; fail "--json answer"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool_exit_code"] == 0 and d["trial"] > 0, d
PY

# During the trial: the command's result is live, files included.
N nft list table inet run_t > /dev/null || fail "the command's table is not live during the trial"
[ "$(cat "$FW/keep")" = new ] || fail "keep was not installed"
[ "$(stat -c %a "$FW/keep")" = 600 ] || fail "keep's mode is $(stat -c %a "$FW/keep"), want 600"
[ -f "$FW/sub/created" ] || fail "created was not installed"
[ ! -e "$FW/sub/del" ] || fail "del was not deleted"
[ "$(N cat /proc/sys/net/ipv4/tcp_fin_timeout)" = 33 ] || fail "the sysctl was not set during the trial"

# No confirmation: both go back exactly.
wait_idle 20
ruleset_state N > "$TMP/live.after"
# The genid moved (two commits); everything else is as before.
same <(grep -v '^genid' "$TMP/live.before") <(grep -v '^genid' "$TMP/live.after") "the ruleset did not return"
snap_files > "$TMP/files.after"
same "$TMP/files.before" "$TMP/files.after" "the files did not return exactly"
[ "$(N cat /proc/sys/net/ipv4/tcp_fin_timeout)" = 52 ] || fail "the sysctl did not return"
[ "$(cat /proc/sys/net/ipv4/tcp_fin_timeout)" = "$HOST_FIN" ] || fail "the host's sysctl changed"
# --wait watches a run's trial as it does an apply's: exit 4 once the
# dead-man has rolled it back, with the file already back.
rc=0
N "$FWGUARD" run --config "$FWGD_CONF" --wait --timeout 2 -- sh -c "echo waited > $FW/keep" \
        < /dev/null > "$TMP/wait.out" 2>&1 || rc=$?
[ $rc = 4 ] || { cat "$TMP/wait.out"; fail "run --wait exited $rc after a rollback, want 4"; }
grep -q "ROLLED BACK" "$TMP/wait.out" || fail "run --wait: $(cat "$TMP/wait.out")"
snap_files > "$TMP/files.waited"
same "$TMP/files.before" "$TMP/files.waited" "the file was not back when run --wait returned"
note "run/trial: ok"

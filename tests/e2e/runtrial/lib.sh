# SPDX-License-Identifier: GPL-2.0-or-later
# runtrial/lib.sh — shared by the Run tests. Source it after setting RUNCALL.
#
# Builds on durability/lib.sh (the daemon's namespace, live, oracle, S0 and
# S1 of ruleset "one", wait_live, outcome, wait_crash, finish). The files
# that Run installs are under $ETC, a test directory that the config's
# [run] keys allow-list; the host's /etc is never named.
#
#   files_setup            $ETC with its old files; $TMP/F_OLD and $TMP/F_NEW
#                          the listings (path, type, mode, sha256) of the
#                          tree before and as Run must leave it; $TMP/new/
#                          the new contents; snapshots $TMP/seed.fwg (live,
#                          from `fwguard save`) and $TMP/result.fwg (S0 and
#                          the change in a scratch namespace)
#   files_listing          the listing of $ETC now
#   files_are OLD|NEW MSG  $ETC is exactly that listing, or fail
#   run_trial TIMEOUT      Run with the four file changes and the two sysctl
#                          changes; output in $TMP/run.out
#   FILE_ARGS              those changes, as run-call's arguments
#   SYSCTLS                the sysctl changes (RUN_CALL_SYSCTLS): two network
#                          sysctls of the daemon's namespace, never the host's
#   sysctls_listing        their values in the daemon's namespace now
#   sysctls_are OLD|NEW MSG  they are as before, or as the trial sets them
#   host_sysctls_unchanged the host namespace's values are as at the start
# files_are checks the sysctls too (they are one step with the files), but
# with ONLY_FILES=1.
. "$SRCDIR/tests/e2e/durability/lib.sh"

ETC=$TMP/etc
# Every test ends by checking that the host's network sysctls are untouched.
eval "durability_$(declare -f finish)"
finish() {
        host_sysctls_unchanged
        durability_finish
}
# The allow-list of the test: an overlay directory and a private file.
daemon_config "[run]" "overlay_dirs = $ETC/ufw" "private_files = $ETC/default/ufw"

files_listing() {
        (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
                if [ -L "$f" ]; then
                        echo "$f link $(readlink "$f")"
                elif [ -f "$f" ]; then
                        echo "$f file $(stat -c %a "$f") $(sha256sum < "$f" | cut -d' ' -f1)"
                else
                        echo "$f $(stat -c '%F %a' "$f")"
                fi
        done)
}

# Values that the daemon's namespace does not start with (nor the host's,
# most likely), inside lib/netsysctl.h's list.
SYSCTLS="net/ipv4/tcp_fin_timeout=37 net/ipv4/conf/default/log_martians=1"
SYSCTL_KEYS="net/ipv4/tcp_fin_timeout net/ipv4/conf/default/log_martians net/ipv4/tcp_syncookies"

sysctls_listing() {
        local k
        for k in $SYSCTL_KEYS; do
                echo "$k $(N cat "/proc/sys/$k")"
        done
}

sysctls_are() {
        sysctls_listing > "$TMP/SY_now"
        same "$TMP/SY_$1" "$TMP/SY_now" "$2: the sysctls are not $1"
}

host_sysctls_unchanged() {
        local k
        for k in $SYSCTL_KEYS; do
                echo "$k $(cat "/proc/sys/$k")"
        done > "$TMP/SY_host_now"
        same "$TMP/SY_HOST" "$TMP/SY_host_now" "the host's sysctls changed"
}

sysctls_setup() {
        local k
        for k in $SYSCTL_KEYS; do
                echo "$k $(cat "/proc/sys/$k")"
        done > "$TMP/SY_HOST"
        # The daemon's namespace starts from values of its own.
        N sh -c 'echo 61 > /proc/sys/net/ipv4/tcp_fin_timeout; echo 0 > /proc/sys/net/ipv4/conf/default/log_martians'
        sysctls_listing > "$TMP/SY_OLD"
        sed -e 's|^net/ipv4/tcp_fin_timeout .*|net/ipv4/tcp_fin_timeout 37|' \
            -e 's|^net/ipv4/conf/default/log_martians .*|net/ipv4/conf/default/log_martians 1|' \
                "$TMP/SY_OLD" > "$TMP/SY_NEW"
        ! cmp -s "$TMP/SY_OLD" "$TMP/SY_NEW" || fail "the sysctl listings do not differ"
}

files_are() {
        files_listing "$ETC" > "$TMP/F_now"
        same "$TMP/F_$1" "$TMP/F_now" "$2: the files are not $1"
        [ "${ONLY_FILES:-0}" = 1 ] || sysctls_are "$1" "$2"
}

files_setup() {
        mkdir -p "$ETC/ufw" "$ETC/default" "$TMP/new"
        printf '# user.rules, old\n*filter\n:ufw-user-input - [0:0]\nCOMMIT\n' > "$ETC/ufw/user.rules"
        chmod 0640 "$ETC/ufw/user.rules"
        printf 'ENABLED=no\nLOGLEVEL=low\n' > "$ETC/ufw/ufw.conf"
        chmod 0644 "$ETC/ufw/ufw.conf"
        printf '# before.rules: to be deleted\n' > "$ETC/ufw/before.rules"
        chmod 0600 "$ETC/ufw/before.rules"
        printf 'IPV6=yes\nDEFAULT_INPUT_POLICY="ACCEPT"\n' > "$ETC/default/ufw"
        chmod 0644 "$ETC/default/ufw"
        files_listing "$ETC" > "$TMP/F_OLD"

        # The new contents, and the tree as Run must leave it.
        printf '# user.rules, new\n*filter\n:ufw-user-input - [0:0]\n-A ufw-user-input -p tcp --dport 443 -j ACCEPT\nCOMMIT\n' \
                > "$TMP/new/user.rules"
        printf 'ENABLED=yes\nLOGLEVEL=low\n' > "$TMP/new/ufw.conf"
        printf '# after.rules: created by the command\n' > "$TMP/new/after.rules"
        printf 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n' > "$TMP/new/default-ufw"
        cp -a "$ETC" "$TMP/expect"
        install -m 0600 "$TMP/new/user.rules" "$TMP/expect/ufw/user.rules"
        install -m 0644 "$TMP/new/ufw.conf" "$TMP/expect/ufw/ufw.conf"
        install -m 0644 "$TMP/new/after.rules" "$TMP/expect/ufw/after.rules"
        rm "$TMP/expect/ufw/before.rules"
        install -m 0640 "$TMP/new/default-ufw" "$TMP/expect/default/ufw"
        files_listing "$TMP/expect" > "$TMP/F_NEW"
        ! cmp -s "$TMP/F_OLD" "$TMP/F_NEW" || fail "the file listings do not differ"
        FILE_ARGS=("$ETC/ufw/user.rules" 600 "$TMP/new/user.rules"
                   "$ETC/ufw/ufw.conf" 644 "$TMP/new/ufw.conf"
                   "$ETC/ufw/after.rules" 644 "$TMP/new/after.rules"
                   "$ETC/ufw/before.rules" 0 -
                   "$ETC/default/ufw" 640 "$TMP/new/default-ufw")

        # The seed is the live ruleset; the result is what the command made
        # of it, here the change applied with nft in a scratch namespace.
        N "$FWGUARD" save "$TMP/seed.fwg"
        unshare --net -- sh -c 'nft -f "$1" && nft -f "$2" && "$3" save "$4"' sh \
                "$TMP/s0.nft" "$TMP/change.nft" "$FWGUARD" "$TMP/result.fwg"
        chmod 0644 "$TMP/seed.fwg" "$TMP/result.fwg"
        sysctls_setup
}

run_trial() {
        RUN_CALL_SYSCTLS=$SYSCTLS "$RUNCALL" "$FWGD_RUN/bus" "$TMP/seed.fwg" "$TMP/result.fwg" "$1" 0 "${FILE_ARGS[@]}" > "$TMP/run.out" 2>&1
}

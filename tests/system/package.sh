#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: tools/build-deb.sh builds it from the tree
# (dpkg-buildpackage -us -uc -b on a copy), lintian finds no error, it holds
# what fwguard needs (binaries, every unit of units/, the config and the
# login hook as conffiles, man pages, bash completion) and no test points.
# Its fwguard unguard takes exactly the guards out of a ruleset. In a booted
# container: the install enabled the units (the Debian way: postinst,
# deb-systemd-helper) and fwguard status works; removal is refused while a
# trial is pending; purge says what it does with the guards before doing it,
# then removes exactly the guards, the state and the conffiles.
. "$SRCDIR/tests/system/lib/system.sh"
need_root
command -v lintian > /dev/null || fail "lintian is missing: run tools/install-deps.sh"

# ---- build (cached by the tree's hash: the container layer reuses it)
start=$SECONDS
"$SRCDIR/tools/build-deb.sh" "$TMP/deb" > "$TMP/debs" 2> "$TMP/build.log" || {
        cat "$TMP/build.log" >&2; fail "tools/build-deb.sh failed"; }
note "$(cat "$TMP/build.log") (this call: $((SECONDS - start)) s)"
DEB=$(grep '/fwguard_[^/]*\.deb$' "$TMP/debs")
[ -f "$DEB" ] || fail "build-deb.sh printed no fwguard .deb: $(cat "$TMP/debs")"

# ---- lintian: no errors (warnings are printed, for the record)
lintian --allow-root "$TMP"/deb/*.changes > "$TMP/lintian.out" 2>&1 || true
note "lintian: $(grep -c '^E:' "$TMP/lintian.out") errors, $(grep -c '^W:' "$TMP/lintian.out") warnings"
sed 's/^/#   /' "$TMP/lintian.out"
! grep -q '^E:' "$TMP/lintian.out" || fail "lintian reports errors"

# ---- contents
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' > "$TMP/files"
want=(/usr/bin/fwguard /usr/sbin/fwguardd /usr/libexec/fwguard/fwguard-sandbox
      /usr/libexec/fwguard/login-hook /etc/fwguard/fwguard.conf /etc/ssh/sshrc
      /etc/profile.d/fwguard.sh /usr/share/man/man8/fwguard.8.gz /usr/share/man/man8/fwguardd.8.gz
      /usr/share/man/man5/fwguard.conf.5.gz /usr/share/bash-completion/completions/fwguard
      /usr/share/doc/fwguard/copyright)
# Every unit of units/ (NAME or NAME.in, configured by meson).
units=()
for u in "$SRCDIR"/units/*.service* "$SRCDIR"/units/*.socket* "$SRCDIR"/units/*.timer*; do
        [ -e "$u" ] && units+=("$(basename "${u%.in}")")
done
for u in fwguardd.service fwguardd.socket; do
        [[ " ${units[*]} " == *" $u "* ]] || fail "units/$u is missing from the tree"
done
for u in "${units[@]}"; do want+=("/lib/systemd/system/$u"); done
for f in "${want[@]}"; do
        grep -qx "$f" "$TMP/files" || { cat "$TMP/files" >&2; fail "the package lacks $f"; }
done
mkdir "$TMP/ctl"
dpkg-deb -e "$DEB" "$TMP/ctl"
for f in /etc/fwguard/fwguard.conf /etc/ssh/sshrc /etc/profile.d/fwguard.sh; do
        grep -qx "$f" "$TMP/ctl/conffiles" || fail "$f is not a conffile: $(cat "$TMP/ctl/conffiles")"
done
mkdir "$TMP/root"
dpkg-deb -x "$DEB" "$TMP/root"
if grep -aq FWGUARDD_TEST_ "$TMP/root/usr/sbin/fwguardd"; then
        fail "the packaged fwguardd has test points"
fi

# ---- the packaged bash completion completes verbs and each verb's options
complete_words() { # WORD...: what completing the last WORD offers
        PATH=$TMP/root/usr/bin:$PATH bash -c '
                . /usr/share/bash-completion/bash_completion
                . "$1"; shift
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                _fwguard fwguard "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
                printf "%s\n" "${COMPREPLY[@]}"' sh \
                "$TMP/root/usr/share/bash-completion/completions/fwguard" fwguard "$@" 2> /dev/null
}
[ "$(complete_words un)" = unguard ] || fail "completion of 'fwguard un': $(complete_words un)"
complete_words "" | grep -qx confirm || fail "completion of 'fwguard ' lacks confirm"
complete_words apply --t | grep -qx -- --timeout || fail "completion of 'fwguard apply --t' lacks --timeout"
complete_words unguard - | grep -qx -- --force || fail "completion of 'fwguard unguard -' lacks --force"

# A guard as nft lists it (a look-alike without counter is no guard).
GUARD_LINE='counter packets [0-9]* bytes [0-9]* accept comment "fwguard ssh guard"$'

# ---- the packaged fwguard unguard, in a namespace of our own: exactly the guards go
PKG_FWGUARD=$TMP/root/usr/bin/fwguard
export FWGUARD_SANDBOX=$TMP/root/usr/libexec/fwguard/fwguard-sandbox
NSPID=$(netns_holder) || fail "cannot make a network namespace"
at_exit "kill $NSPID"
N() { nsenter -t "$NSPID" -n -- "$@"; }
N ip link set lo up
N ip link add pk0 type veth peer name pk1
N ip addr add 192.0.2.1/24 dev pk0
N ip link set pk0 up
N ip link set pk1 up
printf '[daemon]\nstate_dir = %s\n' "$TMP/state" > "$TMP/fwguard.conf"
cat > "$TMP/rules.nft" <<'EOF'
table inet filter {
        chain input {
                type filter hook input priority 0; policy accept;
                tcp dport 80 accept
                tcp dport 22 accept comment "fwguard ssh guard"
        }
        chain output { type filter hook output priority 0; policy accept; }
}
table ip nat {
        chain pre { type nat hook prerouting priority -100; tcp dport 8080 redirect to :80; }
}
EOF
unshare -n sh -c 'nft -f "$1" && nft -s list ruleset' sh "$TMP/rules.nft" > "$TMP/expected"
N "$PKG_FWGUARD" check "$TMP/rules.nft" -o "$TMP/guarded.fwg" --config "$TMP/fwguard.conf" > "$TMP/check.out" 2>&1 ||
        { cat "$TMP/check.out" >&2; fail "check -o failed"; }
N "$PKG_FWGUARD" restore "$TMP/guarded.fwg"
[ "$(N nft list ruleset | grep -c "$GUARD_LINE")" = 3 ] || fail "set-up: not 3 guards: $(N nft list ruleset)"
N "$PKG_FWGUARD" unguard --config "$TMP/fwguard.conf" --runtime-dir "$TMP/run" > "$TMP/unguard.out" 2>&1 ||
        { cat "$TMP/unguard.out" >&2; fail "unguard failed"; }
N nft -s list ruleset > "$TMP/after"
same "$TMP/expected" "$TMP/after" "the packaged unguard did not remove exactly the guards"
unset FWGUARD_SANDBOX

# ---- installed in a booted Debian 12: postinst enabled every unit with an
# [Install] section (deb-systemd-helper, the Debian way)
installable() { grep -qs '^\[Install\]' "$SRCDIR/units/$1" "$SRCDIR/units/$1.in"; }
ct_boot
for u in "${units[@]}"; do
        installable "$u" || continue
        [ "$(ct systemctl is-enabled "$u")" = enabled ] || fail "$u is not enabled after install"
done
ct fwguard status > "$TMP/status.out" 2>&1 || { cat "$TMP/status.out" >&2; fail "fwguard status fails after install"; }
ct_wait_active fwguardd.service || fail "fwguardd.service is not active after fwguard status"

# The container's ruleset: a table of our own and a change applied, which the
# guard joins. The change is a snapshot applied without pre-flight: this test
# is about the package, not the sandbox.
unshare -n sh -c 'nft -f "$1" && "$2" save "$3"' sh "$TMP/rules.nft" "$PKG_FWGUARD" "$CT_ROOT/root/rules.fwg"
cat > "$CT_ROOT/root/other.nft" <<'EOF'
table inet mine {
        chain input { type filter hook input priority 10; policy accept; tcp dport 443 accept; }
}
EOF
ct nft -f /root/other.nft
ct fwguard apply --no-preflight --timeout 600 /root/rules.fwg > "$TMP/apply.out" 2>&1 || { cat "$TMP/apply.out" >&2; fail "apply failed"; }
ct_nft > "$TMP/trial.nft"
grep -q "$GUARD_LINE" "$TMP/trial.nft" || fail "set-up: the trial has no guard"

# Removal during a trial: refused, the package and the trial stay.
rc=0
ct dpkg -r fwguard > "$TMP/remove.out" 2>&1 || rc=$?
[ $rc != 0 ] || { cat "$TMP/remove.out" >&2; fail "dpkg -r went ahead during a pending trial"; }
grep -q "a trial is pending" "$TMP/remove.out" || { cat "$TMP/remove.out" >&2; fail "the refusal does not say why"; }
[ "$(ct dpkg-query -W -f='${db:Status-Status}' fwguard)" = installed ] ||
        fail "the package is not installed after a refused removal: $(ct dpkg-query -W -f='${Status}' fwguard)"
ct_nft > "$TMP/still.nft"
same "$TMP/trial.nft" "$TMP/still.nft" "a refused removal changed the ruleset"
[ "$(ct_status "['state']")" = armed ] || fail "the trial is not armed after a refused removal"

# Confirmed by a new login (the login hook), then purged.
ct_ssh -- true
ct_wait_idle 30 || fail "the trial was not confirmed by a new login"
ct_nft > "$TMP/confirmed.nft"
ct dpkg --purge fwguard > "$TMP/purge.out" 2>&1 || { cat "$TMP/purge.out" >&2; fail "dpkg --purge failed"; }
sed 's/^/#   /' "$TMP/purge.out"
said=$(grep -n -m1 "removing the SSH guard rules" "$TMP/purge.out" | cut -d: -f1) || true
done_at=$(grep -n -m1 "guards are out of the live ruleset" "$TMP/purge.out" | cut -d: -f1) || true
[ -n "$said" ] && [ -n "$done_at" ] && [ "$said" -lt "$done_at" ] ||
        fail "purge did not say what it does with the guards before doing it"
# The live ruleset is the confirmed one without its guards: the guards'
# lines go, every other line stays.
grep -v "$GUARD_LINE" "$TMP/confirmed.nft" | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/' > "$TMP/want.nft"
ct_nft | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/' > "$TMP/purged.nft"
same "$TMP/want.nft" "$TMP/purged.nft" "purge did not remove exactly the guards"
for f in /usr/bin/fwguard /etc/fwguard/fwguard.conf /etc/ssh/sshrc /var/lib/fwguard; do
        [ ! -e "$CT_ROOT$f" ] || fail "$f is still there after purge"
done
ct_ssh -- true || fail "no new ssh login after purge"
note "ok"

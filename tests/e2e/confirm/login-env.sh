# SPDX-License-Identifier: GPL-2.0-or-later
# login-env.sh — confirm-env.sh with the login hooks "installed" and two
# throwaway users, all for sshd's eyes only: sshd runs in a mount namespace
# of its own (sshenv.sh's SSHENV_MOUNTNS) where
#   /etc/ssh/sshrc, /etc/profile.d/fwguard.sh   the build's hooks/ files
#   PREFIX/libexec/fwguard/login-hook           (PREFIX as the build set it,
#   PREFIX/bin/fwguard -> $FWGUARD               normally /usr/local)
#   /run/fwguard                                 this test's daemon ($FWGD_RUN)
#   /etc/passwd, /etc/group, /etc/shadow         the host's users (no
#                                                passwords) plus:
#     fwgadmin  uid 4242, member of the admin group (sudo), not root
#     fwgplain  uid 4243, no group of interest
#   /etc/pam.d/su        su to root needs no password for the admin group
#                        (pam_wheel trust), as sudo would for a sudoer
# Every user's home is under $TMP/home (root's too), so that a test can give
# one a ~/.ssh/rc. The host's own files are never written.
#
#   set_shell USER SHELL    that user's login shell from now on
#   set_ssh_rc USER yes|no  give the user a ~/.ssh/rc (sshd then skips sshrc)
#   login_tty USER OUT      an interactive login with a terminal (ssh -tt,
#                           no command): its shell types `echo @@END` and
#                           exits; all it printed goes to OUT (\r removed)
#   hook_lines OUT          the lines of OUT that the hook printed
#   ssh_as USER CMD...      a NEW non-interactive login as USER runs CMD
#   login_env_up            trial_env_up for these users
. "$SRCDIR/tests/e2e/confirm/confirm-env.sh"

: "${BUILDDIR:?BUILDDIR must point to the build directory}"
HOOKS=$BUILDDIR/hooks
HOOK_BIN=$(sed -n 's/^fwguard=//p' "$HOOKS/login-hook")
HOOK_LIBEXEC=$(sed -n 's|^[[:space:]]*/bin/sh \(.*\)/login-hook >&2$|\1|p' "$HOOKS/sshrc")
HOOK_PREFIX=${HOOK_BIN%/bin/fwguard}
case $HOOK_PREFIX in
/usr/local|/opt/*) ;;
*) fail "the build's prefix is $HOOK_PREFIX: the test shadows it for sshd, which only /usr/local or /opt/* allow" ;;
esac
[ -d "$HOOK_PREFIX" ] || fail "$HOOK_PREFIX does not exist: nothing to bind the hooks on"
case $HOOK_LIBEXEC in
"$HOOK_PREFIX"/*) ;;
*) fail "the hook is in $HOOK_LIBEXEC, outside $HOOK_PREFIX" ;;
esac

ADMIN_GROUP=sudo
ADMIN_GID=$(getent group "$ADMIN_GROUP" | cut -d: -f3)
[ -n "$ADMIN_GID" ] || fail "the host has no group $ADMIN_GROUP (the daemon looks the admin group up there)"

ETC=$TMP/etc
HOMES=$TMP/home
mkdir -p "$ETC/ssh" "$ETC/profile.d" "$ETC/pam.d" "$HOMES" "$TMP/prefix/bin" "$TMP/prefix/${HOOK_LIBEXEC#"$HOOK_PREFIX"/}"
cp "$HOOKS/sshrc" "$ETC/ssh/sshrc"
cp /etc/ssh/ssh_config "$ETC/ssh/" 2>/dev/null || true
[ ! -e /etc/ssh/moduli ] || cp /etc/ssh/moduli "$ETC/ssh/"
cp "$HOOKS/fwguard.sh" "$ETC/profile.d/fwguard.sh"
cp "$HOOKS/login-hook" "$TMP/prefix/${HOOK_LIBEXEC#"$HOOK_PREFIX"/}/login-hook"
ln -s "$FWGUARD" "$TMP/prefix/bin/fwguard"

# root's home moves to $HOMES/root; no account has a password.
awk -F: -v OFS=: -v home="$HOMES" '$1 == "root" { $6 = home "/root" } $1 !~ /^fwg/ { print }' /etc/passwd > "$ETC/passwd"
cat >> "$ETC/passwd" <<EOF
fwgadmin:x:4242:4242:fwguard test admin:$HOMES/fwgadmin:/bin/bash
fwgplain:x:4243:4243:fwguard test user:$HOMES/fwgplain:/bin/bash
EOF
awk -F: -v OFS=: -v g="$ADMIN_GROUP" '$1 == g { $4 = $4 ($4 == "" ? "" : ",") "fwgadmin" } $1 !~ /^fwg/ { print }' \
        /etc/group > "$ETC/group"
printf 'fwgadmin:x:4242:\nfwgplain:x:4243:\n' >> "$ETC/group"
cut -d: -f1 "$ETC/passwd" | sed 's/$/:*:19000:0:99999:7:::/' > "$ETC/shadow"
chmod 0644 "$ETC/passwd" "$ETC/group"
chmod 0640 "$ETC/shadow"
cat > "$ETC/pam.d/su" <<'EOF'
auth       sufficient pam_rootok.so
auth       sufficient pam_wheel.so trust use_uid group=sudo
auth       required   pam_deny.so
account    required   pam_permit.so
session    required   pam_permit.so
EOF
for u in root fwgadmin fwgplain; do
        mkdir -p "$HOMES/$u/.ssh"
done
chown -R 4242:4242 "$HOMES/fwgadmin"
chown -R 4243:4243 "$HOMES/fwgplain"
chmod 0755 "$HOMES" "$HOMES"/*

mkdir -p "$FWGD_RUN"
export SSHENV_MOUNTNS=1
SSHENV_BINDS="$ETC/ssh=/etc/ssh $ETC/profile.d=/etc/profile.d $ETC/passwd=/etc/passwd $ETC/group=/etc/group"
SSHENV_BINDS="$SSHENV_BINDS $ETC/shadow=/etc/shadow $ETC/pam.d/su=/etc/pam.d/su"
SSHENV_BINDS="$SSHENV_BINDS $TMP/prefix=$HOOK_PREFIX $FWGD_RUN=/run/fwguard"

# trial_env_up, and the users' sshd must read the authorized keys as the user.
login_env_up() {
        chmod 0711 "$SSHENV_DIR"
        trial_env_up
        chmod 0644 "$SSHENV_DIR/authorized_keys"
}

# Rewritten in place: the bind mount holds the inode.
set_shell() {
        awk -F: -v OFS=: -v u="$1" -v sh="$2" '$1 == u { $7 = sh } { print }' "$ETC/passwd" > "$TMP/passwd.new"
        cat "$TMP/passwd.new" > "$ETC/passwd"
}

set_ssh_rc() {
        local rc=$HOMES/$1/.ssh/rc
        if [ "$2" = yes ]; then echo 'true' > "$rc"; else rm -f "$rc"; fi
}

login_tty() {
        # Typed at once; the terminal keeps it until the shell reads it. The
        # echo of `echo @@EN""D` is not the line `@@END`.
        printf 'echo @@EN""D\nexit\n' |
                _ssh -tt -o ControlMaster=no -o ControlPath=none -p 22 "$1@192.0.2.1" > "$2.raw" 2>&1
        local rc=$?
        tr -d '\r' < "$2.raw" > "$2"
        [ $rc = 0 ] || { echo "sshd said:"; tail -n 5 "$SSHENV_DIR/sshd.log"; } >> "$2"
        return $rc
}

hook_lines() { grep 'fwguard' "$1" || true; }

ssh_as() {
        local user=$1
        shift
        _ssh -o ControlMaster=no -o ControlPath=none -p 22 "$user@192.0.2.1" "$@"
}

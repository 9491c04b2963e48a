# SPDX-License-Identifier: GPL-2.0-or-later
# /etc/profile.d/fwguard.sh, installed by fwguard: for users whose ~/.ssh/rc
# keeps sshd from running /etc/ssh/sshrc, confirm a pending trial from
# their login shell. SSH_CONNECTION only says that this may be an SSH login
# worth asking about; fwguardd proves it (or not) from the kernel's view.
# sshd runs /etc/ssh/sshrc unless the user has ~/.ssh/rc: when sshrc ran
# the hook already, running it again would repeat a refusal.
if [ -n "${SSH_CONNECTION:-}" ] && [ -r @LIBEXECDIR@/login-hook ]; then
        if [ -e "${HOME:-/nonexistent}/.ssh/rc" ] || ! grep -qs '@LIBEXECDIR@/login-hook' /etc/ssh/sshrc; then
                /bin/sh @LIBEXECDIR@/login-hook >&2
        fi
fi

# SPDX-License-Identifier: GPL-2.0-or-later
# /etc/profile.d/fwguard.sh, installed by fwguard: for users whose ~/.ssh/rc
# keeps sshd from running /etc/ssh/sshrc, confirm a pending trial from
# their login shell. SSH_CONNECTION only says that this may be an SSH login
# worth asking about; fwguardd proves it (or not) from the kernel's view.
# After sshrc already confirmed, nothing is pending and this is silent.
if [ -n "${SSH_CONNECTION:-}" ] && [ -r @LIBEXECDIR@/login-hook ]; then
        /bin/sh @LIBEXECDIR@/login-hook >&2
fi

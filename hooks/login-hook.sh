#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# fwguard login hook: confirm a pending trial from a new SSH login.
#
# Run by /etc/ssh/sshrc (every SSH login whatever the user's shell, unless
# the user has a ~/.ssh/rc) and sourced by /etc/profile.d/fwguard.sh (the
# fallback for those users' login shells). Whether this login proves
# anything is for fwguardd to decide from the kernel's view of the
# connection; nothing here is trusted. `fwguard confirm --auto` is silent
# and exits 0 when no trial is pending, the daemon does not run or the user
# may not confirm, so running it twice in one login is harmless. It writes
# only to stderr: stdout may be an scp or sftp stream.
fwguard=@BINDIR@/fwguard
[ -x "$fwguard" ] || exit 0
if command -v timeout > /dev/null 2>&1; then
        timeout 20 "$fwguard" confirm --auto < /dev/null
else
        "$fwguard" confirm --auto < /dev/null
fi
exit 0

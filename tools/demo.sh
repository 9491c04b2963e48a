#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh — install the build dependencies, build fwguard, and show what it
# does, with a real sshd, without touching this host's firewall: everything
# happens in two private network namespaces joined by a veth pair.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }
tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
FWGUARD=$PWD/build/cli/fwguard
export FWGUARD_SANDBOX=$PWD/build/sandbox/fwguard-sandbox     # not installed: the build's

. tests/lib/sshenv.sh
trap sshenv_down EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
login() { if ssh_login; then echo "new ssh login: WORKS"; else echo "new ssh login: FAILS (locked out)"; fi; }

step "A server namespace with a real sshd at 192.0.2.1, a client at 192.0.2.2"
sshenv_up
W=$SSHENV_DIR
srv nft -f - <<'EON'
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                iif "lo" accept
                tcp dport { 22, 80, 443 } accept
        }
}
EON
srv nft list ruleset
login

step "fwguard save: an exact snapshot of the server's ruleset"
srv "$FWGUARD" save "$W/before.fwg"
ls -l "$W/before.fwg"

cat > "$W/locking.nft" <<'EON'
flush ruleset
table inet filter {
        chain input {
                type filter hook input priority filter; policy drop;
                ct state established,related accept
                tcp dport { 80, 443 } accept
        }
}
EON
step "fwguard check: would this file (only 80 and 443 allowed) lock SSH out?"
srv "$FWGUARD" check "$W/locking.nft" || echo "(exit $?: check refuses it, and says what blocks SSH)"

step "fwguard check -o: the same file with the SSH guard, proven in the sandbox"
srv "$FWGUARD" check "$W/locking.nft" -o "$W/guarded.fwg" > /dev/null || true
"$FWGUARD" show "$W/guarded.fwg"

step "Applied raw (as nft -f would), the file locks SSH out"
srv nft -f "$W/locking.nft"
login

step "fwguard restore: back to the snapshot, atomically, in one transaction"
srv "$FWGUARD" restore "$W/before.fwg"
srv nft list ruleset
login

step "fwguard show: the snapshot as nft text (loaded in a private namespace)"
"$FWGUARD" show "$W/before.fwg"
echo
echo "Demo done: the host's own ruleset was never touched."

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# install-deps.sh — install what fwguard needs to build and test (Debian 12).
set -euo pipefail
PKGS=(
        meson ninja-build pkg-config gcc clang python3
        libnftnl-dev libmnl-dev libnftables-dev libsystemd-dev zlib1g-dev libinih-dev libjansson-dev
        nftables iptables ufw iproute2 util-linux openssh-server openssh-client
        scdoc bash-completion
        build-essential debhelper dpkg-dev fakeroot lintian systemd systemd-container debootstrap
)
missing=()
for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "Installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

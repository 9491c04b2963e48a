# SPDX-License-Identifier: GPL-2.0-or-later
# container.sh — a Debian 12 machine under a real systemd, for the system
# tests. Source it after tests/lib/common.sh.
#
# The machine is a systemd-nspawn container booted from three layers:
#   1. a minimal Debian 12 root made by debootstrap, cached in
#      /var/cache/fwguard-tests (keyed by the package list), so CI downloads
#      it once per machine;
#   2. the fwguard .deb of this tree installed on top (tools/build-deb.sh,
#      cached by the tree's hash), kept in BUILDDIR/system;
#   3. the test's own writable layer, under its TMP.
# It runs in a network namespace made for it, joined by a veth pair to a
# client namespace, so nothing touches the host's network: the container is
# 198.51.100.1 (its link is eth0), the client 198.51.100.2. A reboot replaces
# the container's namespace with a fresh one, as a real reboot loses the
# kernel's ruleset, and keeps the filesystem.
#
# API: ct_boot, ct, ct_ssh, ct_session_open, ct_session_alive, ct_reboot,
# ct_wait_active, ct_journal_has, ct_stop (see each below).

: "${BUILDDIR:?BUILDDIR must point to the build tree}"

CT_CACHE=${FWGUARD_TEST_CACHE:-/var/cache/fwguard-tests}
CT_SUITE=bookworm
# What the machine needs besides fwguard's own dependencies (the .deb pulls
# nothing: dpkg -i runs offline, so its libraries are here too).
CT_PACKAGES=systemd,systemd-sysv,dbus,openssh-server,nftables,iproute2,iptables,ufw,procps,python3-minimal,libnftnl11,libmnl0,libnftables1,libsystemd0,libinih1,libjansson4,zlib1g
CT_ADDR=198.51.100.1
CL_ADDR=198.51.100.2

ct_need() {
        local t
        for t in systemd-nspawn debootstrap ssh ssh-keygen; do
                command -v "$t" > /dev/null || fail "$t is missing: run tools/install-deps.sh"
        done
}

# The mirror apt uses here, so the root comes from where the machine's
# packages come from.
ct_mirror() {
        local m
        m=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
        [ -n "$m" ] || m=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
        echo "${m:-http://deb.debian.org/debian}"
}

# Layer 1: the cached root, made once (under a lock; a half-made root is
# never renamed into place).
ct_base_root() {
        local key dir tmp
        key=$(echo "$CT_SUITE $CT_PACKAGES" | sha256sum | cut -c1-12)
        dir=$CT_CACHE/$CT_SUITE-$key
        mkdir -p "$CT_CACHE"
        exec {lock}> "$CT_CACHE/.lock"
        flock "$lock"
        if [ ! -d "$dir" ]; then
                tmp=$dir.tmp.$$
                rm -rf "$tmp"
                note "debootstrap of $CT_SUITE into $dir (once per machine)" >&2
                debootstrap --variant=minbase --include="$CT_PACKAGES" "$CT_SUITE" "$tmp" "$(ct_mirror)" \
                        > "$CT_CACHE/debootstrap.log" 2>&1 || {
                        tail -20 "$CT_CACHE/debootstrap.log" >&2
                        rm -rf "$tmp"
                        fail "debootstrap failed (log: $CT_CACHE/debootstrap.log)"
                }
                mv "$tmp" "$dir"
        fi
        exec {lock}>&-
        echo "$dir"
}

ct_mount() { # LOWER... -> mounts $CT_DIR/root over the given layers, top first
        local lower
        lower=$(IFS=:; echo "$*")
        mkdir -p "$CT_DIR/upper" "$CT_DIR/work" "$CT_DIR/root"
        mount -t overlay overlay -o "lowerdir=$lower,upperdir=$CT_DIR/upper,workdir=$CT_DIR/work" "$CT_DIR/root"
}

# Layer 2: the package installed into the cached root, with what every test
# shares: a client key in root's authorized_keys, a persistent journal.
ct_package_layer() {
        local base=$1 debdir=$BUILDDIR/system/deb layer hash m
        mkdir -p "$BUILDDIR/system"
        exec {lock}> "$BUILDDIR/system/.lock"
        flock "$lock"
        # Only this tree's package: an older build may differ in name.
        rm -rf "$debdir"
        "$SRCDIR/tools/build-deb.sh" "$debdir" > "$BUILDDIR/system/build-deb.log" 2>&1 || {
                tail -30 "$BUILDDIR/system/build-deb.log" >&2
                fail "tools/build-deb.sh failed (log: $BUILDDIR/system/build-deb.log)"
        }
        hash=$(cat "$debdir"/*.deb | sha256sum | cut -c1-12)
        layer=$BUILDDIR/system/layer-$hash
        if [ ! -d "$layer" ]; then
                m=$BUILDDIR/system/mnt.$$
                rm -rf "$m"
                mkdir -p "$m"
                (
                        CT_DIR=$m
                        rc=0
                        ct_mount "$base"
                        mkdir -p "$m/root/opt/deb" "$m/root/var/log/journal" "$m/root/root/.ssh"
                        echo fwguard-ct > "$m/root/etc/hostname"
                        [ -f "$BUILDDIR/system/id_ed25519" ] ||
                                ssh-keygen -q -t ed25519 -N '' -f "$BUILDDIR/system/id_ed25519"
                        install -m 600 "$BUILDDIR/system/id_ed25519.pub" "$m/root/root/.ssh/authorized_keys"
                        chmod 700 "$m/root/root/.ssh"
                        systemd-nspawn -q -D "$m/root" --register=no --keep-unit -M "fwgs-pkg-$$" \
                                --bind-ro="$debdir:/opt/deb" -- sh -c 'dpkg -i /opt/deb/*.deb' \
                                > "$BUILDDIR/system/dpkg.log" 2>&1 || rc=$?
                        umount "$m/root"
                        [ $rc = 0 ] || { tail -30 "$BUILDDIR/system/dpkg.log" >&2; exit 1; }
                ) || { rm -rf "$m"; fail "installing the package failed (log: $BUILDDIR/system/dpkg.log)"; }
                rm -rf "$m/work"
                mv "$m/upper" "$layer"
                rm -rf "$m"
        fi
        exec {lock}>&-
        echo "$layer"
}

ct_in() { ip netns exec "$CL_NS" "$@"; }

# A fresh namespace for the container, and the client's end of its link.
ct_net() {
        ip netns del "$CT_NS" 2> /dev/null || true
        ip netns del "$CL_NS" 2> /dev/null || true
        ip netns add "$CT_NS"
        ip netns add "$CL_NS"
        ip -n "$CL_NS" link add vc0 type veth peer name eth0 netns "$CT_NS"
        ip -n "$CL_NS" addr add "$CL_ADDR/24" dev vc0
        ip -n "$CL_NS" link set vc0 up
        ip -n "$CL_NS" link set lo up
}

ct_start() {
        : > "$CT_DIR/console.log"
        systemd-nspawn -q -b -D "$CT_DIR/root" --register=no --keep-unit -M "$CT_NAME" \
                --console=read-only --capability=CAP_NET_ADMIN \
                --network-namespace-path="/run/netns/$CT_NS" >> "$CT_DIR/console.log" 2>&1 &
        CT_NSPAWN=$!
        local i
        CT_PID=
        for i in $(seq 300); do
                # nspawn's first child only sets up, then the container's
                # PID 1 takes its place: wait for systemd itself.
                CT_PID=$(cat "/proc/$CT_NSPAWN/task/$CT_NSPAWN/children" 2> /dev/null | awk '{ print $1 }')
                [ -n "$CT_PID" ] && [ "$(cat "/proc/$CT_PID/comm" 2> /dev/null)" = systemd ] &&
                        [ "$(readlink "/proc/$CT_PID/ns/pid" 2> /dev/null)" != "$(readlink /proc/self/ns/pid)" ] && break
                CT_PID=
                kill -0 "$CT_NSPAWN" 2> /dev/null || break
                sleep 0.05
        done
        [ -n "$CT_PID" ] || { cat "$CT_DIR/console.log" >&2; fail "the container did not start"; }
        # The address is set from outside: the machine has no network
        # configuration of its own, and must not need one.
        ip -n "$CT_NS" addr add "$CT_ADDR/24" dev eth0
        ip -n "$CT_NS" link set eth0 up
        ip -n "$CT_NS" link set lo up
        # Until systemd listens, systemctl fails at once: ask again.
        local state=
        for i in $(seq 900); do
                state=$(nsenter -t "$CT_PID" -a -- systemctl is-system-running 2> /dev/null) || true
                case "$state" in running | degraded) break ;; esac
                kill -0 "$CT_NSPAWN" 2> /dev/null || break
                sleep 0.1
        done
        case "$state" in
        running) ;;
        degraded) note "container degraded: $(ct systemctl --failed --no-legend --plain | tr '\n' ' ')" ;;
        *) ct_dump; fail "the container did not boot (state: ${state:-none})" ;;
        esac
        for i in $(seq 100); do
                ct_in timeout 2 bash -c "exec 3<>/dev/tcp/$CT_ADDR/22" 2> /dev/null && return 0
                sleep 0.1
        done
        ct_dump
        fail "sshd in the container does not answer on $CT_ADDR:22"
}

# Boot this test's container (see the header).
ct_boot() {
        need_root
        ct_need
        local base layer
        base=$(ct_base_root)
        layer=$(ct_package_layer "$base")
        CT_NAME=fwgs-$$-$RANDOM
        CT_NS=$CT_NAME-s
        CL_NS=$CT_NAME-c
        CT_DIR=$TMP/ct
        CT_KEY=$BUILDDIR/system/id_ed25519
        mkdir -p "$CT_DIR"
        ct_mount "$layer" "$base"
        CT_ROOT=$CT_DIR/root
        at_exit ct_teardown
        ct_net
        ct_start
}

# Run a command as root in the container, with a clean environment.
ct() {
        nsenter -t "$CT_PID" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

# A NEW ssh login from the client namespace: ct_ssh [SSH-OPTIONS] -- CMD...
ct_ssh() {
        local opts=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
        [ "${1:-}" = -- ] && shift
        ct_in ssh -i "$CT_KEY" -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no \
                -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ControlMaster=no -o ControlPath=none \
                -o ServerAliveInterval=2 -o ServerAliveCountMax=3 \
                "${opts[@]}" "root@$CT_ADDR" "$@"
}

# A session opened now and kept: each ct_session_alive sends a line through
# it and waits for the echo.
ct_session_open() {
        mkfifo "$CT_DIR/session.in"
        : > "$CT_DIR/session.out"
        ct_ssh -- 'while read -r l; do echo "echo $l"; done' < "$CT_DIR/session.in" \
                > "$CT_DIR/session.out" 2>&1 &
        CT_SESSION=$!
        exec {CT_SESSION_FD}> "$CT_DIR/session.in"
        CT_SESSION_N=0
        ct_session_alive || fail "the ssh session did not open"
}

ct_session_alive() {
        local i
        CT_SESSION_N=$((CT_SESSION_N + 1))
        echo "ping$CT_SESSION_N" >&"$CT_SESSION_FD" 2> /dev/null || return 1
        for i in $(seq 100); do
                grep -qx "echo ping$CT_SESSION_N" "$CT_DIR/session.out" && return 0
                kill -0 "$CT_SESSION" 2> /dev/null || return 1
                sleep 0.1
        done
        return 1
}

# Power the container off and boot it again; --crash kills it (power loss),
# otherwise it shuts down cleanly. Its network namespace is new afterwards.
ct_reboot() {
        ct_stop "$@"
        ct_net
        ct_start
}

ct_stop() {
        [ -n "${CT_NSPAWN:-}" ] || return 0
        if [ "${1:-}" = --crash ]; then
                kill -KILL "$CT_PID" 2> /dev/null || true
        else
                kill -TERM "$CT_NSPAWN" 2> /dev/null || true
        fi
        local i
        for i in $(seq 300); do
                kill -0 "$CT_NSPAWN" 2> /dev/null || break
                sleep 0.1
        done
        kill -KILL "$CT_NSPAWN" 2> /dev/null || true
        wait "$CT_NSPAWN" 2> /dev/null || true
        CT_NSPAWN=
}

ct_teardown() {
        [ -n "${CT_SESSION:-}" ] && kill "$CT_SESSION" 2> /dev/null
        ct_stop --crash
        umount "$CT_DIR/root" 2> /dev/null || umount -l "$CT_DIR/root" 2> /dev/null || true
        ip netns del "$CT_NS" 2> /dev/null || true
        ip netns del "$CL_NS" 2> /dev/null || true
}

# Wait until UNIT is active (default 30 s).
ct_wait_active() {
        local i
        for i in $(seq $((${2:-30} * 10))); do
                [ "$(ct systemctl is-active "$1" 2> /dev/null)" = active ] && return 0
                sleep 0.1
        done
        ct systemctl status --no-pager "$1" >&2 || true
        return 1
}

# Is there a journal entry with FIELD=VALUE (of UNIT), this boot or an earlier one?
ct_journal_has() {
        local args=(--no-pager -q -o cat "$1")
        [ -n "${2:-}" ] && args+=(-u "$2")
        [ -n "$(ct journalctl "${args[@]}" 2> /dev/null)" ]
}

# On failure: what the machine said.
ct_dump() {
        echo "---- console (last 40 lines)" >&2
        tail -40 "$CT_DIR/console.log" >&2 || true
        echo "---- journal (last 60 lines)" >&2
        ct journalctl --no-pager -q -n 60 >&2 2> /dev/null || true
}

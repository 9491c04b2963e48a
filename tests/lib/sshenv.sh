# SPDX-License-Identifier: GPL-2.0-or-later
# sshenv.sh — a real sshd in a server network namespace and a real ssh client
# in a client namespace, joined by a veth pair. Source it (after common.sh in
# tests; alone in tools/demo.sh). Nothing appears in the host namespace: the
# veth pair is created directly inside the two namespaces.
#
#   sshenv_up           server 192.0.2.1, client 192.0.2.2 (with SSHENV_IPV6=1
#                       also 2001:db8:f::1 / ::2), sshd on $SSHENV_PORTS (default 22)
#   srv CMD...          run in the server namespace
#   cli CMD...          run in the client namespace
#   ssh_login [PORT] [ADDR]   a NEW key login runs `true`; returns ssh's status
#   ssh_session_open    a ControlMaster session (the "old session")
#   ssh_session_alive   is that old session still usable?
#   ssh_run CMD...      a NEW key login runs CMD on the server
#   srv_listen PORT     a TCP listener on PORT in the server namespace
#   reach PORT          can the client open TCP PORT on the server? (1.5 s)
#   sshenv_down         kill everything, delete the namespaces
#
# SSHENV_CONFIG: lines put at the head of sshd_config, where they win over
# the defaults below (sshd takes a keyword's first value): "StrictModes yes".
#
# SSHENV_MOUNTNS=1: sshd runs in a mount namespace of its own, with a
# private copy of /etc (in its private /run) on which each "SRC=DST" of
# $SSHENV_BINDS (space-separated) is bind-mounted, so that its logins see
# test files as /etc/ssh/sshrc, /etc/passwd... while the host's stay
# untouched. The copy keeps the binds when the host replaces a file of its
# /etc by a rename (useradd does, for /etc/passwd). DST must exist, except
# under /etc or /run, where it is made. Without it, sshd sees the host's
# files, as before.

SSHENV_P=${SSHENV_P:-fwg$$x$RANDOM}
SSHENV_SRV=${SSHENV_P}s
SSHENV_CLI=${SSHENV_P}c
SSHENV_DIR=${SSHENV_DIR:-$(mktemp -d /tmp/fwguard-ssh.XXXXXX)}
SSHENV_PORTS=${SSHENV_PORTS:-22}

srv() { ip netns exec "$SSHENV_SRV" "$@"; }
cli() { ip netns exec "$SSHENV_CLI" "$@"; }

sshenv_down() {
        local ns pid
        for ns in "$SSHENV_SRV" "$SSHENV_CLI"; do
                for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
        done
        sleep 0.2
        for ns in "$SSHENV_SRV" "$SSHENV_CLI"; do
                for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
                ip netns del "$ns" 2>/dev/null
        done
        rm -rf "$SSHENV_DIR"
}

sshenv_up() {
        local d=$SSHENV_DIR p
        ip netns add "$SSHENV_SRV"
        ip netns add "$SSHENV_CLI"
        ip link add "${SSHENV_P}v" netns "$SSHENV_SRV" type veth peer name "${SSHENV_P}p" netns "$SSHENV_CLI"
        srv ip addr add 192.0.2.1/24 dev "${SSHENV_P}v"
        cli ip addr add 192.0.2.2/24 dev "${SSHENV_P}p"
        if [ -n "${SSHENV_IPV6:-}" ]; then
                srv ip addr add 2001:db8:f::1/64 dev "${SSHENV_P}v" nodad
                cli ip addr add 2001:db8:f::2/64 dev "${SSHENV_P}p" nodad
        fi
        for ns in srv cli; do $ns ip link set lo up; done
        srv ip link set "${SSHENV_P}v" up
        cli ip link set "${SSHENV_P}p" up
        ssh-keygen -q -t ed25519 -N '' -f "$d/host"
        ssh-keygen -q -t ed25519 -N '' -f "$d/client"
        cp "$d/client.pub" "$d/authorized_keys"
        {
                # First: sshd takes the first value given for a keyword.
                [ -z "${SSHENV_CONFIG:-}" ] || printf '%s\n' "$SSHENV_CONFIG"
                for p in $SSHENV_PORTS; do echo "Port $p"; done
                echo "ListenAddress 0.0.0.0"
                echo "ListenAddress ::"
                cat <<EOC
HostKey $d/host
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOC
        } > "$d/sshd_config"
        # sshd needs /run/sshd; a private tmpfs keeps the host's /run untouched.
        local prefix=() binds=
        if [ "${SSHENV_MOUNTNS:-}" = 1 ]; then
                prefix=(unshare -m --propagation private)
                binds="mkdir /run/etc && cp -a /etc/. /run/etc/ && mount --bind /run/etc /etc &&"
                for p in ${SSHENV_BINDS:-}; do
                        binds="$binds _bind '${p%%=*}' '${p#*=}' &&"
                done
        fi
        srv "${prefix[@]}" sh -c '
_bind() {
        if [ ! -e "$2" ]; then
                case $2 in
                /run/*|/etc/*) if [ -d "$1" ]; then mkdir -p "$2"; else mkdir -p "${2%/*}" && : > "$2"; fi ;;
                *) echo "sshenv: bind target $2 does not exist" >&2; return 1 ;;
                esac
        fi
        mount --bind "$1" "$2"
}
'"mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m0755 /run/sshd && $binds
                exec /usr/sbin/sshd -D -e -f $d/sshd_config" > "$d/sshd.log" 2>&1 &
        for _ in $(seq 50); do [ -s "$d/sshd.pid" ] && break; sleep 0.1; done
        [ -s "$d/sshd.pid" ] || { cat "$d/sshd.log" >&2; return 1; }
}

_ssh() {
        cli ssh -i "$SSHENV_DIR/client" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
                -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=2 \
                -o LogLevel=ERROR "$@"
}

ssh_login() { _ssh -o ControlMaster=no -o ControlPath=none -p "${1:-${SSHENV_PORTS%% *}}" "root@${2:-192.0.2.1}" true; }

ssh_run() { _ssh -o ControlMaster=no -o ControlPath=none -p "${SSHENV_PORTS%% *}" root@192.0.2.1 "$@"; }

ssh_session_open() {
        _ssh -o ControlMaster=yes -o ControlPath="$SSHENV_DIR/cm" -o ControlPersist=120 \
                -p "${SSHENV_PORTS%% *}" -fN root@192.0.2.1
}

ssh_session_alive() { _ssh -o ControlPath="$SSHENV_DIR/cm" -p "${SSHENV_PORTS%% *}" root@192.0.2.1 true; }

# It accepts and closes; it returns once listening, and sshenv_down kills it.
# In a session of its own, as a daemon: a Ctrl-C on the demo is not for it.
srv_listen() {
        srv python3 -c '
import socket, sys, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
if os.fork(): sys.exit(0)
os.setsid()
while True: s.accept()[0].close()' "$1"
}

reach() { cli python3 -c 'import socket, sys; socket.create_connection(("192.0.2.1", int(sys.argv[1])), timeout=1.5)' "$1" 2>/dev/null; }

# SPDX-License-Identifier: GPL-2.0-or-later
# doctor-env.sh — `fwguard doctor` against a real sshd: sshd in a server
# namespace, in a mount namespace of its own (sshenv.sh's SSHENV_MOUNTNS)
# that has a private copy of /etc where
#   /etc/ssh/sshd_config   is the test's sshd config (StrictModes yes,
#                          AuthorizedKeysFile .ssh/authorized_keys), so that
#                          the doctor's `sshd -T` sees what sshd runs with
#   /etc/passwd, group     move root's home to $HOMES/root, which holds the
#                          client's key; fwgdoc (uid and gid 4252) has a home
#                          and a key too
# and, in that copy, no firewall service starts at boot (the host's own
# choices must not leak into the verdicts). The doctor runs in sshd's
# network and mount namespaces; the host's files are never written.
#
#   doctor_env_up          sshd, a holder process in its namespaces (the
#                          doctor still runs there when sshd is stopped)
#   M CMD...               run CMD in sshd's network and mount namespaces
#   doctor OUT [ARGS...]   `fwguard doctor --json` there into OUT.json; sets
#                          DOCTOR_RC; checks the JSON and the exit code
#   finding OUT ID [FIELD] the finding ID of OUT.json (all of it, or FIELD),
#                          fails if absent
#   no_finding OUT ID      fail if OUT.json has the finding ID
#   run_fix OUT ID         run the fix of that finding, in sshd's namespaces
#   login                  a NEW key login as root (sshd's verdict)
. "$SRCDIR/tests/lib/common.sh"
need_root
. "$SRCDIR/tests/lib/sshenv.sh"
at_exit sshenv_down
. "$SRCDIR/tests/lib/daemon.sh"

daemon_config "[daemon]" "state_dir = $FWGD_STATE"
HOMES=$TMP/home
ETC=$TMP/etc
mkdir -p "$HOMES/root/.ssh" "$HOMES/fwgdoc/.ssh" "$ETC"
awk -F: -v OFS=: -v home="$HOMES" '$1 == "root" { $6 = home "/root" } $1 != "fwgdoc" { print }' /etc/passwd > "$ETC/passwd"
echo "fwgdoc:x:4252:4252:fwguard doctor test:$HOMES/fwgdoc:/bin/sh" >> "$ETC/passwd"
# fwgdoc's own group, so that a path of that group is writable by someone
# other than root (Debian's sshd accepts a group-writable path whose group
# holds its owner alone).
awk -F: '$1 != "fwgdoc"' /etc/group > "$ETC/group"
echo "fwgdoc:x:4252:" >> "$ETC/group"
chmod 0644 "$ETC/passwd" "$ETC/group"
chmod 0755 "$HOMES" "$HOMES/root" "$HOMES/fwgdoc"
chmod 0700 "$HOMES/root/.ssh" "$HOMES/fwgdoc/.ssh"
chown -R 4252:4252 "$HOMES/fwgdoc"

SSHENV_CONFIG="StrictModes yes
AuthorizedKeysFile .ssh/authorized_keys"
export SSHENV_MOUNTNS=1
SSHENV_BINDS="$ETC/passwd=/etc/passwd $ETC/group=/etc/group $SSHENV_DIR/sshd_config=/etc/ssh/sshd_config"

HOLDER=
M() { nsenter -t "$HOLDER" -m -n -- "$@"; }

doctor_env_up() {
        sshenv_up || fail "cannot start sshd"
        cp "$SSHENV_DIR/client.pub" "$HOMES/root/.ssh/authorized_keys"
        cp "$SSHENV_DIR/client.pub" "$HOMES/fwgdoc/.ssh/authorized_keys"
        chmod 0600 "$HOMES/root/.ssh/authorized_keys" "$HOMES/fwgdoc/.ssh/authorized_keys"
        chown 4252:4252 "$HOMES/fwgdoc/.ssh/authorized_keys"
        # nsenter execs sleep: $! is the holder. sshenv_down kills it with
        # everything else in the server namespace.
        nsenter -t "$(cat "$SSHENV_DIR/sshd.pid")" -m -n -- sleep 600 &
        HOLDER=$!
        for _ in $(seq 50); do
                [ "$(readlink "/proc/$HOLDER/ns/mnt")" = "$(readlink "/proc/$(cat "$SSHENV_DIR/sshd.pid")/ns/mnt")" ] && break
                sleep 0.02
        done
        # The private /etc: no firewall service at boot, whatever the host has.
        M sh -c 'rm -f /etc/systemd/system/*.wants/nftables.service /etc/systemd/system/*.wants/ufw.service \
                /etc/systemd/system/*.wants/firewalld.service /etc/systemd/system/*.wants/docker.service \
                /etc/systemd/system/*.wants/netfilter-persistent.service
                if [ -e /etc/ufw/ufw.conf ]; then sed -i "s/^ENABLED=.*/ENABLED=no/" /etc/ufw/ufw.conf; fi'
        M grep -q "^root:[^:]*:0:0:[^:]*:$HOMES/root:" /etc/passwd || fail "sshd's namespace does not see the test's passwd"
        login || fail "a key login as root fails from the start: $(tail -n 5 "$SSHENV_DIR/sshd.log")"
}

login() { ssh_login; }

doctor() {
        local out=$1
        shift
        DOCTOR_RC=0
        M "$FWGUARD" doctor --config "$FWGD_CONF" --json "$@" > "$out.json" 2> "$out.err" || DOCTOR_RC=$?
        python3 - "$out.json" "$DOCTOR_RC" <<'PY' || fail "doctor --json: $(cat "$out.json" "$out.err")"
import json, sys
findings = json.load(open(sys.argv[1]))
assert isinstance(findings, list), "not an array"
for f in findings:
    assert set(f) == {"id", "severity", "what", "why", "fix"}, f"keys: {sorted(f)}"
    assert f["severity"] in ("info", "warning", "error"), f
    assert all(isinstance(f[k], str) and f[k] for k in ("id", "what", "why")), f
    assert f["fix"] is None or (isinstance(f["fix"], str) and f["fix"]), f
    assert "\n" not in f["what"], f
problems = [f for f in findings if f["severity"] != "info"]
want = 1 if problems else 0
assert int(sys.argv[2]) == want, f"exit {sys.argv[2]}, want {want} with {len(problems)} problem(s)"
PY
}

# findings OUT ID [FIELD]: the findings ID of OUT.json (FIELD, or each as a
# JSON line); status 1 if there are none.
findings() {
        python3 - "$1.json" "$2" "${3:-}" <<'PY'
import json, sys
found = [f for f in json.load(open(sys.argv[1])) if f["id"] == sys.argv[2]]
for f in found:
    print(f[sys.argv[3]] if sys.argv[3] else json.dumps(f))
sys.exit(0 if found else 1)
PY
}

finding() { findings "$@" || fail "no finding $2 in: $(cat "$1.json")"; }

no_finding() { ! findings "$1" "$2" > /dev/null || fail "unexpected finding $2: $(findings "$1" "$2")"; }

run_fix() {
        local fix
        fix=$(finding "$1" "$2" fix)
        note "running the fix of $2: $fix"
        M sh -ec "$fix" || fail "the fix of $2 failed: $fix"
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# doctor.sh — system test 8: `fwguard doctor` on the installed package
# under a real systemd. A freshly booted machine is healthy (exit 0, only
# information). Then each of three lockout causes is reported with its fix,
# the oracle being sshd and the machine themselves, and the fix, run as
# printed, repairs it:
#   a. ssh.service stopped: no new login; sshd-not-running, fixed by the
#      printed `systemctl start ...`;
#   b. root's authorized_keys mode 0666: sshd refuses the key;
#      authorized-keys-refused names the file, fixed by `chmod go-w ...`;
#   c. the state directory full (a filled tmpfs on /var/lib/fwguard, in a
#      private mount namespace inside the container): disk-full names it.
. "$SRCDIR/tests/system/lib/system.sh"
ct_boot
ct_wait_active fwguardd.socket || fail "fwguardd.socket is not active"

# doctor OUT [PREFIX...]: `fwguard doctor --json` in the container (after
# PREFIX, a command that execs the rest) into OUT.json, DOCTOR_RC its exit.
doctor() {
        local out=$1
        shift
        DOCTOR_RC=0
        ct "$@" fwguard doctor --json > "$out.json" 2> "$out.err" || DOCTOR_RC=$?
        python3 - "$out.json" "$DOCTOR_RC" <<'PY' || fail "doctor --json: $(cat "$out.json" "$out.err")"
import json, sys
findings = json.load(open(sys.argv[1]))
for f in findings:
    assert set(f) == {"id", "severity", "what", "why", "fix"}, f
    assert f["severity"] in ("info", "warning", "error"), f
want = 1 if any(f["severity"] != "info" for f in findings) else 0
assert int(sys.argv[2]) == want, f"exit {sys.argv[2]}, want {want}"
PY
}
# field OUT ID FIELD: that field of the finding ID, or fail.
field() {
        python3 - "$1.json" "$2" "$3" <<'PY' || fail "no finding $2: $(cat "$1.json")"
import json, sys
found = [f for f in json.load(open(sys.argv[1])) if f["id"] == sys.argv[2]]
print(found[0][sys.argv[3]]) if found else sys.exit(1)
PY
}
has() { python3 -c 'import json, sys; sys.exit(0 if any(f["id"] == sys.argv[2] for f in json.load(open(sys.argv[1]))) else 1)' "$1.json" "$2"; }
login() { ct_ssh -- true; }
fix() { # OUT ID: run the finding's fix in the container
        local f
        f=$(field "$1" "$2" fix)
        note "fix of $2: $f"
        ct sh -ec "$f" || fail "the fix of $2 failed: $f"
}

note "a freshly booted machine"
login || fail "no login at the start"
doctor "$TMP/healthy"
[ "$DOCTOR_RC" = 0 ] || fail "a fresh machine is not healthy: $(cat "$TMP/healthy.json")"

note "a. ssh.service stopped"
ct systemctl stop ssh.service
login && fail "a new login works with ssh.service stopped"
doctor "$TMP/stopped"
[ "$DOCTOR_RC" = 1 ] || fail "sshd stopped: exit $DOCTOR_RC"
[ "$(field "$TMP/stopped" sshd-not-running fix)" = "systemctl start ssh.service" ] || fail "$(cat "$TMP/stopped.json")"
has "$TMP/stopped" sshd-config-invalid && fail "a stopped sshd is taken for a broken config: $(cat "$TMP/stopped.json")"
fix "$TMP/stopped" sshd-not-running
ct_wait_active ssh.service 10 || fail "ssh.service did not start"
login || fail "no new login after the fix"
doctor "$TMP/started"
has "$TMP/started" sshd-not-running && fail "still reported: $(cat "$TMP/started.json")"

note "b. root's authorized_keys mode 0666"
ct chmod 0666 /root/.ssh/authorized_keys
login && fail "sshd accepts a world-writable authorized_keys"
doctor "$TMP/keys"
[ "$DOCTOR_RC" = 1 ] || fail "bad keys: exit $DOCTOR_RC"
field "$TMP/keys" authorized-keys-refused what |
        grep -qxF "sshd would refuse root's /root/.ssh/authorized_keys: /root/.ssh/authorized_keys is world-writable (mode 0666)" ||
        fail "$(cat "$TMP/keys.json")"
[ "$(field "$TMP/keys" authorized-keys-refused fix)" = "chmod go-w /root/.ssh/authorized_keys" ] || fail "$(cat "$TMP/keys.json")"
fix "$TMP/keys" authorized-keys-refused
login || fail "no new login after the fix"
doctor "$TMP/keys-fixed"
has "$TMP/keys-fixed" authorized-keys-refused && fail "still reported: $(cat "$TMP/keys-fixed.json")"

note "c. the state directory full"
doctor "$TMP/full" unshare -m --propagation private -- sh -ec '
        mount -t tmpfs -o size=4m fwguard-full /var/lib/fwguard
        dd if=/dev/zero of=/var/lib/fwguard/fill bs=64k 2>/dev/null || true
        exec "$@"' sh
[ "$DOCTOR_RC" = 1 ] || fail "full state directory: exit $DOCTOR_RC"
field "$TMP/full" disk-full what | grep -q "^the filesystem of the state directory /var/lib/fwguard (mounted on /var/lib/fwguard) has 0 KiB free" ||
        fail "$(cat "$TMP/full.json")"
field "$TMP/full" disk-full fix | grep -qF "du -xh -d1 /var/lib/fwguard" || fail "$(cat "$TMP/full.json")"
ct findmnt -n /var/lib/fwguard > /dev/null && fail "the tmpfs leaked into the container's mount namespace"
doctor "$TMP/end"
[ "$DOCTOR_RC" = 0 ] || fail "not healthy at the end: $(cat "$TMP/end.json")"
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# sshd.sh — the doctor and sshd itself, each finding checked against sshd's
# own behaviour, and each fix run as printed:
#   - a port added to sshd's config but not yet served: a restart pending,
#     naming both sets; the fix (sshd -t && kill -HUP) makes sshd serve it
#     and a NEW login on the new port works; a guard that fwguard placed for
#     port 22 alone is then named as not covering 2222 (information);
#   - the listener killed while a session is open: "not listening", the
#     sessions counted; the fix starts sshd again and a NEW login works;
#   - every sshd process gone: "not running"; the fix works again.
# Each finding disappears once fixed.
. "$SRCDIR/tests/e2e/doctor/doctor-env.sh"
doctor_env_up
daemon_start ip netns exec "$SSHENV_SRV"
sshd_pid() { cat "$SSHENV_DIR/sshd.pid"; }

note "a guard for port 22, placed by fwguard (check -o, then restore)"
printf 'table inet fw {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n' > "$TMP/fw.nft"
M "$FWGUARD" check "$TMP/fw.nft" -o "$TMP/guarded.fwg" > /dev/null || fail "check -o failed"
M "$FWGUARD" restore "$TMP/guarded.fwg" || fail "restore failed"
grep -q 'tcp dport 22 .*comment "fwguard ssh guard"' <<< "$(srv nft list chain inet fw input)" ||
        fail "no guard in inet fw input"
doctor "$TMP/guarded"
no_finding "$TMP/guarded" guard-ports

note "a port in the config that sshd does not serve yet"
# In place: the bind mount holds the file's inode.
{ echo "Port 2222"; cat "$SSHENV_DIR/sshd_config"; } > "$TMP/sshd_config.new"
cat "$TMP/sshd_config.new" > "$SSHENV_DIR/sshd_config"
ssh_login 2222 && fail "sshd serves 2222 before any restart"
doctor "$TMP/pending"
[ "$DOCTOR_RC" = 1 ] || fail "restart pending: exit $DOCTOR_RC"
what=$(finding "$TMP/pending" ssh-ports-restart-pending what)
case $what in
*"listens on port 22, but its configuration says 22, 2222"*|*"listens on port 22, but its configuration says 2222, 22"*) ;;
*) fail "the finding does not name both sets: $what" ;;
esac
finding "$TMP/pending" ssh-ports-restart-pending fix | grep -q "kill -HUP $(sshd_pid)" || fail "the fix does not restart sshd $(sshd_pid)"
run_fix "$TMP/pending" ssh-ports-restart-pending
for _ in $(seq 50); do ssh_login 2222 && break; sleep 0.1; done
ssh_login 2222 || fail "no login on 2222 after the fix: $(tail -n 5 "$SSHENV_DIR/sshd.log")"
login || fail "no login on 22 after the fix"
doctor "$TMP/restarted"
no_finding "$TMP/restarted" ssh-ports-restart-pending
[ "$DOCTOR_RC" = 0 ] || fail "restarted: exit $DOCTOR_RC: $(cat "$TMP/restarted.json")"
# The guard placed for 22 alone: information, not a problem.
[ "$(finding "$TMP/restarted" guard-ports what)" = \
  "the guard in inet fw input does not cover port 2222 (sshd serves 22, 2222)" ] || fail "$(cat "$TMP/restarted.json")"

note "the listener stops while a session is open"
ssh_session_open || fail "cannot open a session"
kill "$(sshd_pid)"
for _ in $(seq 50); do login || break; sleep 0.1; done
login && fail "sshd still accepts new logins"
ssh_session_alive || fail "the open session died with the listener"
doctor "$TMP/nolisten"
[ "$DOCTOR_RC" = 1 ] || fail "no listener: exit $DOCTOR_RC"
finding "$TMP/nolisten" sshd-not-listening what | grep -Eq "[0-9]+ sshd process(es)? of open sessions" ||
        fail "the sessions are not counted: $(finding "$TMP/nolisten" sshd-not-listening what)"
no_finding "$TMP/nolisten" sshd-not-running
run_fix "$TMP/nolisten" sshd-not-listening
for _ in $(seq 50); do login && break; sleep 0.1; done
login || fail "no NEW login after the fix"
doctor "$TMP/relistening"
no_finding "$TMP/relistening" sshd-not-listening

note "no sshd at all"
for pid in $(ip netns pids "$SSHENV_SRV"); do
        case $(readlink "/proc/$pid/exe") in */sshd|*/sshd-session) kill -9 "$pid" ;; esac
done
for _ in $(seq 50); do login || break; sleep 0.1; done
doctor "$TMP/nosshd"
[ "$DOCTOR_RC" = 1 ] || fail "no sshd: exit $DOCTOR_RC"
finding "$TMP/nosshd" sshd-not-running what | grep -q "sshd is not running" || fail "$(cat "$TMP/nosshd.json")"
no_finding "$TMP/nosshd" sshd-not-listening
run_fix "$TMP/nosshd" sshd-not-running
for _ in $(seq 50); do login && break; sleep 0.1; done
login || fail "no NEW login after the fix"
doctor "$TMP/running"
no_finding "$TMP/running" sshd-not-running
[ "$DOCTOR_RC" = 0 ] || fail "sshd back: exit $DOCTOR_RC: $(cat "$TMP/running.json")"
echo ok

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadman.c — the second dead-man: a transient systemd timer that rolls a trial back without fwguardd
 *
 * fwguardd's own timer dies with fwguardd: a daemon that hangs, or that
 * cannot restart, would leave an unconfirmed change live forever. So each
 * trial also gets a timer that systemd owns, due DEADMAN_GRACE_USEC after
 * the deadline, whose service runs `fwguard deadman ID`: the same rollback
 * through lib/driver, under the same lock, if the trial is still pending.
 *
 * Which clock. The trial's deadline is on CLOCK_BOOTTIME, which systemd's
 * timers do not offer. OnActiveSec= runs on CLOCK_MONOTONIC, which stops
 * while the machine is suspended: the timer would fire late by the time
 * asleep. OnCalendar= runs on CLOCK_REALTIME, which runs through a suspend
 * (the timer fires on resume) but moves with the wall clock: a step forward
 * fires it early, a step back late. The timer has OnCalendar= alone (both
 * would fire it twice: a fired trigger does not disarm the other), because
 * early is harmless: `fwguard deadman` reads the deadline from the trial
 * record and waits on CLOCK_BOOTTIME until it has passed by the grace, so
 * the record is the truth and the timer is only the alarm clock. That also
 * makes a timer that an extension could not move (fwguardd died in
 * between) wait for the new deadline. What is left is a wall clock set back
 * during the trial, which delays the second dead-man by as much. Neither
 * clock survives a reboot (transient units do not): the boot unit's job.
 *
 * The service sees the kernel as fwguardd.service does: with
 * ProtectKernelTunables= (and /proc/sys/net writable, for a Run trial's
 * sysctls). That mount setup hides systemd-nspawn's per-container boot id
 * behind a fresh /proc, so in a container fwguardd records the kernel's
 * boot id, and the dead-man must read the same one to find its trial "of
 * this boot".
 *
 * Names carry the deadline, so that moving a timer is "start the new one,
 * then stop the others of the trial": systemd keeps a stopped transient
 * unit loaded for a while and refuses a new one under its name. A restarted
 * fwguardd arming the same deadline again gets UnitExists, which means
 * "already armed".
 *
 * This file builds the requests; fwguardd sends them (daemon/deadman-units.c),
 * and the tests read them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "deadman.h"
#include "macro.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

int deadman_possible(char *why, size_t whylen) {
        struct stat self, init;
        int r = sd_booted();

        if (r <= 0) {
                snprintf(why, whylen, "PID 1 is not systemd (no /run/systemd/system)");
                return 0;
        }
        if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/1/ns/net", &init) < 0) {
                snprintf(why, whylen, "cannot compare our network namespace with PID 1's: %m");
                return 0;
        }
        if (self.st_dev != init.st_dev || self.st_ino != init.st_ino) {
                snprintf(why, whylen, "fwguardd runs in another network namespace than PID 1, whose systemd "
                         "would run the dead-man in its own namespace and roll back the wrong ruleset");
                return 0;
        }
        return 1;
}

int deadman_unit_name(uint64_t id, uint64_t deadline_boottime_ns, const char *suffix, char **ret) {
        return asprintf(ret, DEADMAN_UNIT_PREFIX "%" PRIu64 "-%" PRIu64 ".%s", id,
                        deadline_boottime_ns / 1000000, suffix) < 0 ? -ENOMEM : 0;
}

int deadman_due(const DeadmanUnit *u, uint64_t now_boottime_ns, uint64_t now_realtime_usec, char *cal,
                size_t callen) {
        uint64_t due_ns = u->deadline_boottime_ns + DEADMAN_GRACE_USEC * 1000;
        /* A calendar time already past would never fire: a second at least. */
        uint64_t in_usec = MAX(due_ns > now_boottime_ns ? (due_ns - now_boottime_ns + 999) / 1000 : 0,
                               1000 * 1000ULL);
        time_t sec = (time_t) ((now_realtime_usec + in_usec + 999999) / 1000000);
        struct tm tm;

        if (!gmtime_r(&sec, &tm) || strftime(cal, callen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                return -EINVAL;
        return 0;
}

static int append_exec(sd_bus_message *m, const DeadmanUnit *u) {
        char id[32];
        /* Without a config path, argv ends at its NULL. */
        char *argv[] = { (char *) u->binary, (char *) "deadman", id, (char *) "--state-dir",
                         (char *) u->state_dir, u->config_path ? (char *) "--config" : NULL,
                         (char *) u->config_path, NULL };
        int r;

        snprintf(id, sizeof(id), "%" PRIu64, u->id);
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "ExecStart");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", u->binary);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", false);       /* a failure is not ignored */
        for (int i = 0; r >= 0 && i < 4; i++)   /* (sasb), a(sasb), the variant, (sv) */
                r = sd_bus_message_close_container(m);
        return r;
}

int deadman_start_message(sd_bus *bus, const DeadmanUnit *u, uint64_t now_boottime_ns,
                          uint64_t now_realtime_usec, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *timer = NULL, *service = NULL, *description = NULL;
        char cal[64];
        int r;

        r = deadman_due(u, now_boottime_ns, now_realtime_usec, cal, sizeof(cal));
        if (r < 0)
                return r;
        if (deadman_unit_name(u->id, u->deadline_boottime_ns, "timer", &timer) < 0 ||
            deadman_unit_name(u->id, u->deadline_boottime_ns, "service", &service) < 0 ||
            asprintf(&description, "fwguard: the second dead-man of trial %" PRIu64, u->id) < 0)
                return -ENOMEM;

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", timer, "fail");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sv)", 4,
                                          "Description", "s", description,
                                          "TimersCalendar", "a(ss)", 1, "OnCalendar", cal,
                                          "AccuracyUSec", "t", DEADMAN_ACCURACY_USEC,
                                          /* Once it fired, it goes: it never fires twice. */
                                          "RemainAfterElapse", "b", false);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sa(sv))");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sa(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", service);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", description,
                                          "Type", "s", "oneshot",
                                          /* It may wait for the deadline, and for the
                                           * lock while fwguardd holds it. */
                                          "TimeoutStartUSec", "t", UINT64_MAX,
                                          "ProtectKernelTunables", "b", true,
                                          "ReadWritePaths", "as", 1, "/proc/sys/net");
        if (r >= 0)
                r = append_exec(m, u);
        for (int i = 0; r >= 0 && i < 3; i++)   /* the properties, the aux unit, the aux array */
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int deadman_list_message(sd_bus *bus, uint64_t id, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char pattern[64];
        int r;

        snprintf(pattern, sizeof(pattern), DEADMAN_UNIT_PREFIX "%" PRIu64 "-*.timer", id);
        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "ListUnitsByPatterns");
        if (r >= 0)
                r = sd_bus_message_append(m, "asas", 0, 1, pattern);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int deadman_list_next(sd_bus_message *reply, const char **ret_name) {
        char type;
        int r;

        /* At the start, the array itself is next. */
        r = sd_bus_message_peek_type(reply, &type, NULL);
        if (r > 0 && type == SD_BUS_TYPE_ARRAY)
                r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (r < 0)
                return r;
        return sd_bus_message_read(reply, "(ssssssouso)", ret_name, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL);
}

int deadman_stop_message(sd_bus *bus, const char *unit, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "StopUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

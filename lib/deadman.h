/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadman.h — the second dead-man: a transient systemd timer that rolls a trial back without fwguardd */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

/* The timer is due this long after the trial's deadline, and `fwguard
 * deadman` acts only once that much has passed: fwguardd's own rollback
 * at the deadline comes first. */
#define DEADMAN_GRACE_SEC 3
#define DEADMAN_GRACE_USEC (DEADMAN_GRACE_SEC * 1000 * 1000ULL)
/* How late systemd may fire the timer (its default is a minute). */
#define DEADMAN_ACCURACY_USEC (100 * 1000ULL)
#define DEADMAN_UNIT_PREFIX "fwguard-deadman-"

/* Can this process arm a dead-man that systemd runs? Only if PID 1 is
 * systemd and we run in its network namespace: the service runs in PID 1's,
 * and would roll back another namespace's ruleset than ours. 1 yes; 0 no,
 * and @why says why. Whether the system bus answers shows when a timer is
 * armed. */
int deadman_possible(char *why, size_t whylen);

/* The units of the dead-man of trial @id for the deadline
 * @deadline_boottime_ns, "fwguard-deadman-ID-MS.timer" (@suffix "timer")
 * and ".service" (MS: the deadline in ms on CLOCK_BOOTTIME). A new deadline
 * gets new names: systemd refuses to start a transient unit under the name
 * of one that it has not unloaded yet. */
int deadman_unit_name(uint64_t id, uint64_t deadline_boottime_ns, const char *suffix, char **ret);

typedef struct DeadmanUnit {
        uint64_t id;                    /* the trial */
        uint64_t deadline_boottime_ns;  /* its deadline */
        const char *binary;             /* fwguard, an absolute path */
        const char *state_dir;          /* fwguardd's */
        const char *config_path;        /* NULL: fwguard's default */
} DeadmanUnit;

/* When the timer of @u is due, now being @now_boottime_ns (CLOCK_BOOTTIME)
 * and @now_realtime_usec: its OnCalendar= ("YYYY-MM-DD HH:MM:SS UTC", the
 * whole second after the deadline and the grace, and a second from now at
 * the earliest; @cal holds at least 32 bytes). */
int deadman_due(const DeadmanUnit *u, uint64_t now_boottime_ns, uint64_t now_realtime_usec, char *cal,
                size_t callen);

/* systemd's StartTransientUnit for the timer of @u, with its service (a
 * oneshot running `BINARY deadman ID --state-dir DIR [--config FILE]`, with
 * fwguardd.service's view of /proc) as an aux unit, on @bus. */
int deadman_start_message(sd_bus *bus, const DeadmanUnit *u, uint64_t now_boottime_ns,
                          uint64_t now_realtime_usec, sd_bus_message **ret);

/* ListUnitsByPatterns for the timers of trial @id's dead-men. */
int deadman_list_message(sd_bus *bus, uint64_t id, sd_bus_message **ret);

/* The next unit name in a ListUnitsByPatterns reply: 1 and *ret_name, or 0
 * at its end. */
int deadman_list_next(sd_bus_message *reply, const char **ret_name);

/* StopUnit of @unit. */
int deadman_stop_message(sd_bus *bus, const char *unit, sd_bus_message **ret);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadman-units.c — fwguardd's side of the second dead-man: its transient timers, over the system bus
 *
 * lib/deadman builds the requests; this file sends them. Every call is
 * asynchronous, on one system bus connection attached to the loop: a slow
 * or hung systemd (or dbus-daemon) must never hold up fwguardd's own
 * dead-man timer or its watchdog pings. One connection also keeps the
 * order: systemd handles the calls of a connection one after the other, so
 * "start the new timer" is always handled before the "stop this trial's
 * timers" of a confirmation that follows it.
 *
 * The connection is opened for the first trial (an idle daemon never talks
 * to systemd), and again after it broke. A failure to arm is logged and
 * changes nothing else: the trial keeps fwguardd's own timer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "deadman-units.h"
#include "deadman.h"
#include "log.h"
#include "manager.h"

typedef struct Call {
        Manager *manager;
        uint64_t id;            /* the trial */
        char *unit;             /* the timer a start or a stop is about */
        char *keep;             /* a listing's timer that stays (NULL: none) */
} Call;

static void call_free(void *p) {
        Call *c = p;

        free(c->unit);
        free(c->keep);
        free(c);
}

static int system_bus(Manager *m, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (m->system_bus && sd_bus_is_open(m->system_bus) > 0) {
                *ret = m->system_bus;
                return 0;
        }
        m->system_bus = sd_bus_close_unref(m->system_bus);
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                sd_bus_close_unref(bus);
                return r;
        }
        *ret = m->system_bus = bus;
        return 0;
}

/* Send @msg; @handler gets the answer with @c, which the call owns from
 * here on (also when the connection goes before an answer comes). */
static int send_call(sd_bus_message *msg, sd_bus_message_handler_t handler, Call *c) {
        sd_bus_slot *slot = NULL;
        int r;

        r = sd_bus_call_async(NULL, &slot, msg, handler, c, 0);
        if (r < 0) {
                call_free(c);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, call_free);
        r = sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return r;
}

static Call *call_new(Manager *m, uint64_t id, const char *unit, const char *keep) {
        Call *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        *c = (Call) { .manager = m, .id = id, .unit = unit ? strdup(unit) : NULL, .keep = keep ? strdup(keep) : NULL };
        if ((unit && !c->unit) || (keep && !c->keep)) {
                call_free(c);
                return NULL;
        }
        return c;
}

static int on_stopped(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Call *c = userdata;

        /* Gone already: it fired, or systemd unloaded it. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                log_warning("trial %" PRIu64 ": cannot stop the dead-man timer %s: %s", c->id, c->unit, e->message);
        return 0;
}

static int on_listed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Call *c = userdata;
        const char *name;
        int r;

        if (e) {
                log_warning("trial %" PRIu64 ": cannot list its dead-man timers to stop them: %s", c->id, e->message);
                return 0;
        }
        while ((r = deadman_list_next(reply, &name)) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
                Call *stop;
                int k;

                if (streq_ptr(name, c->keep))
                        continue;
                k = deadman_stop_message(sd_bus_message_get_bus(reply), name, &msg);
                if (k >= 0)
                        k = (stop = call_new(c->manager, c->id, name, NULL)) ? send_call(msg, on_stopped, stop)
                                                                            : -ENOMEM;
                if (k < 0)
                        log_warning("trial %" PRIu64 ": cannot stop the dead-man timer %s: %s", c->id, name,
                                    strerror(-k));
        }
        if (r < 0)
                log_warning("trial %" PRIu64 ": cannot read systemd's list of its dead-man timers: %s", c->id,
                            strerror(-r));
        return 0;
}

/* Stop the dead-man timers of trial @id but @keep. */
static void sweep(Manager *m, uint64_t id, const char *keep) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        sd_bus *bus;
        Call *c;
        int r;

        r = system_bus(m, &bus);
        if (r >= 0)
                r = deadman_list_message(bus, id, &msg);
        if (r >= 0)
                r = (c = call_new(m, id, NULL, keep)) ? send_call(msg, on_listed, c) : -ENOMEM;
        if (r < 0)
                log_warning("trial %" PRIu64 ": cannot stop its dead-man timers: %s", id, strerror(-r));
}

static int on_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Call *c = userdata;

        /* UnitExists: this very deadline's timer, armed before a restart. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists")) {
                log_warning("trial %" PRIu64 ": the second dead-man could not be armed (%s): %s; "
                            "fwguardd's own timer still runs", c->id, c->unit, e->message);
                return 0;
        }
        log_info("trial %" PRIu64 ": the second dead-man is armed: %s", c->id, c->unit);
        sweep(c->manager, c->id, c->unit);
        return 0;
}

void deadman_units_init(Manager *m) {
        char why[256] = "";

        m->deadman = deadman_possible(why, sizeof(why)) > 0;
        if (m->deadman)
                log_info("second dead-man: each trial also arms a transient systemd timer "
                         "(" DEADMAN_UNIT_PREFIX "ID-*.timer) running `fwguard deadman`");
        else
                log_event(LOG_NOTICE, NULL, 0, "no second dead-man: %s", why);
}

void deadman_units_arm(Manager *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        _cleanup_free_ char *timer = NULL;
        const DeadmanUnit u = {
                .id = m->trial->id,
                .deadline_boottime_ns = m->trial->deadline_boottime_ns,
                .binary = FWGUARD_BINARY,
                .state_dir = m->state_dir,
                .config_path = m->config->path,
        };
        sd_bus *bus;
        Call *c;
        int r;

        if (!m->deadman)
                return;
        r = deadman_unit_name(u.id, u.deadline_boottime_ns, "timer", &timer);
        if (r >= 0)
                r = system_bus(m, &bus);
        if (r >= 0)
                r = deadman_start_message(bus, &u, now_nsec(CLOCK_BOOTTIME), now_usec(CLOCK_REALTIME), &msg);
        if (r >= 0)
                r = (c = call_new(m, u.id, timer, NULL)) ? send_call(msg, on_started, c) : -ENOMEM;
        if (r < 0)
                log_warning("trial %" PRIu64 ": the second dead-man could not be armed: %s; "
                            "fwguardd's own timer still runs", u.id, strerror(-r));
}

void deadman_units_cancel(Manager *m, uint64_t id) {
        if (m->deadman)
                sweep(m, id, NULL);
}

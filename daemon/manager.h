/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager.h — fwguardd's one Manager: the event loop, the bus socket, the pending trial */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "driver.h"
#include "job.h"
#include "macro.h"
#include "monitor.h"
#include "nl.h"
#include "trial.h"

#define MANAGER_PATH "/org/fwguard/Manager"
#define MANAGER_INTERFACE "org.fwguard.Manager1"

/* D-Bus error names; fwguard(8) maps them to exit codes. */
#define FWGUARD_ERROR_REFUSED "org.fwguard.Error.Refused"               /* exit 3 */
#define FWGUARD_ERROR_NOTHING_PENDING "org.fwguard.Error.NothingPending" /* exit 1 */
#define FWGUARD_ERROR_NO_CHANGE "org.fwguard.Error.NoChange"             /* exit 0 */
#define FWGUARD_ERROR_WOULD_DELETE "org.fwguard.Error.WouldDelete"       /* exit 3, or ask */

/* Check and Diff jobs that may run at once (each runs the sandbox). */
#define MANAGER_JOBS_MAX 4

typedef struct Connection Connection;

typedef struct Manager {
        sd_event *event;
        Nl *nl;                         /* the loop's own: commits and rollbacks */
        char *state_dir;
        char *runtime_dir;
        char *socket_path;
        Config *config;
        int listen_fd;
        bool socket_passed;             /* listen_fd is systemd's (fwguardd.socket), not ours to remove */
        sd_event_source *listen_source;
        sd_id128_t server_id;
        Connection *connections;        /* doubly linked, freed on disconnect */
        unsigned n_connections;

        Trial *trial;                   /* the pending trial (ARMED), NULL when idle; the record on
                                         * disk is the truth (manager_sync()) */
        sd_event_source *deadline;      /* its dead-man timer, CLOCK_BOOTTIME */
        sd_event_source *status_tick;   /* refreshes STATUS= while a trial is armed */
        sd_event_source *sync;          /* manager_sync() soon: the record no longer matches */
        bool deadman;                   /* trials get a second dead-man (deadman-units.h) */
        sd_bus *system_bus;             /* ... through systemd, over this; NULL until the first */

        Job *apply;                     /* the Apply/RollbackTo being prepared */
        sd_bus_message *apply_msg;      /* ... and the call it answers */
        unsigned apply_attempt;         /* redone after another writer got in */
        uint64_t apply_timeout_sec;
        bool apply_no_preflight;
        bool apply_allow_delete;
        struct ReportCall *reports[MANAGER_JOBS_MAX];   /* Check and Diff calls being answered */
        Monitor *monitor;               /* the guard monitor; NULL when the config turns it off */
} Manager;

/* A Manager for @state_dir (NULL: the config's) and @runtime_dir, with
 * @config_path read (NULL: the default path). Nothing listens yet. */
int manager_new(const char *state_dir, const char *runtime_dir, const char *config_path,
                Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Listen on RUNTIME_DIR/bus, recover the state directory, and say READY.
 * Logs what goes wrong. */
int manager_start(Manager *m);

/* Run the loop until SIGTERM or SIGINT. Returns 0 or a negative errno. */
int manager_run(Manager *m);

/* Open the state directory under its lock (waiting a few seconds at most). */
int manager_store(Manager *m, TrialStore **ret, char *err, size_t errlen);

/* manager_store(), and m->trial brought up to date with the record: another
 * process (the second dead-man, `fwguard deadman`) may have ended or
 * changed the trial since fwguardd last looked. > 0: a trial is pending,
 * m->trial is it, and *ret is the open store; 0: nothing is pending
 * (*ret NULL), and @note says so in a sentence if the trial was ended by
 * another process ("" otherwise); < 0: @err says what failed. */
int manager_sync(Manager *m, TrialStore **ret, char *note, size_t notelen, char *err, size_t errlen);

/* The pending trial as the record says, read without the lock, when that
 * is not m->trial any more (1: *ret, NULL if none is pending; a sync is
 * scheduled). 0: m->trial is right, or nothing is pending. For answers that
 * must not wait for the lock (Status). */
int manager_peek(Manager *m, Trial **ret);

/* Start the dead-man timer for m->trial (an expired deadline fires at once),
 * and say so in STATUS=. */
int manager_arm(Manager *m);
/* The trial ended: stop its timer, forget it, and say "idle". */
void manager_disarm(Manager *m);

/* Roll m->trial back (the dead-man, or a request) and announce it.
 * -ESRCH: another process ended it meanwhile (@err says how; m->trial is
 * NULL now). */
int manager_rollback(Manager *m, const char *why, RollbackResult *ret, char *err, size_t errlen);

/* Emit a signal of MANAGER_INTERFACE on every connection. */
void manager_emit(Manager *m, const char *member, const char *types, ...);

/* The bus interface (methods.c). */
void manager_reports_free(Manager *m);
extern const sd_bus_vtable manager_vtable[];
/* May the caller with these credentials call @member? 1 yes, 0 no, or a
 * negative errno. */
int manager_may_call(Manager *m, const char *member, sd_bus_creds *creds);
/* Is @member root's alone (Run), whatever the admin group? */
bool manager_root_only(const char *member);

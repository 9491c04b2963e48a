/* SPDX-License-Identifier: GPL-2.0-or-later */
/* trial.h — what apply, rollback --to and run share: printing an armed trial and watching it */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <jansson.h>

#include "runfiles.h"   /* RUN_FLAG_*: the flags of Apply, RollbackTo and Run */

typedef enum Outcome {
        OUTCOME_PENDING,
        OUTCOME_CONFIRMED,
        OUTCOME_ROLLED_BACK,
} Outcome;

typedef struct Watch {
        uint64_t id;
        Outcome outcome;
        char reason[256];
} Watch;

/* Match the Confirmed and RolledBack signals into @w. Call it before the
 * call that arms the trial, so that a rollback right after the answer is
 * not missed. Returns an exit code. */
int cli_trial_watch_signals(sd_bus *bus, Watch *w);

/* The answer (t trial_id, t deadline, s changes, as warnings) of a call that
 * armed a trial: print it (@what names the change; with @json, the fields
 * of @json_extra, if any, are added to the object), and with @wait watch
 * it until it is confirmed or rolled back. Returns an exit code. */
int cli_trial_armed(sd_bus *bus, const char *what, sd_bus_message *reply, bool json, json_t *json_extra,
                    bool wait, Watch *w);

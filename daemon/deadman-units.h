/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadman-units.h — fwguardd's side of the second dead-man: its transient timers, over the system bus */
#pragma once

#include <stdint.h>

typedef struct Manager Manager;

/* Decide once whether trials get a second dead-man (lib/deadman.h's
 * deadman_possible()), and log the decision and why. */
void deadman_units_init(Manager *m);

/* Arm the second dead-man of m->trial for its deadline, then stop the
 * trial's other dead-man timers (an earlier deadline's). Asynchronous: a
 * failure is logged, and the trial keeps fwguardd's own timer. */
void deadman_units_arm(Manager *m);

/* Stop every dead-man timer of trial @id (it ended). Asynchronous too. */
void deadman_units_cancel(Manager *m, uint64_t id);

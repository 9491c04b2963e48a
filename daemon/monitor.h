/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.h — the guard monitor: changes that other writers make to the ruleset */
#pragma once

#include "macro.h"

typedef struct Monitor Monitor;
struct Manager;

/* Watch the ruleset of @m's network namespace (unless the config's
 * [monitor] enabled = no: then *ret is NULL): the nftables events, and
 * systemd's jobs for sshd's units when a system bus is there. The first
 * check of the live ruleset starts at once. */
int monitor_new(struct Manager *m, Monitor **ret);
Monitor *monitor_free(Monitor *mon);

/* Act on the events queued now, at once (NULL: nothing to do). fwguardd
 * calls it, with the state directory's lock held, before it forgets a trial
 * that the second dead-man ended: that rollback's removal of guards must be
 * seen while the trial is still known, or its guards would come back. */
void monitor_catch_up(Monitor *mon);
DEFINE_TRIVIAL_CLEANUP_FUNC(Monitor *, monitor_free);

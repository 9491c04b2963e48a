/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rollback.h — what undoing a trial's tables must write, and whether it did */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "batch.h"
#include "merge.h"
#include "ruleset.h"

/* The rollback target of a trial that changed the tables @touched from @s0
 * to @s1 (S1', as committed), now that they are @live: each touched table
 * as merge_three_way(S0, S1', live) makes it, so that what other writers
 * changed in those tables during the trial is carried onto S0. Tables that
 * are not in @touched are not in the target (they are never written). What
 * cannot be carried over is appended to @conflicts. */
int rollback_plan(const Ruleset *s0, const Ruleset *s1, const Ruleset *live,
                  const TableRef *touched, size_t n_touched, Ruleset **ret_target,
                  MergeConflicts *conflicts);

/* Are the tables @refs names the same in @a and @b, absent ones included?
 * Counters and the remaining time of set elements do not count. 1 yes,
 * 0 no, or a negative errno. */
int rollback_tables_equal(const Ruleset *a, const Ruleset *b, const TableRef *refs, size_t n_refs);

/* The conflicts as text for people, one line each; "" when there are none. */
int rollback_conflicts_text(const MergeConflicts *conflicts, char **ret);

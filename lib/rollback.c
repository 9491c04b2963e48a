/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rollback.c — the rollback target of a trial, by a three-way merge per touched table
 *
 * The target is computed again at every attempt, from the live ruleset of
 * that moment: a rollback that was interrupted, or whose batch lost a race
 * with another writer, plans from what is live now, and merging a table that
 * already is at its target gives the same target again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "diff.h"
#include "macro.h"
#include "rollback.h"

int rollback_plan(const Ruleset *s0, const Ruleset *s1, const Ruleset *live,
                  const TableRef *touched, size_t n_touched, Ruleset **ret_target,
                  MergeConflicts *conflicts) {
        _cleanup_(ruleset_freep) Ruleset *target = NULL;
        int r;

        r = ruleset_new(&target);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_touched; i++) {
                const TableRef *ref = &touched[i];
                RsTable *merged;

                r = merge_three_way(ruleset_find_table(s0, ref->family, ref->name),
                                    ruleset_find_table(s1, ref->family, ref->name),
                                    ruleset_find_table(live, ref->family, ref->name),
                                    target, &merged, conflicts);
                if (r < 0)
                        return r;
        }
        *ret_target = TAKE_PTR(target);
        return 0;
}

int rollback_tables_equal(const Ruleset *a, const Ruleset *b, const TableRef *refs, size_t n_refs) {
        for (size_t i = 0; i < n_refs; i++) {
                int r = diff_tables_equal(ruleset_find_table(a, refs[i].family, refs[i].name),
                                          ruleset_find_table(b, refs[i].family, refs[i].name), 0);
                if (r <= 0)
                        return r;
        }
        return 1;
}

int rollback_conflicts_text(const MergeConflicts *conflicts, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < conflicts->n; i++)
                fprintf(f, "%s\n", conflicts->items[i].text);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

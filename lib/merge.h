/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge.h — three-way merge of one table: carry another writer's changes onto a target */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "diff.h"
#include "ruleset.h"

typedef enum MergeConflictKind {
        MERGE_CONFLICT_BOTH_CHANGED,    /* the other writer changed what ours changed too */
        MERGE_CONFLICT_IN_CREATED,      /* ... changed something inside what ours created */
        MERGE_CONFLICT_IN_DELETED,      /* ... re-created or changed what ours deleted */
        MERGE_CONFLICT_DELETED_CHANGED, /* ... deleted what ours changed */
        MERGE_CONFLICT_REFERENCE,       /* ... left a reference the target cannot satisfy */
        _MERGE_CONFLICT_KIND_MAX,
        _MERGE_CONFLICT_KIND_INVALID = -EINVAL,
} MergeConflictKind;

const char *merge_conflict_kind_to_string(MergeConflictKind k);

/* One change of theirs that the target does not carry. */
typedef struct MergeConflict {
        MergeConflictKind kind;
        DiffObject object;      /* what the change is about */
        char *where;            /* "inet filter chain input", "ip nat set blocked", "ip6 t" */
        char *text;             /* the whole sentence, for people */
} MergeConflict;

typedef struct MergeConflicts {
        MergeConflict *items;
        size_t n;
} MergeConflicts;

void merge_conflicts_clear(MergeConflicts *c);

/* Three-way merge of one table: @base (before ours), @ours (what we made of
 * it) and @theirs (what it is now; it started from @ours). NULL means the
 * table is absent on that side; non-NULL tables must have one family and name.
 *
 * The target is @base plus the changes @theirs made relative to @ours. A
 * change of theirs that touches something ours changed too is a conflict: it
 * is appended to @conflicts, and the target keeps @base's version there.
 * Objects nobody else changed are taken from @base as they are, counters
 * included; objects only theirs changed are taken from @theirs.
 *
 * The target table is added to @into (which must not hold a table of that
 * name) and returned in @ret_target, or @ret_target is NULL when the target
 * is that the table does not exist. On failure nothing is added anywhere. */
int merge_three_way(const RsTable *base, const RsTable *ours, const RsTable *theirs,
                    Ruleset *into, RsTable **ret_target, MergeConflicts *conflicts);

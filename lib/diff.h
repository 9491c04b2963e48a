/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.h — comparison and object-level difference of rulesets */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "canon.h"
#include "ruleset.h"

typedef enum DiffObject {
        DIFF_TABLE,
        DIFF_CHAIN,
        DIFF_SET,
        DIFF_ELEM,
        DIFF_OBJ,
        DIFF_FLOWTABLE,
        DIFF_RULE,
        _DIFF_OBJECT_MAX,
        _DIFF_OBJECT_INVALID = -EINVAL,
} DiffObject;

typedef enum DiffChange {
        DIFF_ADDED,
        DIFF_REMOVED,
        DIFF_CHANGED,
        _DIFF_CHANGE_MAX,
        _DIFF_CHANGE_INVALID = -EINVAL,
} DiffChange;

const char *diff_object_to_string(DiffObject o);
const char *diff_change_to_string(DiffChange c);

/* A position that is not there: an unmatched rule, a side without the object. */
#define DIFF_NONE SIZE_MAX

/* One object that differs. Rules have no identity but their content and
 * place: a changed rule is one removed and one added. */
typedef struct DiffEntry {
        DiffChange change;
        DiffObject object;
        const char *name;       /* the object's; for a rule its chain's, for an element its set's */
        uint32_t obj_type;      /* objects: NFT_OBJECT_* */
        void *a, *b;            /* the libnftnl object on each side, NULL where absent
                                 * (struct nftnl_set_elem * for elements) */
        size_t a_pos, b_pos;    /* rules: index in the chain on each side, or DIFF_NONE */
} DiffEntry;

typedef struct Diff {
        DiffEntry *entries;
        size_t n, cap;
} Diff;

/* Equal as @flags says (CANON_COUNTERS: state counts too)? NULL is an absent
 * table. Returns 1 if equal, 0 if not, or a negative errno. */
int diff_tables_equal(const RsTable *a, const RsTable *b, unsigned flags);

/* The tables that were created, deleted or changed from @a to @b: @a's in
 * its order, then those only in @b. Free with table_refs_free(). */
int diff_changed_tables(const Ruleset *a, const Ruleset *b, unsigned flags,
                        TableRef **ret, size_t *ret_n);

/* What turns table @a into table @b, object by object (NULL: the table is
 * absent, and all it holds is added or removed). Set elements are matched by
 * key, rules by content and order within their chain. Entries point into @a
 * and @b, which must outlive the Diff. */
int diff_tables(const RsTable *a, const RsTable *b, unsigned flags, Diff **ret);
Diff *diff_free(Diff *d);
static inline void diff_freep(Diff **d) { if (*d) diff_free(*d); }

/* The same on indexed tables and parts of them, appending to @d. */
int diff_canon_tables(const CanonTable *a, const CanonTable *b, Diff *d);
int diff_chains(const CanonChain *a, const CanonChain *b, Diff *d);
int diff_sets(const CanonSet *a, const CanonSet *b, Diff *d);

/* A longest common subsequence of @a and @b (Myers' O((N+M)D) algorithm in
 * linear space). @a_match[i] is the index in @b that a[i] is matched with, or
 * DIFF_NONE; @b_match likewise. Returns the number of matches. */
int diff_lcs(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
             size_t *a_match, size_t *b_match);

/* Match the rules of two chains (NULL: absent, no rules) by content and order.
 * The arrays are allocated (one entry per rule), the caller frees them. */
int diff_rules(const CanonChain *a, const CanonChain *b, size_t **ret_a_match, size_t **ret_b_match);

/* The entry in words, one line: "added rule #3 to chain input: ...". */
int diff_entry_describe(const DiffEntry *e, char **ret);
/* An object in words, as in diff_entry_describe(): "rule #3 of chain
 * input (comment \"ssh\"): [ ... ]", "element 0a000001 of set blocked". */
int diff_describe(DiffObject object, const char *name, uint32_t obj_type, const void *obj,
                  size_t pos, char **ret);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge.c — three-way merge of one table: carry another writer's changes onto a target
 *
 * The rollback of a trial is a merge: base is the table before the trial,
 * ours what the trial made of it, theirs what it is now. The trial's own
 * changes (base → ours) are undone, and whatever other writers did meanwhile
 * (ours → theirs) is kept. Seen from ours, these are two descendants, base
 * and theirs, of one ancestor, and the target is their merge.
 *
 * Everything is decided on canonical keys (canon.c), with counters ignored:
 * traffic is not a change. Per object, with b, o, t its version on each side
 * (or absent):
 *      o == t          theirs did nothing here: b, exactly as it was, counters too
 *      b == o          only theirs changed it: t
 *      t == b          both ended up alike: b
 *      otherwise       a conflict: reported, and b stays
 * Objects are tables, chains, sets, objects and flowtables by name, and set
 * elements by key. Containers first: a chain with its rules, a set with its
 * elements, a table with everything. When one side created or deleted a
 * container (or changed a set's definition, which its elements depend on),
 * changes inside it cannot be carried piecemeal: if the other side touched it
 * too, the container stays as in base and the other side's changes in it
 * are conflicts.
 *
 * Rules have no identity but their content and place. The rules of a chain
 * are matched by LCS (diff.c) between ours and base, and between ours and
 * theirs. Theirs' deletions of rules the trial left alone are applied; its
 * additions go in after the nearest rule they followed in theirs that the
 * target has (else at the head, or the tail if they were at theirs' tail).
 * Additions in a place where the trial replaced rules (theirs edited what
 * the trial wrote), or that re-add a rule the trial deleted, are conflicts
 * and convergences respectively.
 *
 * Last, references: a rule or element kept from theirs may jump to a chain,
 * look up a set or name an object that the target lacks (the trial created
 * it), and one kept from base may need something that theirs deleted. The
 * former is left out, the latter brought back from base; both are
 * conflicts. This repeats until nothing changes: every step moves something
 * towards base, and base is consistent.
 *
 * The target is built by feeding NEW messages of the chosen objects through
 * ruleset_add_msg() into a fresh Ruleset: that copies exactly, through the
 * validated path, and needs no clone functions that libnftnl lacks.
 * Anonymous sets go with their rule and are renamed when their kernel-given
 * name is taken in the target.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "canon.h"
#include "diff.h"
#include "macro.h"
#include "merge.h"
#include "nlschema.h"

enum { B, O, T, NONE = -1 };    /* sides: base, ours, theirs */

static const char *const kind_names[_MERGE_CONFLICT_KIND_MAX] = {
        [MERGE_CONFLICT_BOTH_CHANGED] = "both-changed",
        [MERGE_CONFLICT_IN_CREATED] = "in-created",
        [MERGE_CONFLICT_IN_DELETED] = "in-deleted",
        [MERGE_CONFLICT_DELETED_CHANGED] = "deleted-changed",
        [MERGE_CONFLICT_REFERENCE] = "reference",
};

const char *merge_conflict_kind_to_string(MergeConflictKind k) {
        return k >= 0 && k < _MERGE_CONFLICT_KIND_MAX ? kind_names[k] : NULL;
}

void merge_conflicts_clear(MergeConflicts *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->items[i].where);
                free(c->items[i].text);
        }
        free(c->items);
        *c = (MergeConflicts) {};
}

/* A rule (CanonRule) or an element (CanonElem) of the target, and its side. */
typedef struct Part {
        const void *obj;
        int side;
} Part;

/* One named object across the three sides, and what the target holds. */
typedef struct Slot {
        const CanonItem *x[3];  /* CanonChain and CanonSet start with their item */
        const CanonItem *pick;  /* NULL: absent from the target */
        int side;
        Part *parts;            /* chains: rules, sets: elements */
        size_t n_parts, cap_parts;
} Slot;

typedef struct Slots {
        Slot *v;
        size_t n;
} Slots;

typedef struct Merge {
        const CanonTable *ct[3];
        const RsTable *any;
        int whole;              /* the whole table from this side, NONE: object by object */
        int table_side;
        Slots chains, sets, objs, flowtables;
        MergeConflicts conflicts;
} Merge;

static const CanonChain *chain_of(const CanonItem *i) { return (const CanonChain *) i; }
static const CanonSet *set_of(const CanonItem *i) { return (const CanonSet *) i; }

static const CanonItem *slot_any(const Slot *s) {
        return s->x[B] ? s->x[B] : s->x[O] ? s->x[O] : s->x[T];
}

static void slots_done(Slots *ss) {
        for (size_t i = 0; i < ss->n; i++)
                free(ss->v[i].parts);
        free(ss->v);
        *ss = (Slots) {};
}

static void merge_done(Merge *m) {
        slots_done(&m->chains);
        slots_done(&m->sets);
        slots_done(&m->objs);
        slots_done(&m->flowtables);
        merge_conflicts_clear(&m->conflicts);
}

static int part_push(Slot *s, const void *obj, int side) {
        if (s->n_parts == s->cap_parts) {
                size_t cap = s->cap_parts ? s->cap_parts * 2 : 16;
                Part *p = realloc(s->parts, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                s->parts = p;
                s->cap_parts = cap;
        }
        s->parts[s->n_parts++] = (Part) { obj, side };
        return 0;
}

/* ------------------------------------------------------------------ conflicts */

_printf_(5, 6)
static int conflict(Merge *m, MergeConflictKind kind, DiffObject object, const char *where, const char *fmt, ...) {
        const char *fam = family_name(m->any->family);
        MergeConflict c = { .kind = kind, .object = object };
        _cleanup_free_ char *body = NULL;
        MergeConflict *items;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&body, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        items = realloc(m->conflicts.items, (m->conflicts.n + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        m->conflicts.items = items;
        if (asprintf(&c.where, "%s %s%s%s", fam, m->any->name, where ? " " : "", where ? where : "") < 0)
                return -ENOMEM;
        if (asprintf(&c.text, "table %s %s: %s", fam, m->any->name, body) < 0) {
                free(c.where);
                return -ENOMEM;
        }
        items[m->conflicts.n++] = c;
        return 0;
}

/* Theirs' changes inside a container that the merge keeps as in base.
 * @container is "chain input", "set blocked", or NULL for the table. */
static int conflict_changes(Merge *m, MergeConflictKind kind, const char *container, const Diff *d, bool removals) {
        const char *what = container ? container : "the table";

        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *desc = NULL;
                int r;

                if (d->entries[i].change == DIFF_REMOVED && !removals)
                        continue;
                r = diff_entry_describe(&d->entries[i], &desc);
                if (r < 0)
                        return r;
                switch (kind) {
                case MERGE_CONFLICT_IN_CREATED:
                        r = conflict(m, kind, d->entries[i].object, container,
                                     "%s was created by the trial, and another writer %s; not carried over", what, desc);
                        break;
                case MERGE_CONFLICT_IN_DELETED:
                        r = conflict(m, kind, d->entries[i].object, container,
                                     "%s was deleted by the trial, and another writer re-created it: %s; not carried over", what, desc);
                        break;
                default:
                        r = conflict(m, kind, d->entries[i].object, container,
                                     "the trial changed %s, and another writer %s; not carried over", what, desc);
                        break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef int (*diff_fn)(const void *a, const void *b, Diff *d);

static int diff_chain_items(const void *a, const void *b, Diff *d) { return diff_chains(a, b, d); }
static int diff_set_items(const void *a, const void *b, Diff *d) { return diff_sets(a, b, d); }
static int diff_table_items(const void *a, const void *b, Diff *d) { return diff_canon_tables(a, b, d); }

/* A container (table, chain or set) that both sides touched, where one of
 * them created, deleted or redefined it: base stays, theirs' changes in it
 * are reported. */
static int conflict_container(Merge *m, const void *x[3], const char *container, DiffObject object, diff_fn diff) {
        Diff d = {};
        int r;

        if (!x[T])
                return conflict(m, MERGE_CONFLICT_DELETED_CHANGED, object, container,
                                "the trial changed %s, and another writer deleted it; it stays as before the trial",
                                container ? container : "the table");
        /* What theirs did; if the trial deleted it, what theirs has beyond base. */
        r = diff(x[O] ? x[O] : x[B], x[T], &d);
        if (r >= 0)
                r = conflict_changes(m, !x[B] ? MERGE_CONFLICT_IN_CREATED : !x[O] ? MERGE_CONFLICT_IN_DELETED :
                                     MERGE_CONFLICT_BOTH_CHANGED, container, &d, x[B] && x[O]);
        free(d.entries);
        return r;
}

/* The kind of a conflict on one object, from who has it. */
static MergeConflictKind leaf_kind(const void *b, const void *o, const void *t) {
        return !b ? MERGE_CONFLICT_IN_CREATED : !o ? MERGE_CONFLICT_IN_DELETED :
               !t ? MERGE_CONFLICT_DELETED_CHANGED : MERGE_CONFLICT_BOTH_CHANGED;
}

static int conflict_leaf(Merge *m, DiffObject object, const char *where, const char *desc,
                         const void *b, const void *o, const void *t) {
        switch (leaf_kind(b, o, t)) {
        case MERGE_CONFLICT_IN_CREATED:
                return conflict(m, MERGE_CONFLICT_IN_CREATED, object, where,
                                "%s was created by the trial, and another writer changed it; not carried over", desc);
        case MERGE_CONFLICT_IN_DELETED:
                return conflict(m, MERGE_CONFLICT_IN_DELETED, object, where,
                                "%s was deleted by the trial, and another writer made a new one; not carried over", desc);
        case MERGE_CONFLICT_DELETED_CHANGED:
                return conflict(m, MERGE_CONFLICT_DELETED_CHANGED, object, where,
                                "the trial changed %s, and another writer deleted it; it stays as before the trial", desc);
        default:
                return conflict(m, MERGE_CONFLICT_BOTH_CHANGED, object, where,
                                "the trial changed %s, and another writer changed it too; it stays as before the trial", desc);
        }
}

/* ------------------------------------------------------------------ per object */

/* Which version the target gets: B, T, or NONE for a conflict (base stays). */
static int pick3(const CanonKey *b, const CanonKey *o, const CanonKey *t) {
        if (canon_key_equal(o, t))
                return B;
        if (canon_key_equal(b, o))
                return T;
        if (canon_key_equal(t, b))
                return B;
        return NONE;
}

static const CanonKey *key_of(const CanonItem *i) { return i ? &i->key : NULL; }

static int item_cmp(const CanonItem *x, const CanonItem *y) {
        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        return strcmp(x->name, y->name);
}

static int item_ptr_cmp(const void *x, const void *y) {
        return item_cmp(*(const CanonItem *const *) x, *(const CanonItem *const *) y);
}

/* @arr: @n objects of @size bytes, each starting with its CanonItem, sorted. */
static const CanonItem *find_item(const void *arr, size_t n, size_t size, const CanonItem *key) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const CanonItem *it = (const CanonItem *) ((const char *) arr + mid * size);
                int c = item_cmp(key, it);

                if (c == 0)
                        return it;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

typedef struct Catalog {
        const void *(*items)(const CanonTable *ct, size_t *ret_n);
        size_t size;
} Catalog;

static const void *chains_of(const CanonTable *ct, size_t *n) { *n = ct ? ct->n_chains : 0; return ct ? ct->chains : NULL; }
static const void *sets_of(const CanonTable *ct, size_t *n) { *n = ct ? ct->n_sets : 0; return ct ? ct->sets : NULL; }
static const void *objs_of(const CanonTable *ct, size_t *n) { *n = ct ? ct->n_objs : 0; return ct ? ct->objs : NULL; }
static const void *flowtables_of(const CanonTable *ct, size_t *n) { *n = ct ? ct->n_flowtables : 0; return ct ? ct->flowtables : NULL; }

static const Catalog chain_catalog = { chains_of, sizeof(CanonChain) };
static const Catalog set_catalog = { sets_of, sizeof(CanonSet) };
static const Catalog obj_catalog = { objs_of, sizeof(CanonItem) };
static const Catalog flowtable_catalog = { flowtables_of, sizeof(CanonItem) };

/* One slot per name that any side has, sorted like the canonical arrays. */
static int slots_build(Merge *m, const Catalog *cat, Slots *ret) {
        _cleanup_free_ const CanonItem **all = NULL;
        size_t total = 0, n = 0;
        Slots ss = {};

        for (int s = B; s <= T; s++) {
                size_t k;
                cat->items(m->ct[s], &k);
                total += k;
        }
        all = calloc(total + 1, sizeof(*all));
        ss.v = calloc(total + 1, sizeof(*ss.v));
        if (!all || !ss.v) {
                free(ss.v);
                return -ENOMEM;
        }
        for (int s = B; s <= T; s++) {
                size_t k;
                const char *arr = cat->items(m->ct[s], &k);
                for (size_t i = 0; i < k; i++)
                        all[n++] = (const CanonItem *) (arr + i * cat->size);
        }
        qsort(all, n, sizeof(*all), item_ptr_cmp);
        for (size_t i = 0; i < n; i++) {
                Slot *slot;

                if (i > 0 && item_cmp(all[i - 1], all[i]) == 0)
                        continue;
                slot = &ss.v[ss.n++];
                for (int s = B; s <= T; s++) {
                        size_t k;
                        const void *arr = cat->items(m->ct[s], &k);
                        slot->x[s] = find_item(arr, k, cat->size, all[i]);
                }
        }
        *ret = ss;
        return 0;
}

static Slot *slot_find(const Slots *ss, uint32_t type, const char *name) {
        CanonItem key = { .name = name, .type = type };
        size_t lo = 0, hi = ss->n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = item_cmp(&key, slot_any(&ss->v[mid]));

                if (c == 0)
                        return &ss->v[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

/* The whole container from one side: chain with its rules, set with its elements. */
static int take_whole(Slot *s, int side, DiffObject object) {
        int r = 0;

        s->pick = s->x[side];
        s->side = side;
        s->n_parts = 0;
        if (!s->pick)
                return 0;
        if (object == DIFF_CHAIN)
                for (size_t i = 0; r >= 0 && i < chain_of(s->pick)->n_rules; i++)
                        r = part_push(s, &chain_of(s->pick)->rules[i], side);
        else if (object == DIFF_SET)
                for (size_t i = 0; r >= 0 && i < set_of(s->pick)->n_elems; i++)
                        r = part_push(s, &set_of(s->pick)->elems[i], side);
        return r;
}

/* "chain input", "set blocked", "counter hits": an object of a slot in words. */
static char *container_name(DiffObject object, const CanonItem *it) {
        char *s;

        return diff_describe(object, it->name, it->type, it->obj, DIFF_NONE, &s) < 0 ? NULL : s;
}

static int merge_leaf(Merge *m, Slot *s, DiffObject object) {
        int side = pick3(key_of(s->x[B]), key_of(s->x[O]), key_of(s->x[T]));
        _cleanup_free_ char *where = NULL;

        s->pick = s->x[side == NONE ? B : side];
        s->side = side == NONE ? B : side;
        if (side != NONE)
                return 0;
        where = container_name(object, slot_any(s));
        if (!where)
                return -ENOMEM;
        return conflict_leaf(m, object, where, where, s->x[B], s->x[O], s->x[T]);
}

/* ------------------------------------------------------------------ rules of one chain */

typedef struct RuleMerge {
        const CanonChain *c[3];
        size_t n[3];
        size_t *ob, *bo, *ot, *to;      /* LCS matches: ours↔base, ours↔theirs */
        bool *replaced;                 /* ours[i] stands where the trial removed base rules */
        bool *keep, *claimed;           /* base rules: still in the target; re-added by theirs */
        size_t *slot;                   /* theirs[k]: 0 head, j+1 after base[j], n[B]+1 tail; DIFF_NONE */
} RuleMerge;

static void rule_merge_done(RuleMerge *rm) {
        free(rm->ob);
        free(rm->bo);
        free(rm->ot);
        free(rm->to);
        free(rm->replaced);
        free(rm->keep);
        free(rm->claimed);
        free(rm->slot);
}

static int describe_rule(const CanonChain *c, size_t i, char **ret) {
        return diff_describe(DIFF_RULE, c->item.name, 0, c->rules[i].rule, i, ret);
}

/* Mark which of ours' own rules replaced base rules (an edit, not a pure
 * addition): a run of them between two matched rules with base rules
 * between those. */
static void find_replacements(RuleMerge *rm) {
        size_t i = 0;

        while (i < rm->n[O]) {
                size_t i1 = i, from, to;

                if (rm->ob[i] != DIFF_NONE) {
                        i++;
                        continue;
                }
                while (i < rm->n[O] && rm->ob[i] == DIFF_NONE)
                        i++;
                from = i1 > 0 ? rm->ob[i1 - 1] + 1 : 0;
                to = i < rm->n[O] ? rm->ob[i] : rm->n[B];
                for (size_t j = i1; j < i; j++)
                        rm->replaced[j] = to > from;
        }
}

/* A rule theirs added that base had and the trial deleted: already there. */
static bool claim(RuleMerge *rm, const CanonKey *key) {
        for (size_t j = 0; j < rm->n[B]; j++)
                if (rm->bo[j] == DIFF_NONE && !rm->claimed[j] &&
                    canon_key_equal(&rm->c[B]->rules[j].key, key)) {
                        rm->claimed[j] = true;
                        return true;
                }
        return false;
}

static int conflict_rule(Merge *m, const CanonChain *c, size_t i, const char *fmt) {
        _cleanup_free_ char *desc = NULL, *where = container_name(DIFF_CHAIN, &c->item);
        int r;

        if (!where)
                return -ENOMEM;
        r = describe_rule(c, i, &desc);
        if (r < 0)
                return r;
        return conflict(m, MERGE_CONFLICT_BOTH_CHANGED, DIFF_RULE, where, fmt, where, desc);
}

/* Where theirs' rules t[t0..t1) go: after the nearest rule before them in
 * theirs that the target has, else at the head (or the tail, if they were
 * at theirs' tail). */
static size_t place(const RuleMerge *rm, size_t t0, size_t t1) {
        for (size_t p = t0; p-- > 0;) {
                size_t i = rm->to[p];
                if (i != DIFF_NONE && rm->ob[i] != DIFF_NONE && rm->keep[rm->ob[i]])
                        return rm->ob[i] + 1;
        }
        return t1 == rm->n[T] ? rm->n[B] + 1 : 0;
}

/* One hunk of ours → theirs: ours[o0..o1) gave way to theirs[t0..t1). */
static int theirs_hunk(Merge *m, RuleMerge *rm, size_t o0, size_t o1, size_t t0, size_t t1) {
        bool edits_ours = false;
        size_t slot;
        int r;

        for (size_t i = o0; i < o1; i++) {
                if (rm->ob[i] != DIFF_NONE)
                        rm->keep[rm->ob[i]] = false;    /* a rule the trial left alone */
                else
                        edits_ours = true;
        }
        if (edits_ours && t1 > t0) {
                /* Theirs rewrote what the trial wrote: base stays there. */
                for (size_t k = t0; k < t1; k++) {
                        r = conflict_rule(m, rm->c[T], k, "the trial changed rules of %s, and another writer "
                                          "replaced what the trial wrote with %s; not carried over");
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        for (size_t i = o0; edits_ours && i < o1; i++)
                if (rm->ob[i] == DIFF_NONE && rm->replaced[i]) {
                        r = conflict_rule(m, rm->c[O], i, "the trial put into %s, in place of earlier rules, %s, "
                                          "and another writer deleted it; the rules from before the trial stay");
                        if (r < 0)
                                return r;
                }
        slot = place(rm, t0, t1);
        for (size_t k = t0; k < t1; k++)
                if (!claim(rm, &rm->c[T]->rules[k].key))
                        rm->slot[k] = slot;
        return 0;
}

/* Walk the matched pairs of ours and theirs; between two pairs is a hunk. */
static int theirs_changes(Merge *m, RuleMerge *rm) {
        size_t o0 = 0, t0 = 0;

        for (size_t k = 0; k <= rm->n[T]; k++) {
                size_t i = k < rm->n[T] ? rm->to[k] : rm->n[O];
                int r;

                if (i == DIFF_NONE)
                        continue;
                if (i > o0 || k > t0) {
                        r = theirs_hunk(m, rm, o0, i, t0, k);
                        if (r < 0)
                                return r;
                }
                o0 = i + 1;
                t0 = k + 1;
        }
        return 0;
}

/* The chain in the target: base's rules that stay, theirs' in their slots
 * (in theirs' order within a slot). */
static int rules_emit(Slot *s, RuleMerge *rm) {
        size_t slots = rm->n[B] + 2;
        _cleanup_free_ size_t *first = calloc(slots + 1, sizeof(size_t));
        _cleanup_free_ size_t *next = calloc(slots + 1, sizeof(size_t));
        _cleanup_free_ size_t *order = calloc(rm->n[T] + 1, sizeof(size_t));
        int r = 0;

        if (!first || !next || !order)
                return -ENOMEM;
        for (size_t k = 0; k < rm->n[T]; k++)
                if (rm->slot[k] != DIFF_NONE)
                        first[rm->slot[k] + 1]++;
        for (size_t i = 1; i <= slots; i++)
                first[i] += first[i - 1];
        memcpy(next, first, (slots + 1) * sizeof(size_t));
        for (size_t k = 0; k < rm->n[T]; k++)
                if (rm->slot[k] != DIFF_NONE)
                        order[next[rm->slot[k]]++] = k;

        s->n_parts = 0;
        for (size_t slot = 0; r >= 0 && slot < slots; slot++) {
                if (slot > 0 && slot <= rm->n[B] && rm->keep[slot - 1])
                        r = part_push(s, &rm->c[B]->rules[slot - 1], B);
                for (size_t i = first[slot]; r >= 0 && i < first[slot + 1]; i++)
                        r = part_push(s, &rm->c[T]->rules[order[i]], T);
        }
        return r;
}

static int merge_rules(Merge *m, Slot *s) {
        RuleMerge rm = {};
        int r;

        for (int i = B; i <= T; i++) {
                rm.c[i] = chain_of(s->x[i]);
                rm.n[i] = rm.c[i]->n_rules;
        }
        r = diff_rules(rm.c[O], rm.c[B], &rm.ob, &rm.bo);
        if (r >= 0)
                r = diff_rules(rm.c[O], rm.c[T], &rm.ot, &rm.to);
        if (r < 0)
                goto out;
        rm.replaced = calloc(rm.n[O] + 1, sizeof(bool));
        rm.keep = malloc((rm.n[B] + 1) * sizeof(bool));
        rm.claimed = calloc(rm.n[B] + 1, sizeof(bool));
        rm.slot = malloc((rm.n[T] + 1) * sizeof(size_t));
        if (!rm.replaced || !rm.keep || !rm.claimed || !rm.slot) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t j = 0; j < rm.n[B]; j++)
                rm.keep[j] = true;
        for (size_t k = 0; k < rm.n[T]; k++)
                rm.slot[k] = DIFF_NONE;
        find_replacements(&rm);
        r = theirs_changes(m, &rm);
        if (r >= 0)
                r = rules_emit(s, &rm);
out:
        rule_merge_done(&rm);
        return r;
}

/* ------------------------------------------------------------------ containers */

static int merge_chain(Merge *m, Slot *s) {
        const CanonChain *b = chain_of(s->x[B]), *o = chain_of(s->x[O]), *t = chain_of(s->x[T]);
        _cleanup_free_ char *where = NULL;
        int side, r;

        if (canon_chain_equal(o, t))
                return take_whole(s, B, DIFF_CHAIN);
        if (canon_chain_equal(b, o))
                return take_whole(s, T, DIFF_CHAIN);
        where = container_name(DIFF_CHAIN, slot_any(s));
        if (!where)
                return -ENOMEM;
        if (!b || !o || !t) {
                r = take_whole(s, B, DIFF_CHAIN);
                if (r >= 0 && !canon_chain_equal(b, t))
                        r = conflict_container(m, (const void *[3]) { b, o, t }, where, DIFF_CHAIN, diff_chain_items);
                return r;
        }
        side = pick3(&b->item.key, &o->item.key, &t->item.key);
        s->pick = s->x[side == NONE ? B : side];
        s->side = side == NONE ? B : side;
        if (side == NONE) {
                r = conflict(m, MERGE_CONFLICT_BOTH_CHANGED, DIFF_CHAIN, where,
                             "the trial changed the definition of %s, and another writer changed it too; "
                             "it stays as before the trial", where);
                if (r < 0)
                        return r;
        }
        return merge_rules(m, s);
}

static int merge_elems(Merge *m, Slot *s) {
        const CanonSet *cs[3] = { set_of(s->x[B]), set_of(s->x[O]), set_of(s->x[T]) };
        _cleanup_free_ char *where = container_name(DIFF_SET, slot_any(s));

        if (!where)
                return -ENOMEM;
        s->n_parts = 0;
        /* Base's elements in base's order, then those only theirs has. */
        for (int pass = B; pass <= T; pass += T - B)
                for (size_t i = 0; i < cs[pass]->n_elems; i++) {
                        const CanonElem *e = &cs[pass]->elems[i], *x[3];
                        int side, r = 0;

                        for (int k = B; k <= T; k++)
                                x[k] = k == pass ? e : canon_set_elem(cs[k], &e->key);
                        if (pass == T && x[B])
                                continue;
                        side = pick3(x[B] ? &x[B]->content : NULL, x[O] ? &x[O]->content : NULL,
                                     x[T] ? &x[T]->content : NULL);
                        if (side == NONE) {
                                _cleanup_free_ char *desc = NULL;
                                const CanonElem *any = x[T] ? x[T] : x[O];
                                r = diff_describe(DIFF_ELEM, s->pick->name, 0, any->elem, DIFF_NONE, &desc);
                                if (r >= 0)
                                        r = conflict_leaf(m, DIFF_ELEM, where, desc, x[B], x[O], x[T]);
                                side = B;
                        }
                        if (r >= 0 && x[side])
                                r = part_push(s, x[side], side);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* A set's elements depend on its definition (key type, timeouts, interval
 * flag), so a changed definition is treated like a re-created set. */
static int merge_set(Merge *m, Slot *s) {
        const CanonSet *b = set_of(s->x[B]), *o = set_of(s->x[O]), *t = set_of(s->x[T]);
        _cleanup_free_ char *where = NULL;
        int r;

        if (canon_set_equal(o, t))
                return take_whole(s, B, DIFF_SET);
        if (canon_set_equal(b, o))
                return take_whole(s, T, DIFF_SET);
        if (!b || !o || !t || !canon_key_equal(&b->item.key, &o->item.key) ||
            !canon_key_equal(&o->item.key, &t->item.key)) {
                where = container_name(DIFF_SET, slot_any(s));
                if (!where)
                        return -ENOMEM;
                r = take_whole(s, B, DIFF_SET);
                if (r >= 0 && !canon_set_equal(b, t))
                        r = conflict_container(m, (const void *[3]) { b, o, t }, where, DIFF_SET, diff_set_items);
                return r;
        }
        s->pick = s->x[B];
        s->side = B;
        return merge_elems(m, s);
}

/* ------------------------------------------------------------------ references */

typedef struct Ref {
        DiffObject object;
        const char *name;
        uint32_t type;          /* objects */
} Ref;

typedef struct Refs {
        Ref *v;
        size_t n, cap;
        int error;
} Refs;

static void ref_add(Refs *refs, DiffObject object, const char *name, uint32_t type) {
        if (!name || refs->error)
                return;
        if (refs->n == refs->cap) {
                size_t cap = refs->cap ? refs->cap * 2 : 8;
                Ref *v = realloc(refs->v, cap * sizeof(*v));
                if (!v) {
                        refs->error = -ENOMEM;
                        return;
                }
                refs->v = v;
                refs->cap = cap;
        }
        refs->v[refs->n++] = (Ref) { object, name, type };
}

static void elem_refs(const struct nftnl_set *s, const struct nftnl_set_elem *elem, Refs *refs) {
        struct nftnl_set_elem *e = (struct nftnl_set_elem *) elem;

        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
                ref_add(refs, DIFF_CHAIN, nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN), 0);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_OBJREF))
                ref_add(refs, DIFF_OBJ, nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_OBJREF),
                        nftnl_set_get_u32((struct nftnl_set *) s, NFTNL_SET_OBJ_TYPE));
}

/* A set a rule names: named ones are references, anonymous ones are part of
 * the rule, and what their elements name is the rule's reference. */
static void set_ref(const RsTable *t, const char *name, Refs *refs) {
        const struct nftnl_set *s = name ? rstable_find_set(t, name) : NULL;
        struct nftnl_set_elems_iter *it;
        struct nftnl_set_elem *e;

        if (!s || !canon_set_is_anonymous(s)) {
                ref_add(refs, DIFF_SET, name, 0);
                return;
        }
        it = nftnl_set_elems_iter_create(s);
        while (it && (e = nftnl_set_elems_iter_next(it)))
                elem_refs(s, e, refs);
        if (it)
                nftnl_set_elems_iter_destroy(it);
        else
                refs->error = -ENOMEM;
}

/* What expressions name, as libnftnl attributes and, for sets, as netlink ones. */
static const struct {
        const char *expr;
        uint16_t attr;
        DiffObject object;
        uint16_t nla;
} expr_refs[] = {
        { "immediate", NFTNL_EXPR_IMM_CHAIN, DIFF_CHAIN, 0 },
        { "lookup", NFTNL_EXPR_LOOKUP_SET, DIFF_SET, NFTA_LOOKUP_SET },
        { "dynset", NFTNL_EXPR_DYNSET_SET_NAME, DIFF_SET, NFTA_DYNSET_SET_NAME },
        { "objref", NFTNL_EXPR_OBJREF_SET_NAME, DIFF_SET, NFTA_OBJREF_SET_NAME },
        { "objref", NFTNL_EXPR_OBJREF_IMM_NAME, DIFF_OBJ, 0 },
        { "flow_offload", NFTNL_EXPR_FLOW_TABLE_NAME, DIFF_FLOWTABLE, 0 },
};

static void rule_refs(const RsTable *t, const struct nftnl_rule *rule, Refs *refs) {
        struct nftnl_expr_iter *it = nftnl_expr_iter_create(rule);
        struct nftnl_expr *e;

        if (!it) {
                refs->error = -ENOMEM;
                return;
        }
        while ((e = nftnl_expr_iter_next(it))) {
                const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

                for (size_t i = 0; i < ELEMENTSOF(expr_refs); i++) {
                        if (!streq(name, expr_refs[i].expr) || !nftnl_expr_is_set(e, expr_refs[i].attr))
                                continue;
                        if (expr_refs[i].object == DIFF_SET)
                                set_ref(t, nftnl_expr_get_str(e, expr_refs[i].attr), refs);
                        else
                                ref_add(refs, expr_refs[i].object, nftnl_expr_get_str(e, expr_refs[i].attr),
                                        expr_refs[i].object == DIFF_OBJ ? nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) : 0);
                }
        }
        nftnl_expr_iter_destroy(it);
}

static Slots *slots_for(Merge *m, DiffObject object) {
        switch (object) {
        case DIFF_CHAIN:
                return &m->chains;
        case DIFF_SET:
                return &m->sets;
        case DIFF_OBJ:
                return &m->objs;
        default:
                return &m->flowtables;
        }
}

/* Does the target hold what @ref names, as the holder from @side needs it?
 * A set must also have the holder's definition (key type, data type). */
static bool ref_ok(Merge *m, const Ref *ref, int side) {
        Slot *s = slot_find(slots_for(m, ref->object), ref->type, ref->name);

        if (!s || !s->pick)
                return false;
        if (ref->object != DIFF_SET)
                return true;
        return s->x[side] && canon_key_equal(&s->pick->key, &s->x[side]->key);
}

static int describe_part(const Slot *s, DiffObject object, const Part *p, char **ret) {
        if (object == DIFF_CHAIN)
                return diff_describe(DIFF_RULE, s->pick->name, 0, ((const CanonRule *) p->obj)->rule,
                                     ((const CanonRule *) p->obj)->pos, ret);
        return diff_describe(DIFF_ELEM, s->pick->name, 0, ((const CanonElem *) p->obj)->elem, DIFF_NONE, ret);
}

/* Part @i of @s (from theirs) needs what the target lacks: leave it out, or
 * for an element, fall back to base's version of it if base's set is the
 * target's. */
static int drop_part(Merge *m, Slot *s, DiffObject object, size_t i, const Ref *ref) {
        _cleanup_free_ char *desc = NULL, *where = container_name(object, s->pick);
        const CanonElem *fallback = NULL;
        int r;

        if (!where)
                return -ENOMEM;
        r = describe_part(s, object, &s->parts[i], &desc);
        if (r < 0)
                return r;
        r = conflict(m, MERGE_CONFLICT_REFERENCE, object == DIFF_CHAIN ? DIFF_RULE : DIFF_ELEM, where,
                     "another writer's %s refers to %s %s, which the target lacks or holds in another form; "
                     "not carried over", desc, diff_object_to_string(ref->object), ref->name);
        if (r < 0)
                return r;
        if (object == DIFF_SET && s->x[B] && canon_key_equal(&s->x[B]->key, &s->pick->key))
                fallback = canon_set_elem(set_of(s->x[B]), &((const CanonElem *) s->parts[i].obj)->key);
        if (fallback) {
                s->parts[i] = (Part) { fallback, B };
                return 0;
        }
        memmove(&s->parts[i], &s->parts[i + 1], (s->n_parts - i - 1) * sizeof(Part));
        s->n_parts--;
        return 0;
}

/* Part @i of @s (from base) needs what theirs deleted or changed: bring it
 * back as it is in base. Returns 1 if something changed. */
static int restore_referent(Merge *m, Slot *s, DiffObject object, size_t i, const Ref *ref) {
        Slot *target = slot_find(slots_for(m, ref->object), ref->type, ref->name);
        _cleanup_free_ char *desc = NULL, *where = NULL;
        int r;

        if (!target || !target->x[B])
                return 0;       /* base itself lacks it: nothing to bring back */
        where = container_name(ref->object, target->x[B]);
        if (!where)
                return -ENOMEM;
        r = describe_part(s, object, &s->parts[i], &desc);
        if (r >= 0)
                r = take_whole(target, B, ref->object);
        if (r >= 0)
                r = conflict(m, MERGE_CONFLICT_REFERENCE, ref->object, where,
                             "another writer deleted or changed %s, but %s, kept from before the trial, needs it; "
                             "it stays as before the trial", where, desc);
        return r < 0 ? r : 1;
}

static int part_refs(Merge *m, const Slot *s, DiffObject object, const Part *p, Refs *refs) {
        const RsTable *t = m->ct[p->side]->table;

        refs->n = 0;
        if (object == DIFF_CHAIN)
                rule_refs(t, ((const CanonRule *) p->obj)->rule, refs);
        else
                elem_refs(s->pick->obj, ((const CanonElem *) p->obj)->elem, refs);
        return refs->error;
}

/* One pass over the parts of chains or sets; 1 if it changed anything. */
static int repair_pass(Merge *m, Slots *ss, DiffObject object, Refs *refs) {
        int changed = 0;

        for (size_t n = 0; n < ss->n; n++) {
                Slot *s = &ss->v[n];

                for (size_t i = 0; s->pick && i < s->n_parts;) {
                        bool dropped = false;
                        int r = part_refs(m, s, object, &s->parts[i], refs);

                        for (size_t k = 0; r >= 0 && !dropped && k < refs->n; k++) {
                                if (ref_ok(m, &refs->v[k], s->parts[i].side))
                                        continue;
                                if (s->parts[i].side == T) {
                                        /* parts[i] is gone or base's now: look at it again */
                                        r = drop_part(m, s, object, i, &refs->v[k]);
                                        dropped = true;
                                        changed = 1;
                                } else if ((r = restore_referent(m, s, object, i, &refs->v[k])) > 0)
                                        changed = 1;
                        }
                        if (r < 0)
                                return r;
                        i += !dropped;
                }
        }
        return changed;
}

static int repair_references(Merge *m) {
        Refs refs = {};
        int r;

        do {
                r = repair_pass(m, &m->chains, DIFF_CHAIN, &refs);
                if (r == 0)
                        r = repair_pass(m, &m->sets, DIFF_SET, &refs);
        } while (r > 0);
        free(refs.v);
        return r;
}

/* ------------------------------------------------------------------ the table */

static int merge_parts(Merge *m) {
        int r;

        m->whole = NONE;
        m->table_side = pick3(&m->ct[B]->key, &m->ct[O]->key, &m->ct[T]->key);
        if (m->table_side == NONE) {
                m->table_side = B;
                r = conflict(m, MERGE_CONFLICT_BOTH_CHANGED, DIFF_TABLE, NULL,
                             "the trial changed the table's flags or comment, and another writer changed them too; "
                             "they stay as before the trial");
                if (r < 0)
                        return r;
        }
        r = slots_build(m, &chain_catalog, &m->chains);
        if (r >= 0)
                r = slots_build(m, &set_catalog, &m->sets);
        if (r >= 0)
                r = slots_build(m, &obj_catalog, &m->objs);
        if (r >= 0)
                r = slots_build(m, &flowtable_catalog, &m->flowtables);
        for (size_t i = 0; r >= 0 && i < m->chains.n; i++)
                r = merge_chain(m, &m->chains.v[i]);
        for (size_t i = 0; r >= 0 && i < m->sets.n; i++)
                r = merge_set(m, &m->sets.v[i]);
        for (size_t i = 0; r >= 0 && i < m->objs.n; i++)
                r = merge_leaf(m, &m->objs.v[i], DIFF_OBJ);
        for (size_t i = 0; r >= 0 && i < m->flowtables.n; i++)
                r = merge_leaf(m, &m->flowtables.v[i], DIFF_FLOWTABLE);
        if (r >= 0)
                r = repair_references(m);
        return r;
}

static int merge_table(Merge *m) {
        const CanonTable *b = m->ct[B], *o = m->ct[O], *t = m->ct[T];

        if (canon_table_equal(o, t)) {
                m->whole = B;
                return 0;
        }
        if (canon_table_equal(b, o)) {
                m->whole = T;
                return 0;
        }
        if (!b || !o || !t) {
                m->whole = B;
                if (canon_table_equal(b, t))
                        return 0;
                return conflict_container(m, (const void *[3]) { b, o, t }, NULL, DIFF_TABLE, diff_table_items);
        }
        return merge_parts(m);
}

/* ------------------------------------------------------------------ building the target */

typedef struct Build {
        Merge *m;
        Ruleset *rs;
        char *buf;              /* RS_MSG_BUFSIZE: the message being built */
        char *norm;             /* RS_MSG_BUFSIZE: the same, as ruleset_add_msg() takes it */
        char *copy;             /* RS_MSG_BUFSIZE: the same, with anonymous sets renamed */
        PtrVec names;           /* char *: set names taken in the target */
        PtrVec renames;         /* Rename *: anonymous sets and their names in the target */
        int anon_side;          /* whose rules' anonymous sets are being placed */
} Build;

typedef struct Rename {
        const struct nftnl_set *set;
        char *name;
} Rename;

static void rename_free(void *p) {
        Rename *rn = p;

        free(rn->name);
        free(rn);
}

static void name_free(void *p) { free(p); }

static char *sink_buffer(void *userdata) { return ((Build *) userdata)->buf; }

/* libnftnl's builders leave some strings without their NUL and padding
 * uninitialised; ruleset_add_msg() takes only what libnftnl's parsers read
 * safely, so every built message is normalised on its way in. */
static int add_msg(Build *bd, const struct nlmsghdr *nlh) {
        int r = nlschema_normalise(nlh, bd->norm, RS_MSG_BUFSIZE);

        if (r < 0)
                return r;
        return ruleset_add_msg(bd->rs, (const struct nlmsghdr *) bd->norm);
}

static int sink_push(struct nlmsghdr *nlh, RsMsgKind kind, const void *obj, void *userdata) {
        return add_msg(userdata, nlh);
}

static struct nlmsghdr *msg_begin(Build *bd, uint16_t type) {
        return nftnl_nlmsg_build_hdr(bd->buf, type, (uint16_t) bd->m->any->family, NLM_F_CREATE, 0);
}

static bool name_taken(const Build *bd, const char *name) {
        for (size_t i = 0; i < bd->names.n; i++)
                if (streq(bd->names.items[i], name))
                        return true;
        return false;
}

static int name_take(Build *bd, const char *name) {
        char *s = strdup(name);
        int r;

        if (!s)
                return -ENOMEM;
        r = ptrvec_push(&bd->names, s);
        if (r < 0)
                free(s);
        return r;
}

/* A copy of @nlh's header in bd->copy, for a copy with some attributes changed. */
static struct nlmsghdr *copy_begin(Build *bd, const struct nlmsghdr *nlh) {
        struct nlmsghdr *out = (struct nlmsghdr *) bd->copy;

        memcpy(out, nlh, mnl_nlmsg_size(sizeof(struct nfgenmsg)));
        out->nlmsg_len = mnl_nlmsg_size(sizeof(struct nfgenmsg));
        return out;
}

static void copy_attr(struct nlmsghdr *out, const struct nlattr *a) {
        mnl_attr_put(out, a->nla_type, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
}

/* Elements in messages of at most one attribute's worth, as rstable_emit() does. */
static int emit_elems(Build *bd, const char *set, struct nftnl_set_elem *const *elems, size_t n) {
        size_t i = 0;

        while (i < n) {
                struct nlmsghdr *nlh = msg_begin(bd, NFT_MSG_NEWSETELEM);
                struct nlattr *list;
                int r;

                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, bd->m->any->name);
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
                list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
                for (; i < n; i++) {
                        struct nlattr *one = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

                        nftnl_set_elem_nlmsg_build_payload(nlh, elems[i]);
                        mnl_attr_nest_end(nlh, one);
                        if ((char *) mnl_nlmsg_get_payload_tail(nlh) - (char *) list > UINT16_MAX &&
                            one != mnl_attr_get_payload(list)) {
                                mnl_attr_nest_cancel(nlh, one);
                                break;  /* elems[i] starts the next message */
                        }
                }
                mnl_attr_nest_end(nlh, list);
                r = add_msg(bd, nlh);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A set under @name, with all its elements: the anonymous sets of rules. A
 * renamed set gets its definition rebuilt under the new name. */
static int emit_anonymous_set(Build *bd, const struct nftnl_set *s, const char *name) {
        struct nlmsghdr *nlh = msg_begin(bd, NFT_MSG_NEWSET), *out;
        _cleanup_free_ struct nftnl_set_elem **elems = NULL;
        struct nftnl_set_elems_iter *it;
        struct nftnl_set_elem *e;
        const struct nlattr *a;
        size_t n = 0, cap = 0;
        int r;

        nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *) s);
        out = copy_begin(bd, nlh);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                if (mnl_attr_get_type(a) == NFTA_SET_NAME)
                        mnl_attr_put_strz(out, NFTA_SET_NAME, name);
                else
                        copy_attr(out, a);
        }
        r = add_msg(bd, out);
        if (r < 0)
                return r;
        it = nftnl_set_elems_iter_create(s);
        if (!it)
                return -ENOMEM;
        while (r >= 0 && (e = nftnl_set_elems_iter_next(it))) {
                if (n == cap) {
                        struct nftnl_set_elem **v = realloc(elems, (cap = cap ? cap * 2 : 16) * sizeof(*v));
                        if (!v) {
                                r = -ENOMEM;
                                break;
                        }
                        elems = v;
                }
                elems[n++] = e;
        }
        nftnl_set_elems_iter_destroy(it);
        return r < 0 ? r : emit_elems(bd, name, elems, n);
}

static const char *renamed(const Build *bd, const struct nftnl_set *s) {
        for (size_t i = 0; i < bd->renames.n; i++) {
                const Rename *rn = bd->renames.items[i];
                if (rn->set == s)
                        return rn->name;
        }
        return NULL;
}

/* A free name for an anonymous set: its own, or its stem with a number. */
static char *free_name(const Build *bd, const char *name) {
        size_t stem = strlen(name);
        char *s = NULL;

        if (!name_taken(bd, name))
                return strdup(name);
        while (stem > 0 && name[stem - 1] >= '0' && name[stem - 1] <= '9')
                stem--;
        for (unsigned k = 0; !s; k++) {
                if (asprintf(&s, "%.*s%u", (int) stem, name, k) < 0)
                        return NULL;
                if (name_taken(bd, s)) {
                        free(s);
                        s = NULL;
                }
        }
        return s;
}

/* An anonymous set of @t named @name goes into the target under a free name. */
static int place_anonymous_set(Build *bd, const RsTable *t, const char *name) {
        const struct nftnl_set *s = rstable_find_set(t, name);
        Rename *rn;
        int r;

        if (!s || !canon_set_is_anonymous(s) || renamed(bd, s))
                return 0;
        rn = calloc(1, sizeof(*rn));
        if (!rn)
                return -ENOMEM;
        rn->set = s;
        rn->name = free_name(bd, name);
        r = rn->name ? ptrvec_push(&bd->renames, rn) : -ENOMEM;
        if (r < 0) {
                rename_free(rn);
                return r;
        }
        r = name_take(bd, rn->name);
        return r < 0 ? r : emit_anonymous_set(bd, s, rn->name);
}

/* The anonymous sets of @rule, from table @t. */
static int place_anonymous_sets(Build *bd, const RsTable *t, const struct nftnl_rule *rule) {
        struct nftnl_expr_iter *it = nftnl_expr_iter_create(rule);
        struct nftnl_expr *e;
        int r = 0;

        if (!it)
                return -ENOMEM;
        while (r >= 0 && (e = nftnl_expr_iter_next(it))) {
                const char *expr = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(expr_refs); i++)
                        if (expr_refs[i].object == DIFF_SET && streq(expr, expr_refs[i].expr) &&
                            nftnl_expr_is_set(e, expr_refs[i].attr))
                                r = place_anonymous_set(bd, t, nftnl_expr_get_str(e, expr_refs[i].attr));
        }
        nftnl_expr_iter_destroy(it);
        return r;
}

/* The name an anonymous set of @t has in the target; NULL for other sets. */
static const char *target_name(const Build *bd, const RsTable *t, const struct nlattr *a) {
        const struct nftnl_set *s = rstable_find_set(t, strndupa(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a)));

        return s ? renamed(bd, s) : NULL;
}

static void copy_expr_renamed(Build *bd, const RsTable *t, struct nlmsghdr *out, const struct nlattr *e) {
        const struct nlattr *a, *x;
        const char *expr = "";
        struct nlattr *nest = mnl_attr_nest_start(out, mnl_attr_get_type(e));

        mnl_attr_for_each_nested(a, e)
                if (mnl_attr_get_type(a) == NFTA_EXPR_NAME)
                        expr = strndupa(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
        mnl_attr_for_each_nested(a, e) {
                struct nlattr *data;

                if (mnl_attr_get_type(a) != NFTA_EXPR_DATA) {
                        copy_attr(out, a);
                        continue;
                }
                data = mnl_attr_nest_start(out, NFTA_EXPR_DATA);
                mnl_attr_for_each_nested(x, a) {
                        const char *name = NULL;

                        for (size_t i = 0; !name && i < ELEMENTSOF(expr_refs); i++)
                                if (expr_refs[i].nla && expr_refs[i].nla == mnl_attr_get_type(x) &&
                                    streq(expr_refs[i].expr, expr))
                                        name = target_name(bd, t, x);
                        if (name)
                                mnl_attr_put_strz(out, mnl_attr_get_type(x), name);
                        else
                                copy_attr(out, x);
                }
                mnl_attr_nest_end(out, data);
        }
        mnl_attr_nest_end(out, nest);
}

/* A rule, with its anonymous sets under their names in the target. The
 * names are replaced in the message: libnftnl's setter for a lookup's set
 * name leaks the old one. */
static int emit_rule(Build *bd, const RsTable *t, const struct nftnl_rule *rule) {
        struct nlmsghdr *nlh = msg_begin(bd, NFT_MSG_NEWRULE), *out;
        const struct nlattr *a, *e;

        nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *) rule);
        out = copy_begin(bd, nlh);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                struct nlattr *list;

                if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS) {
                        copy_attr(out, a);
                        continue;
                }
                list = mnl_attr_nest_start(out, NFTA_RULE_EXPRESSIONS);
                mnl_attr_for_each_nested(e, a)
                        copy_expr_renamed(bd, t, out, e);
                mnl_attr_nest_end(out, list);
        }
        return add_msg(bd, out);
}

/* How one kind of named object is walked in a table's own order, found in
 * the slots, and turned into a message. */
typedef struct Emitter {
        Slots *slots;
        const PtrVec *(*vec)(const RsTable *t);
        const char *(*name)(const void *obj, uint32_t *ret_type);   /* NULL: not a slot (anonymous set) */
        uint16_t msg;
        void (*build)(struct nlmsghdr *nlh, const void *obj);
} Emitter;

static const PtrVec *chains_vec(const RsTable *t) { return &t->chains; }
static const PtrVec *objs_vec(const RsTable *t) { return &t->objs; }
static const PtrVec *flowtables_vec(const RsTable *t) { return &t->flowtables; }
static const PtrVec *sets_vec(const RsTable *t) { return &t->sets; }

static const char *chain_name(const void *o, uint32_t *type) {
        *type = 0;
        return nftnl_chain_get_str(o, NFTNL_CHAIN_NAME);
}

static const char *obj_name(const void *o, uint32_t *type) {
        *type = nftnl_obj_get_u32((struct nftnl_obj *) o, NFTNL_OBJ_TYPE);
        return nftnl_obj_get_str((struct nftnl_obj *) o, NFTNL_OBJ_NAME);
}

static const char *flowtable_name(const void *o, uint32_t *type) {
        *type = 0;
        return nftnl_flowtable_get_str(o, NFTNL_FLOWTABLE_NAME);
}

static const char *set_name(const void *o, uint32_t *type) {
        *type = 0;
        return canon_set_is_anonymous(o) ? NULL : nftnl_set_get_str(o, NFTNL_SET_NAME);
}

static void build_chain(struct nlmsghdr *nlh, const void *o) { nftnl_chain_nlmsg_build_payload(nlh, o); }
static void build_obj(struct nlmsghdr *nlh, const void *o) { nftnl_obj_nlmsg_build_payload(nlh, (struct nftnl_obj *) o); }
static void build_flowtable(struct nlmsghdr *nlh, const void *o) { nftnl_flowtable_nlmsg_build_payload(nlh, o); }
static void build_set(struct nlmsghdr *nlh, const void *o) { nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *) o); }

/* The slots that the target holds: base's in base's order, then the ones
 * only theirs has in theirs' order (the order the kernel listed them in). */
static int for_each_target_slot(Build *bd, const Emitter *em, int (*fn)(Build *bd, const Emitter *em, Slot *s)) {
        for (int side = B; side <= T; side += T - B) {
                const RsTable *t = bd->m->ct[side] ? bd->m->ct[side]->table : NULL;
                const PtrVec *v = t ? em->vec(t) : NULL;

                for (size_t i = 0; v && i < v->n; i++) {
                        uint32_t type;
                        const char *name = em->name(v->items[i], &type);
                        Slot *s = name ? slot_find(em->slots, type, name) : NULL;
                        int r;

                        if (!s || !s->pick || (side == T && s->x[B]))
                                continue;
                        r = fn(bd, em, s);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int emit_slot(Build *bd, const Emitter *em, Slot *s) {
        _cleanup_free_ struct nftnl_set_elem **elems = NULL;
        struct nlmsghdr *nlh = msg_begin(bd, em->msg);
        int r;

        em->build(nlh, s->pick->obj);
        r = add_msg(bd, nlh);
        if (r < 0 || em->msg != NFT_MSG_NEWSET)
                return r;
        r = name_take(bd, s->pick->name);
        if (r < 0)
                return r;
        elems = calloc(s->n_parts + 1, sizeof(*elems));
        if (!elems)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_parts; i++)
                elems[i] = ((const CanonElem *) s->parts[i].obj)->elem;
        return emit_elems(bd, s->pick->name, elems, s->n_parts);
}

static int emit_rules_anonymous(Build *bd, const Emitter *em, Slot *s) {
        for (size_t i = 0; i < s->n_parts; i++) {
                const Part *p = &s->parts[i];
                int r;

                if (p->side != bd->anon_side)
                        continue;
                r = place_anonymous_sets(bd, bd->m->ct[p->side]->table, ((const CanonRule *) p->obj)->rule);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int emit_rules(Build *bd, const Emitter *em, Slot *s) {
        for (size_t i = 0; i < s->n_parts; i++) {
                const Part *p = &s->parts[i];
                int r = emit_rule(bd, bd->m->ct[p->side]->table, ((const CanonRule *) p->obj)->rule);

                if (r < 0)
                        return r;
        }
        return 0;
}

/* In the order a batch needs: table, chains, objects, flowtables, sets with
 * their elements, anonymous sets (base's keep their names), rules. */
static int build_parts(Build *bd) {
        Merge *m = bd->m;
        const Emitter chains = { &m->chains, chains_vec, chain_name, NFT_MSG_NEWCHAIN, build_chain };
        const Emitter objs = { &m->objs, objs_vec, obj_name, NFT_MSG_NEWOBJ, build_obj };
        const Emitter flowtables = { &m->flowtables, flowtables_vec, flowtable_name, NFT_MSG_NEWFLOWTABLE, build_flowtable };
        const Emitter sets = { &m->sets, sets_vec, set_name, NFT_MSG_NEWSET, build_set };
        struct nlmsghdr *nlh = msg_begin(bd, NFT_MSG_NEWTABLE);
        int r;

        nftnl_table_nlmsg_build_payload(nlh, m->ct[m->table_side]->table->table);
        r = add_msg(bd, nlh);
        if (r >= 0)
                r = for_each_target_slot(bd, &chains, emit_slot);
        if (r >= 0)
                r = for_each_target_slot(bd, &objs, emit_slot);
        if (r >= 0)
                r = for_each_target_slot(bd, &flowtables, emit_slot);
        if (r >= 0)
                r = for_each_target_slot(bd, &sets, emit_slot);
        for (bd->anon_side = B; r >= 0 && bd->anon_side <= T; bd->anon_side += T - B)
                r = for_each_target_slot(bd, &chains, emit_rules_anonymous);
        if (r >= 0)
                r = for_each_target_slot(bd, &chains, emit_rules);
        return r;
}

static int build_target(Merge *m, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        Build bd = { .m = m };
        int r;

        r = ruleset_new(&rs);
        if (r < 0)
                return r;
        bd.rs = rs;
        bd.buf = malloc(RS_MSG_BUFSIZE);
        bd.norm = malloc(RS_MSG_BUFSIZE);
        bd.copy = malloc(RS_MSG_BUFSIZE);
        if (!bd.buf || !bd.norm || !bd.copy) {
                free(bd.buf);
                free(bd.norm);
                free(bd.copy);
                return -ENOMEM;
        }
        if (m->whole != NONE) {
                RsMsgSink sink = { .buffer = sink_buffer, .push = sink_push, .userdata = &bd };
                r = rstable_emit(m->ct[m->whole]->table, &sink);
        } else
                r = build_parts(&bd);
        free(bd.buf);
        free(bd.norm);
        free(bd.copy);
        ptrvec_clear(&bd.names, name_free);
        ptrvec_clear(&bd.renames, rename_free);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rs);
        return 0;
}

/* ------------------------------------------------------------------ entry point */

static int conflicts_append(MergeConflicts *to, MergeConflicts *from) {
        MergeConflict *items;

        if (from->n == 0)
                return 0;
        items = realloc(to->items, (to->n + from->n) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        memcpy(items + to->n, from->items, from->n * sizeof(*items));
        to->items = items;
        to->n += from->n;
        free(from->items);
        *from = (MergeConflicts) {};
        return 0;
}

static int canon_inputs(const RsTable *in[3], CanonTable *ret[3]) {
        for (int s = B; s <= T; s++) {
                int r = in[s] ? canon_table_new(in[s], 0, &ret[s]) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

int merge_three_way(const RsTable *base, const RsTable *ours, const RsTable *theirs,
                    Ruleset *into, RsTable **ret_target, MergeConflicts *conflicts) {
        const RsTable *in[3] = { base, ours, theirs };
        CanonTable *ct[3] = {};
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        Merge m = { .table_side = B, .whole = NONE };
        RsTable *target = NULL;
        int r;

        for (int s = B; s <= T; s++) {
                if (!in[s])
                        continue;
                if (!m.any)
                        m.any = in[s];
                else if (in[s]->family != m.any->family || !streq(in[s]->name, m.any->name))
                        return -EINVAL;
        }
        if (!m.any) {
                *ret_target = NULL;
                return 0;
        }
        if (ruleset_find_table(into, m.any->family, m.any->name))
                return -EEXIST;

        r = canon_inputs(in, ct);
        for (int s = B; s <= T; s++)
                m.ct[s] = ct[s];
        if (r >= 0)
                r = merge_table(&m);
        if (r >= 0 && (m.whole == NONE || m.ct[m.whole]))
                r = build_target(&m, &rs);
        /* Make room first, so that nothing can fail once conflicts and table move. */
        if (r >= 0 && rs && (r = ptrvec_push(&into->tables, NULL)) >= 0)
                into->tables.n--;
        if (r >= 0)
                r = conflicts_append(conflicts, &m.conflicts);
        if (r >= 0 && rs) {
                target = ruleset_table(rs, 0);
                r = ruleset_take_table(into, rs, target);
        }
        merge_done(&m);
        for (int s = B; s <= T; s++)
                canon_table_free(ct[s]);
        if (r < 0)
                return r;
        *ret_target = target;
        return 0;
}

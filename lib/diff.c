/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff.c — comparison and object-level difference of rulesets
 *
 * Everything here works on canonical tables (canon.c): objects are equal when
 * their keys are, which already ignores what the flags say to ignore. Named
 * objects are matched by name (objects by type and name), set elements by
 * key. Rules have no identity of their own once handles are gone, and their
 * order is their meaning, so the rules of a chain are matched as sequences:
 * a longest common subsequence of their keys. Whatever is left unmatched was
 * removed (on the left) or added (on the right); an edited rule shows as both.
 *
 * The LCS is Myers' algorithm in its linear-space form: O((N+M)·D) time for D
 * differences, O(N+M) memory. Chains written by kube-proxy or docker hold
 * thousands of rules while a change touches a handful, so both the quadratic
 * table of the textbook LCS and Myers' quadratic-memory trace are out.
 * Rule keys are first turned into small integers (equal keys, equal ids), so
 * the inner loop compares numbers, not byte strings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "diff.h"
#include "macro.h"

static const char *const object_names[_DIFF_OBJECT_MAX] = {
        [DIFF_TABLE] = "table",
        [DIFF_CHAIN] = "chain",
        [DIFF_SET] = "set",
        [DIFF_ELEM] = "element",
        [DIFF_OBJ] = "object",
        [DIFF_FLOWTABLE] = "flowtable",
        [DIFF_RULE] = "rule",
};

static const char *const change_names[_DIFF_CHANGE_MAX] = {
        [DIFF_ADDED] = "added",
        [DIFF_REMOVED] = "removed",
        [DIFF_CHANGED] = "changed",
};

const char *diff_object_to_string(DiffObject o) {
        return o >= 0 && o < _DIFF_OBJECT_MAX ? object_names[o] : NULL;
}

const char *diff_change_to_string(DiffChange c) {
        return c >= 0 && c < _DIFF_CHANGE_MAX ? change_names[c] : NULL;
}

/* ------------------------------------------------------------------ LCS */

typedef struct Lcs {
        const uint32_t *a, *b;
        size_t *a_match, *b_match;
        ssize_t *vf, *vb;       /* furthest reaching x per diagonal, forward and backward */
        size_t matches;
} Lcs;

static void match(Lcs *l, size_t i, size_t j) {
        l->a_match[i] = j;
        l->b_match[j] = i;
        l->matches++;
}

/* A point that an optimal edit path from (a0,b0) to (a1,b1) passes through,
 * strictly between its ends: the start of the middle snake. Both sequences
 * are non-empty and differ at both ends, so there are at least two edits. */
static void split(Lcs *l, size_t a0, size_t a1, size_t b0, size_t b1, size_t *ret_x, size_t *ret_y) {
        const uint32_t *a = l->a + a0, *b = l->b + b0;
        ssize_t n = (ssize_t) (a1 - a0), m = (ssize_t) (b1 - b0);
        ssize_t delta = n - m, max = (n + m + 1) / 2, off = max + 1;
        bool odd = delta & 1;
        ssize_t *vf = l->vf, *vb = l->vb;

        vf[off + 1] = 0;
        vb[off + 1] = 0;
        for (ssize_t d = 0; d <= max; d++) {
                for (ssize_t k = -d; k <= d; k += 2) {
                        ssize_t x = (k == -d || (k != d && vf[off + k - 1] < vf[off + k + 1])) ?
                                    vf[off + k + 1] : vf[off + k - 1] + 1;
                        ssize_t y = x - k, x0 = x, y0 = y;

                        while (x < n && y < m && a[x] == b[y])
                                x++, y++;
                        vf[off + k] = x;
                        /* Reverse diagonal delta-k was reached in round d-1. */
                        if (odd && delta - k >= -(d - 1) && delta - k <= d - 1 &&
                            x + vb[off + delta - k] >= n) {
                                *ret_x = a0 + (size_t) x0;
                                *ret_y = b0 + (size_t) y0;
                                return;
                        }
                }
                for (ssize_t k = -d; k <= d; k += 2) {
                        ssize_t x = (k == -d || (k != d && vb[off + k - 1] < vb[off + k + 1])) ?
                                    vb[off + k + 1] : vb[off + k - 1] + 1;
                        ssize_t y = x - k;

                        while (x < n && y < m && a[n - 1 - x] == b[m - 1 - y])
                                x++, y++;
                        vb[off + k] = x;
                        if (!odd && delta - k >= -d && delta - k <= d &&
                            x + vf[off + delta - k] >= n) {
                                *ret_x = a0 + (size_t) (n - x);
                                *ret_y = b0 + (size_t) (m - y);
                                return;
                        }
                }
        }
        /* Not reached: the two searches always meet by d = max. */
        *ret_x = a0;
        *ret_y = b0;
}

static void lcs_range(Lcs *l, size_t a0, size_t a1, size_t b0, size_t b1) {
        size_t x, y;

        while (a0 < a1 && b0 < b1 && l->a[a0] == l->b[b0])
                match(l, a0++, b0++);
        while (a0 < a1 && b0 < b1 && l->a[a1 - 1] == l->b[b1 - 1])
                match(l, --a1, --b1);
        if (a0 == a1 || b0 == b1)
                return;
        split(l, a0, a1, b0, b1, &x, &y);
        if ((x == a0 && y == b0) || (x == a1 && y == b1))
                return;         /* defensive: no progress possible, leave the rest unmatched */
        lcs_range(l, a0, x, b0, y);
        lcs_range(l, x, a1, y, b1);
}

int diff_lcs(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
             size_t *a_match, size_t *b_match) {
        size_t v = na + nb + 3;
        _cleanup_free_ ssize_t *vf = malloc(v * sizeof(ssize_t)), *vb = malloc(v * sizeof(ssize_t));
        Lcs l = { .a = a, .b = b, .a_match = a_match, .b_match = b_match, .vf = vf, .vb = vb };

        if (!vf || !vb)
                return -ENOMEM;
        if (na + nb > INT32_MAX)
                return -E2BIG;
        for (size_t i = 0; i < na; i++)
                a_match[i] = DIFF_NONE;
        for (size_t j = 0; j < nb; j++)
                b_match[j] = DIFF_NONE;
        lcs_range(&l, 0, na, 0, nb);
        return (int) l.matches;
}

typedef struct KeyRef {
        const CanonKey *key;
        uint32_t *id;
} KeyRef;

static int keyref_cmp(const void *x, const void *y) {
        return canon_key_cmp(((const KeyRef *) x)->key, ((const KeyRef *) y)->key);
}

int diff_rules(const CanonChain *a, const CanonChain *b, size_t **ret_a_match, size_t **ret_b_match) {
        size_t na = a ? a->n_rules : 0, nb = b ? b->n_rules : 0, n = na + nb;
        _cleanup_free_ KeyRef *refs = calloc(n + 1, sizeof(*refs));
        _cleanup_free_ uint32_t *ids = calloc(n + 1, sizeof(*ids));
        _cleanup_free_ size_t *am = calloc(na + 1, sizeof(*am)), *bm = calloc(nb + 1, sizeof(*bm));
        uint32_t next = 0;
        int r;

        if (!refs || !ids || !am || !bm)
                return -ENOMEM;
        for (size_t i = 0; i < na; i++)
                refs[i] = (KeyRef) { &a->rules[i].key, &ids[i] };
        for (size_t j = 0; j < nb; j++)
                refs[na + j] = (KeyRef) { &b->rules[j].key, &ids[na + j] };
        qsort(refs, n, sizeof(*refs), keyref_cmp);
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && !canon_key_equal(refs[i - 1].key, refs[i].key))
                        next++;
                *refs[i].id = next;
        }
        r = diff_lcs(ids, na, ids + na, nb, am, bm);
        if (r < 0)
                return r;
        *ret_a_match = TAKE_PTR(am);
        *ret_b_match = TAKE_PTR(bm);
        return 0;
}

/* ------------------------------------------------------------------ object-level difference */

static int push(Diff *d, DiffEntry e) {
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 16;
                DiffEntry *n = realloc(d->entries, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                d->entries = n;
                d->cap = cap;
        }
        d->entries[d->n++] = e;
        return 0;
}

/* Added, removed or changed, for one object present on at least one side. */
static int push_item(Diff *d, DiffObject object, const CanonItem *a, const CanonItem *b) {
        const CanonItem *any = a ? a : b;
        DiffEntry e = {
                .object = object, .name = any->name, .obj_type = any->type,
                .a = a ? a->obj : NULL, .b = b ? b->obj : NULL,
                .a_pos = DIFF_NONE, .b_pos = DIFF_NONE,
        };

        if (a && b && canon_key_equal(&a->key, &b->key))
                return 0;
        e.change = !a ? DIFF_ADDED : !b ? DIFF_REMOVED : DIFF_CHANGED;
        return push(d, e);
}

int diff_chains(const CanonChain *a, const CanonChain *b, Diff *d) {
        _cleanup_free_ size_t *am = NULL, *bm = NULL;
        const char *name;
        int r;

        if (!a && !b)
                return 0;
        name = (a ? a : b)->item.name;
        r = push_item(d, DIFF_CHAIN, a ? &a->item : NULL, b ? &b->item : NULL);
        if (r >= 0)
                r = diff_rules(a, b, &am, &bm);
        for (size_t i = 0; r >= 0 && a && i < a->n_rules; i++)
                if (am[i] == DIFF_NONE)
                        r = push(d, (DiffEntry) { .change = DIFF_REMOVED, .object = DIFF_RULE, .name = name,
                                                  .a = a->rules[i].rule, .a_pos = i, .b_pos = DIFF_NONE });
        for (size_t j = 0; r >= 0 && b && j < b->n_rules; j++)
                if (bm[j] == DIFF_NONE)
                        r = push(d, (DiffEntry) { .change = DIFF_ADDED, .object = DIFF_RULE, .name = name,
                                                  .b = b->rules[j].rule, .a_pos = DIFF_NONE, .b_pos = j });
        return r;
}

int diff_sets(const CanonSet *a, const CanonSet *b, Diff *d) {
        size_t na = a ? a->n_elems : 0, nb = b ? b->n_elems : 0, i = 0, j = 0;
        const char *name;
        int r;

        if (!a && !b)
                return 0;
        name = (a ? a : b)->item.name;
        r = push_item(d, DIFF_SET, a ? &a->item : NULL, b ? &b->item : NULL);
        while (r >= 0 && (i < na || j < nb)) {
                const CanonElem *x = i < na ? a->by_key[i] : NULL, *y = j < nb ? b->by_key[j] : NULL;
                int c = !x ? 1 : !y ? -1 : canon_key_cmp(&x->key, &y->key);
                DiffEntry e = { .object = DIFF_ELEM, .name = name, .a_pos = DIFF_NONE, .b_pos = DIFF_NONE };

                if (c < 0) {
                        e.change = DIFF_REMOVED;
                        e.a = x->elem;
                        i++;
                } else if (c > 0) {
                        e.change = DIFF_ADDED;
                        e.b = y->elem;
                        j++;
                } else {
                        i++, j++;
                        if (canon_key_equal(&x->content, &y->content))
                                continue;
                        e.change = DIFF_CHANGED;
                        e.a = x->elem;
                        e.b = y->elem;
                }
                r = push(d, e);
        }
        return r;
}

static int item_cmp(const CanonItem *x, const CanonItem *y) {
        if (!x || !y)
                return !x ? 1 : -1;     /* an exhausted side sorts last */
        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Walk two arrays sorted by item_cmp() together. @size is the element size
 * (CanonChain and CanonSet start with their CanonItem). */
typedef int (*pair_fn)(const void *a, const void *b, DiffObject object, Diff *d);

static int walk_pairs(const void *a, size_t na, const void *b, size_t nb, size_t size,
                      DiffObject object, pair_fn fn, Diff *d) {
        size_t i = 0, j = 0;
        int r = 0;

        while (r >= 0 && (i < na || j < nb)) {
                const void *x = i < na ? (const char *) a + i * size : NULL;
                const void *y = j < nb ? (const char *) b + j * size : NULL;
                int c = item_cmp(x, y);

                r = fn(c <= 0 ? x : NULL, c >= 0 ? y : NULL, object, d);
                i += c <= 0;
                j += c >= 0;
        }
        return r;
}

static int pair_chain(const void *a, const void *b, DiffObject object, Diff *d) { return diff_chains(a, b, d); }
static int pair_set(const void *a, const void *b, DiffObject object, Diff *d) { return diff_sets(a, b, d); }
static int pair_item(const void *a, const void *b, DiffObject object, Diff *d) { return push_item(d, object, a, b); }

int diff_canon_tables(const CanonTable *a, const CanonTable *b, Diff *d) {
        static const CanonTable empty = {};
        const CanonTable *x = a ? a : &empty, *y = b ? b : &empty;
        int r = 0;

        if (!a && !b)
                return 0;
        if (!a || !b || !canon_key_equal(&a->key, &b->key))
                r = push(d, (DiffEntry) { .change = !a ? DIFF_ADDED : !b ? DIFF_REMOVED : DIFF_CHANGED,
                                          .object = DIFF_TABLE, .name = (a ? a : b)->table->name,
                                          .a = a ? a->table->table : NULL, .b = b ? b->table->table : NULL,
                                          .a_pos = DIFF_NONE, .b_pos = DIFF_NONE });
        if (r >= 0)
                r = walk_pairs(x->chains, x->n_chains, y->chains, y->n_chains, sizeof(CanonChain), DIFF_CHAIN, pair_chain, d);
        if (r >= 0)
                r = walk_pairs(x->sets, x->n_sets, y->sets, y->n_sets, sizeof(CanonSet), DIFF_SET, pair_set, d);
        if (r >= 0)
                r = walk_pairs(x->objs, x->n_objs, y->objs, y->n_objs, sizeof(CanonItem), DIFF_OBJ, pair_item, d);
        if (r >= 0)
                r = walk_pairs(x->flowtables, x->n_flowtables, y->flowtables, y->n_flowtables, sizeof(CanonItem),
                               DIFF_FLOWTABLE, pair_item, d);
        return r;
}

Diff *diff_free(Diff *d) {
        if (!d)
                return NULL;
        free(d->entries);
        free(d);
        return NULL;
}

static int canon_pair(const RsTable *a, const RsTable *b, unsigned flags, CanonTable **ret_a, CanonTable **ret_b) {
        _cleanup_(canon_table_freep) CanonTable *ca = NULL, *cb = NULL;
        int r;

        if (a && (r = canon_table_new(a, flags, &ca)) < 0)
                return r;
        if (b && (r = canon_table_new(b, flags, &cb)) < 0)
                return r;
        *ret_a = TAKE_PTR(ca);
        *ret_b = TAKE_PTR(cb);
        return 0;
}

int diff_tables(const RsTable *a, const RsTable *b, unsigned flags, Diff **ret) {
        _cleanup_(canon_table_freep) CanonTable *ca = NULL, *cb = NULL;
        _cleanup_(diff_freep) Diff *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        r = canon_pair(a, b, flags, &ca, &cb);
        if (r >= 0)
                r = diff_canon_tables(ca, cb, d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

int diff_tables_equal(const RsTable *a, const RsTable *b, unsigned flags) {
        _cleanup_(canon_table_freep) CanonTable *ca = NULL, *cb = NULL;
        int r = canon_pair(a, b, flags, &ca, &cb);

        if (r < 0)
                return r;
        return canon_table_equal(ca, cb);
}

static int push_ref(TableRef **refs, size_t *n, const RsTable *t) {
        TableRef *nr = realloc(*refs, (*n + 1) * sizeof(**refs));

        if (!nr)
                return -ENOMEM;
        *refs = nr;
        nr[*n] = (TableRef) { .family = t->family, .name = strdup(t->name) };
        if (!nr[*n].name)
                return -ENOMEM;
        (*n)++;
        return 0;
}

int diff_changed_tables(const Ruleset *a, const Ruleset *b, unsigned flags,
                        TableRef **ret, size_t *ret_n) {
        TableRef *refs = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < a->tables.n; i++) {
                const RsTable *t = ruleset_table(a, i);

                r = diff_tables_equal(t, ruleset_find_table(b, t->family, t->name), flags);
                if (r == 0)
                        r = push_ref(&refs, &n, t);
        }
        for (size_t i = 0; r >= 0 && i < b->tables.n; i++) {
                const RsTable *t = ruleset_table(b, i);

                if (!ruleset_find_table(a, t->family, t->name))
                        r = push_ref(&refs, &n, t);
        }
        if (r < 0) {
                table_refs_free(refs, n);
                return r;
        }
        *ret = refs;
        *ret_n = n;
        return 0;
}

/* ------------------------------------------------------------------ words */

static const char *const obj_type_names[] = {
        [NFT_OBJECT_COUNTER] = "counter",
        [NFT_OBJECT_QUOTA] = "quota",
        [NFT_OBJECT_CT_HELPER] = "ct helper",
        [NFT_OBJECT_LIMIT] = "limit",
        [NFT_OBJECT_CONNLIMIT] = "connlimit",
        [NFT_OBJECT_TUNNEL] = "tunnel",
        [NFT_OBJECT_CT_TIMEOUT] = "ct timeout",
        [NFT_OBJECT_SECMARK] = "secmark",
        [NFT_OBJECT_CT_EXPECT] = "ct expectation",
        [NFT_OBJECT_SYNPROXY] = "synproxy",
};

static int udata_comment_cb(const struct nftnl_udata *attr, void *data) {
        if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && nftnl_udata_len(attr) > 0) {
                const char *s = nftnl_udata_get(attr);
                if (memchr(s, 0, nftnl_udata_len(attr)))
                        *(const char **) data = s;
        }
        return 0;
}

static void describe_rule(FILE *f, const char *chain, const struct nftnl_rule *rule, size_t pos) {
        const char *comment = NULL;
        struct nftnl_expr_iter *it;
        struct nftnl_expr *e;
        uint32_t len = 0;
        const void *udata = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &len);

        fprintf(f, "rule");
        if (pos != DIFF_NONE)
                fprintf(f, " #%zu", pos + 1);
        fprintf(f, " of chain %s", chain);
        if (udata && len > 0)
                nftnl_udata_parse(udata, len, udata_comment_cb, &comment);
        if (comment)
                fprintf(f, " (comment \"%s\")", comment);
        fprintf(f, ":");
        it = nftnl_expr_iter_create(rule);
        while (it && (e = nftnl_expr_iter_next(it))) {
                char buf[512];

                nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
                fprintf(f, " [ %s %s]", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), buf);
        }
        if (it)
                nftnl_expr_iter_destroy(it);
}

static void hex(FILE *f, const void *p, uint32_t len) {
        for (uint32_t i = 0; i < len; i++)
                fprintf(f, "%02x", ((const uint8_t *) p)[i]);
}

static void describe_elem(FILE *f, const char *set, const struct nftnl_set_elem *elem) {
        struct nftnl_set_elem *e = (struct nftnl_set_elem *) elem;
        uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
        uint32_t len = 0;
        const void *key;

        fprintf(f, "element ");
        if (flags & NFT_SET_ELEM_CATCHALL)
                fprintf(f, "*");
        if ((key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len)))
                hex(f, key, len);
        if ((key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len))) {
                fprintf(f, "-");
                hex(f, key, len);
        }
        if (flags & NFT_SET_ELEM_INTERVAL_END)
                fprintf(f, " (interval end)");
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
                fprintf(f, " : %s %s", (int32_t) nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT) == NFT_JUMP ? "jump" : "goto",
                        nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
        fprintf(f, " of set %s", set);
}

int diff_describe(DiffObject object, const char *name, uint32_t obj_type, const void *obj,
                  size_t pos, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        if (!f)
                return -ENOMEM;
        switch (object) {
        case DIFF_RULE:
                describe_rule(f, name, obj, pos);
                break;
        case DIFF_ELEM:
                describe_elem(f, name, obj);
                break;
        case DIFF_OBJ:
                if (obj_type < ELEMENTSOF(obj_type_names) && obj_type_names[obj_type])
                        fprintf(f, "%s %s", obj_type_names[obj_type], name);
                else
                        fprintf(f, "object %s (type %u)", name, obj_type);
                break;
        default:
                fprintf(f, "%s %s", diff_object_to_string(object), name);
                break;
        }
        if (fclose(f) != 0 || !s)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

int diff_entry_describe(const DiffEntry *e, char **ret) {
        bool in_b = e->change != DIFF_REMOVED;
        _cleanup_free_ char *what = NULL;
        char *s;
        int r;

        r = diff_describe(e->object, e->name, e->obj_type, in_b ? e->b : e->a, in_b ? e->b_pos : e->a_pos, &what);
        if (r < 0)
                return r;
        if (asprintf(&s, "%s %s", diff_change_to_string(e->change), what) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

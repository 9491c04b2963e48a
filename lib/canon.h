/* SPDX-License-Identifier: GPL-2.0-or-later */
/* canon.h — canonical byte keys of nftables objects, and a table indexed by them */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

struct nftnl_set_elem;

/* Without this flag, state does not count: the packets and bytes of counters
 * (in rules, chains, counter objects and set elements), the consumption of
 * quotas, the `last` expression's time and the remaining time of set
 * elements. With it, two objects are equal only if their state is too. */
#define CANON_COUNTERS (1u << 0)

/* Bytes that are equal exactly when two objects are, for the flags they were
 * built with. Not netlink: lengths are 32 bits, so a rule's key can hold its
 * anonymous sets, elements included. */
typedef struct CanonKey {
        uint8_t *data;
        size_t len;
} CanonKey;

void canon_key_done(CanonKey *k);
int canon_key_cmp(const CanonKey *a, const CanonKey *b);
/* NULL stands for an absent object: equal only to another NULL. */
bool canon_key_equal(const CanonKey *a, const CanonKey *b);

/* One key per object. Rules need their table: a rule's anonymous sets
 * (`tcp dport { 22, 80 }`) are folded into its key by content, because their
 * names (__set0...) are handed out by each kernel and mean nothing. */
int canon_key_table(const struct nftnl_table *t, unsigned flags, CanonKey *ret);
int canon_key_chain(const struct nftnl_chain *c, unsigned flags, CanonKey *ret);
int canon_key_obj(const struct nftnl_obj *o, unsigned flags, CanonKey *ret);
int canon_key_flowtable(const struct nftnl_flowtable *f, unsigned flags, CanonKey *ret);
int canon_key_set(const struct nftnl_set *s, unsigned flags, CanonKey *ret);   /* definition only */
int canon_key_rule(const RsTable *t, const struct nftnl_rule *r, unsigned flags, CanonKey *ret);
/* An element's identity in its set: key, key end, and whether it is an
 * interval end or the catch-all element. */
int canon_key_elem(const struct nftnl_set_elem *e, CanonKey *ret);
/* Everything else about an element: data, verdict, timeout, expressions... */
int canon_key_elem_content(const struct nftnl_set_elem *e, unsigned flags, CanonKey *ret);

/* A table indexed by canonical keys. Objects are borrowed from the RsTable,
 * which must outlive this. Anonymous sets appear only inside rule keys. */
typedef struct CanonItem {
        const char *name;
        uint32_t type;          /* the object type (NFT_OBJECT_*) for objects, else 0 */
        void *obj;              /* struct nftnl_chain/set/obj/flowtable */
        CanonKey key;
} CanonItem;

typedef struct CanonRule {
        struct nftnl_rule *rule;
        size_t pos;             /* index in its chain */
        CanonKey key;
} CanonRule;

typedef struct CanonElem {
        struct nftnl_set_elem *elem;
        CanonKey key, content;
} CanonElem;

typedef struct CanonChain {
        CanonItem item;
        CanonRule *rules;       /* in chain order */
        size_t n_rules;
} CanonChain;

typedef struct CanonSet {
        CanonItem item;
        CanonElem *elems;       /* in the set's own order */
        CanonElem **by_key;     /* the same, sorted by key */
        size_t n_elems;
} CanonSet;

typedef struct CanonTable {
        const RsTable *table;
        unsigned flags;
        CanonKey key;
        CanonChain *chains;     /* each array sorted by name (objects: type, name) */
        size_t n_chains;
        CanonSet *sets;         /* named sets only */
        size_t n_sets;
        CanonItem *objs;
        size_t n_objs;
        CanonItem *flowtables;
        size_t n_flowtables;
} CanonTable;

/* -EBADMSG if @t holds what no kernel could: two elements with one key. */
int canon_table_new(const RsTable *t, unsigned flags, CanonTable **ret);
CanonTable *canon_table_free(CanonTable *ct);
static inline void canon_table_freep(CanonTable **ct) { if (*ct) canon_table_free(*ct); }

/* Lookups; NULL when absent (also when @ct is NULL, an absent table). */
const CanonChain *canon_table_chain(const CanonTable *ct, const char *name);
const CanonSet *canon_table_set(const CanonTable *ct, const char *name);
const CanonItem *canon_table_obj(const CanonTable *ct, uint32_t type, const char *name);
const CanonItem *canon_table_flowtable(const CanonTable *ct, const char *name);
const CanonElem *canon_set_elem(const CanonSet *cs, const CanonKey *key);

/* Equality of what was indexed; NULL is an absent object. */
bool canon_table_equal(const CanonTable *a, const CanonTable *b);
bool canon_chain_equal(const CanonChain *a, const CanonChain *b);   /* definition and rules */
bool canon_set_equal(const CanonSet *a, const CanonSet *b);         /* definition and elements */

/* Is @s an anonymous set (bound to one rule)? */
bool canon_set_is_anonymous(const struct nftnl_set *s);

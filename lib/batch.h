/* SPDX-License-Identifier: GPL-2.0-or-later */
/* batch.h — one kernel transaction that replaces whole tables, or a few rules */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ruleset.h"

typedef struct TableRef {
        uint32_t family;
        char *name;
} TableRef;

/* Parse "inet:filter,ip:nat" into refs; -EINVAL with @err naming the bad item. */
int table_refs_parse(const char *s, TableRef **ret, size_t *ret_n, char *err, size_t errlen);
void table_refs_free(TableRef *refs, size_t n);

/* A chain, by family, table and name. */
typedef struct ChainRef {
        uint32_t family;
        char *table;
        char *chain;
} ChainRef;

typedef struct ChainRefs {
        ChainRef *items;
        size_t n;
} ChainRefs;

/* Add (@family, @table, @chain), copied, unless it is there already:
 * 1 added, 0 there, -ENOMEM. */
int chain_refs_add(ChainRefs *refs, uint32_t family, const char *table, const char *chain);
/* Remove @chain of @table; every chain of @table if @chain is NULL. */
void chain_refs_remove(ChainRefs *refs, uint32_t family, const char *table, const char *chain);
void chain_refs_clear(ChainRefs *refs);

/* Make the tables of the live ruleset that @refs names (all tables if @refs is
 * NULL) look exactly like they are in @target, in one transaction:
 * a table in @live is deleted, a table in @target is created with all it
 * holds. Tables owned by another process (NFT_TABLE_F_OWNER) are never touched,
 * on either side. @genid conditions the batch (0: no condition).
 * Returns 0, or a negative errno with @err telling
 * which object the kernel rejected: -ERESTART means the ruleset changed since
 * @genid, and nothing changed. */
int batch_replace_tables(Nl *nl, const Ruleset *target, const Ruleset *live,
                         const TableRef *refs, size_t n_refs, uint32_t genid,
                         char *err, size_t errlen);

/* One transaction, conditioned on @genid (0: none), that deletes the rules
 * of @del (struct nftnl_rule *, each with its family, table, chain and
 * handle) and then puts the rules of @add at the head of their chains, the
 * rules of one chain in the order of @add. Returns 0, or a negative errno
 * with @err naming the rule the kernel rejected: -ERESTART means the ruleset
 * changed since @genid, and nothing changed. */
int batch_rules(Nl *nl, const PtrVec *del, const PtrVec *add, uint32_t genid, char *err, size_t errlen);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* batch.h — one kernel transaction that replaces whole tables */
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

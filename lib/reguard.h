/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reguard.h — the guard put back at the head of live base chains, in one small batch */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "guard.h"
#include "nl.h"
#include "ruleset.h"

typedef struct ReguardRequest {
        const ChainRefs *chains;        /* where the guard belongs */
        const uint16_t *ports;          /* the SSH ports */
        size_t n_ports;
        const GuardSources *sources;    /* NULL: any */
        uint32_t genid;                 /* the generation the caller planned from */
} ReguardRequest;

/* Guard each chain of @req->chains exactly, as it is live: unless it starts
 * with exactly the guard for @req->ports and holds no other guard rule (for
 * any port), its guard rules go and the guard goes to its head. Chains that
 * are gone, are not base chains on a hook that SSH crosses, or belong to a
 * table that another process owns, are left alone. One batch for all of
 * them, conditioned on @req->genid. *@ret_done (may be NULL) becomes the
 * chains that changed. Returns 0; -ERESTART if the ruleset moved since
 * @req->genid (nothing changed: plan again); another negative errno with
 * @err saying what failed. */
int reguard_chains(Nl *nl, const ReguardRequest *req, ChainRefs *ret_done, char *err, size_t errlen);

/* Add to @ret the chains of @rs that hold a guard rule, for any port. */
int reguard_sites(const Ruleset *rs, ChainRefs *ret);

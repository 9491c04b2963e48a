/* SPDX-License-Identifier: GPL-2.0-or-later */
/* preflight.h — guard a change and prove, in the sandbox, that SSH stays reachable */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "guard.h"
#include "probe.h"
#include "ruleset.h"
#include "sandbox.h"

/* Where one probe goes: the host interface the admin's packets arrive on,
 * the host's address there, and the admin's address. */
typedef struct PreflightTarget {
        char host_if[IFNAMSIZ];
        ProbeAddr server;
        ProbeAddr client;
} PreflightTarget;

/* Probe targets from the host's own interfaces: the first global IPv4
 * address, and the first global IPv6 one if the host has one, probed from
 * @probe_addrs (the config's probe addresses, one per family). -ENOENT with
 * @err when the host has no address to probe. */
int preflight_targets(const ProbeAddr *probe_addrs, size_t n_probe_addrs,
                      PreflightTarget **ret, size_t *ret_n, char *err, size_t errlen);

/* The target for an admin connected over @conn (lib/peer.h): the host's
 * interface holding the connection's local address, probed from its peer.
 * -ENOENT when the peer is the host itself (ssh localhost, a forward). */
struct PeerConn;
int preflight_target_from_peer(const struct PeerConn *conn, PreflightTarget *ret);

typedef struct PreflightRequest {
        const Ruleset *s0;              /* live */
        const Ruleset *s1;              /* what the change makes of it */
        const uint16_t *ports;
        size_t n_ports;
        const GuardSources *sources;    /* NULL: any */
        const PreflightTarget *targets;
        size_t n_targets;
        unsigned timeout_ms;            /* per probe, 0: default */
        SandboxLimits limits;
        bool no_probe;                  /* only guard the touched tables: both verdicts say
                                         * reachable, with no results, and @targets is unused */
} PreflightRequest;

/* What one ruleset gives, for every target and port. */
typedef struct PreflightVerdict {
        bool reachable;                 /* every port of every target */
        ProbeResult *results;           /* one per target, in order */
        size_t n_results;
} PreflightVerdict;

typedef struct Preflight {
        Ruleset *guarded;               /* S1': S1 with the guard */
        TableRef *touched;              /* tables that S1 creates, changes or deletes */
        size_t n_touched;
        char **extra;                   /* "inet f2b input": base chains of other tables
                                         * guarded because they block SSH */
        size_t n_extra;
        ChainRefs extra_chains;         /* the same chains, by name */
        PreflightVerdict as_written;    /* S1 */
        PreflightVerdict with_guard;    /* S1' */
} Preflight;

/* Guard every base chain of the tables that S1 touches, probe S1 and S1' in
 * the sandbox, and guard any other base chain that still blocks SSH with a
 * TCP-level drop, until SSH is reachable or nothing a guard can fix is left.
 * With @req->no_probe, only the first step: nothing is proven, the verdicts
 * say reachable with zero results, and no other table is guarded.
 * Returns 0 (the verdicts say what was found), or a negative errno with
 * *ret_errors saying what failed. */
int preflight_run(const PreflightRequest *req, Preflight **ret, char **ret_errors);
Preflight *preflight_free(Preflight *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Preflight *, preflight_free);

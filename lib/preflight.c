/* SPDX-License-Identifier: GPL-2.0-or-later */
/* preflight.c — guard a change and prove, in the sandbox, that SSH stays reachable
 *
 * The guard goes at the head of every base chain of the tables the change
 * touches: those tables are ours to rewrite. Other tables stay as they were
 * (they were live when the admin connected, and other tools rely on seeing
 * SSH first: fail2ban's bans), unless a real packet shows that one of their
 * base chains blocks SSH: then that chain, and only it, is guarded too.
 *
 * Proof is a real TCP connection through every table, in a sandbox that
 * holds the ruleset and placeholders of the host's interfaces: an accept
 * ends only its own base chain, so no reading of the rules can stand in for
 * it. The probe runs on S1 as written (the user's own verdict) and on S1'
 * (what apply would commit). When a TCP-level drop in an untouched table
 * remains, that base chain is guarded and S1' probed again; a drop of ARP or
 * neighbour discovery, a chain in an owned table, or the same blocker twice
 * ends the loop: the verdict then says SSH would be unreachable.
 */
#include <errno.h>
#include <stddef.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <libnftnl/chain.h>

#include "diff.h"
#include "macro.h"
#include "peer.h"
#include "preflight.h"

/* Each round guards at least one more chain; a ruleset has few base chains. */
#define GUARD_ROUNDS_MAX 16

static bool global_v6(const struct in6_addr *a) {
        return !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_MULTICAST(a) &&
               !IN6_IS_ADDR_UNSPECIFIED(a);
}

static const ProbeAddr *probe_addr_of(const ProbeAddr *addrs, size_t n, int family) {
        for (size_t i = 0; i < n; i++)
                if (addrs[i].family == family)
                        return &addrs[i];
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct ifaddrs *, freeifaddrs);

int preflight_targets(const ProbeAddr *probe_addrs, size_t n_probe_addrs,
                      PreflightTarget **ret, size_t *ret_n, char *err, size_t errlen) {
        _cleanup_(freeifaddrsp) struct ifaddrs *ifa = NULL;
        PreflightTarget *t;
        size_t n = 0;
        bool have[2] = {};

        if (getifaddrs(&ifa) < 0)
                return negative_errno();
        t = calloc(2, sizeof(*t));
        if (!t)
                return -ENOMEM;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                int family = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
                int k = family == AF_INET6;
                const ProbeAddr *client;

                if ((family != AF_INET && family != AF_INET6) || have[k] || streq(i->ifa_name, "lo"))
                        continue;
                if (family == AF_INET6 && !global_v6(&((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr))
                        continue;
                client = probe_addr_of(probe_addrs, n_probe_addrs, family);
                if (!client)
                        continue;
                snprintf(t[n].host_if, sizeof(t[n].host_if), "%.*s", (int) strcspn(i->ifa_name, ":"), i->ifa_name);
                t[n].server.family = family;
                if (family == AF_INET)
                        t[n].server.in = ((struct sockaddr_in *) i->ifa_addr)->sin_addr;
                else
                        t[n].server.in6 = ((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr;
                t[n].client = *client;
                have[k] = true;
                n++;
        }
        if (n == 0) {
                free(t);
                snprintf(err, errlen, "the host has no interface with an address to probe SSH on");
                return -ENOENT;
        }
        *ret = t;
        *ret_n = n;
        return 0;
}

/* sshd on :: sees IPv4 clients as ::ffff:a.b.c.d. */
static void unmap(int family, const struct in6_addr *a, ProbeAddr *ret) {
        if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a)) {
                ret->family = AF_INET;
                memcpy(&ret->in, &a->s6_addr[12], 4);
        } else if (family == AF_INET) {
                ret->family = AF_INET;
                memcpy(&ret->in, a, 4);
        } else {
                ret->family = AF_INET6;
                ret->in6 = *a;
        }
}

static bool same_addr(const ProbeAddr *a, const struct sockaddr *sa) {
        if (!sa || sa->sa_family != a->family)
                return false;
        if (a->family == AF_INET)
                return memcmp(&((const struct sockaddr_in *) sa)->sin_addr, &a->in, 4) == 0;
        return memcmp(&((const struct sockaddr_in6 *) sa)->sin6_addr, &a->in6, 16) == 0;
}

int preflight_target_from_peer(const PeerConn *conn, PreflightTarget *ret) {
        _cleanup_(freeifaddrsp) struct ifaddrs *ifa = NULL;
        PreflightTarget t = {};

        unmap(conn->family, &conn->local, &t.server);
        unmap(conn->family, &conn->peer, &t.client);
        if (getifaddrs(&ifa) < 0)
                return negative_errno();
        /* A peer that is one of our own addresses is no remote admin. */
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
                if (same_addr(&t.client, i->ifa_addr))
                        return -ENOENT;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
                if (same_addr(&t.server, i->ifa_addr) && !streq(i->ifa_name, "lo")) {
                        snprintf(t.host_if, sizeof(t.host_if), "%.*s", (int) strcspn(i->ifa_name, ":"), i->ifa_name);
                        *ret = t;
                        return 0;
                }
        return -ENOENT;
}

static void verdict_done(PreflightVerdict *v) {
        for (size_t i = 0; i < v->n_results; i++)
                probe_result_free(&v->results[i]);
        free(v->results);
        *v = (PreflightVerdict) {};
}

Preflight *preflight_free(Preflight *p) {
        if (!p)
                return NULL;
        ruleset_free(p->guarded);
        table_refs_free(p->touched, p->n_touched);
        for (size_t i = 0; i < p->n_extra; i++)
                free(p->extra[i]);
        free(p->extra);
        chain_refs_clear(&p->extra_chains);
        verdict_done(&p->as_written);
        verdict_done(&p->with_guard);
        free(p);
        return NULL;
}

/* The strings a ProbePort owns. */
static const size_t port_strings[] = {
        offsetof(ProbePort, table), offsetof(ProbePort, chain), offsetof(ProbePort, base_chain),
        offsetof(ProbePort, rule), offsetof(ProbePort, redirect), offsetof(ProbePort, message),
};
#define PORT_STRING(pp, off) (*(char **) ((char *) (pp) + (off)))

static int verdict_copy(const PreflightVerdict *from, PreflightVerdict *to) {
        verdict_done(to);
        to->results = calloc(MAX(from->n_results, (size_t) 1), sizeof(ProbeResult));
        if (!to->results)
                return -ENOMEM;
        to->reachable = from->reachable;
        for (size_t i = 0; i < from->n_results; i++) {
                const ProbeResult *o = &from->results[i];
                ProbeResult *d = &to->results[to->n_results++];

                d->traces_lost = o->traces_lost;
                d->ports = calloc(MAX(o->n_ports, (size_t) 1), sizeof(ProbePort));
                if (!d->ports)
                        return -ENOMEM;
                for (size_t j = 0; j < o->n_ports; j++) {
                        ProbePort *pp = &d->ports[d->n_ports++];

                        *pp = o->ports[j];
                        /* NULL first: what a failure leaves must be the copy's own to free. */
                        for (size_t k = 0; k < ELEMENTSOF(port_strings); k++)
                                PORT_STRING(pp, port_strings[k]) = NULL;
                        for (size_t k = 0; k < ELEMENTSOF(port_strings); k++) {
                                const char *src = PORT_STRING(&o->ports[j], port_strings[k]);

                                if (src && !(PORT_STRING(pp, port_strings[k]) = strdup(src)))
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

static int probe_all(const PreflightRequest *req, const Ruleset *rs, PreflightVerdict *v, char **ret_errors) {
        verdict_done(v);
        v->results = calloc(req->n_targets, sizeof(ProbeResult));
        if (!v->results)
                return -ENOMEM;
        v->reachable = true;
        for (size_t i = 0; i < req->n_targets; i++) {
                SandboxProbeRequest pr = {
                        .rs = rs,
                        .host_if = req->targets[i].host_if,
                        .server = req->targets[i].server,
                        .client = req->targets[i].client,
                        .ports = req->ports,
                        .n_ports = req->n_ports,
                        .timeout_ms = req->timeout_ms,
                        .limits = req->limits,
                };
                int r = sandbox_probe(&pr, &v->results[i], ret_errors);

                if (r < 0)
                        return r;
                v->n_results++;
                for (size_t j = 0; j < v->results[i].n_ports; j++)
                        v->reachable = v->reachable && v->results[i].ports[j].ok;
        }
        return 0;
}

static int add_extra(Preflight *p, const RsTable *t, const char *chain) {
        char **n = realloc(p->extra, (p->n_extra + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        p->extra = n;
        if (chain_refs_add(&p->extra_chains, t->family, t->name, chain) < 0)
                return -ENOMEM;
        if (asprintf(&p->extra[p->n_extra], "%s %s %s", family_name(t->family), t->name, chain) < 0)
                return -ENOMEM;
        p->n_extra++;
        return 0;
}

/* Guard the base chains that the last probe of S1' found blocking with a
 * TCP-level verdict. Returns how many chains it guarded. */
static int guard_blockers(const PreflightRequest *req, Preflight *p) {
        int guarded = 0, r;

        for (size_t i = 0; i < p->with_guard.n_results; i++) {
                const ProbeResult *res = &p->with_guard.results[i];

                for (size_t j = 0; j < res->n_ports; j++) {
                        const ProbePort *pp = &res->ports[j];
                        const char *base = pp->base_chain ? pp->base_chain : pp->chain;
                        struct nftnl_chain *c;
                        RsTable *t;

                        if (pp->ok || !pp->guard_fixable || !pp->table || !base)
                                continue;
                        t = ruleset_find_table(p->guarded, pp->family, pp->table);
                        if (!t || t->owned || !(c = rstable_find_chain(t, base)))
                                continue;
                        r = guard_chain(t, c, req->ports, req->n_ports, req->sources);
                        if (r == -EOPNOTSUPP || r == -EINVAL)
                                continue;       /* not a chain a guard can go into */
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = add_extra(p, t, base);
                                if (r < 0)
                                        return r;
                                guarded++;
                        }
                }
        }
        return guarded;
}

int preflight_run(const PreflightRequest *req, Preflight **ret, char **ret_errors) {
        _cleanup_(preflight_freep) Preflight *p = calloc(1, sizeof(Preflight));
        bool guarded = false;
        int r;

        if (!p)
                return -ENOMEM;
        if (ret_errors)
                *ret_errors = NULL;
        r = ruleset_copy(req->s1, &p->guarded);
        if (r < 0)
                return r;
        r = diff_changed_tables(req->s0, req->s1, 0, &p->touched, &p->n_touched);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_touched; i++) {
                RsTable *t = ruleset_find_table(p->guarded, p->touched[i].family, p->touched[i].name);

                if (!t || t->owned)
                        continue;       /* deleted by the change, or not ours to write */
                r = guard_table(t, req->ports, req->n_ports, req->sources);
                if (r < 0)
                        return r;
                guarded = guarded || r > 0;
        }
        if (req->no_probe) {
                /* Nothing is proven: no results, so no report shows a probe that never ran. */
                p->as_written.reachable = p->with_guard.reachable = true;
                *ret = TAKE_PTR(p);
                return 0;
        }

        r = probe_all(req, req->s1, &p->as_written, ret_errors);
        if (r < 0)
                return r;
        for (unsigned round = 0; round < GUARD_ROUNDS_MAX; round++) {
                /* S1' is S1 until a guard goes in: the live check's case. */
                if (round == 0 && !guarded)
                        r = verdict_copy(&p->as_written, &p->with_guard);
                else
                        r = probe_all(req, p->guarded, &p->with_guard, ret_errors);
                if (r < 0)
                        return r;
                if (p->with_guard.reachable)
                        break;
                r = guard_blockers(req, p);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;          /* what blocks is nothing a guard can fix */
        }
        *ret = TAKE_PTR(p);
        return 0;
}

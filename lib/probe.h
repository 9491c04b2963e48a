/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.h — reachability pre-flight: real TCP connections to the SSH ports, explained by tracing */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Ports per request: each needs a file descriptor passed over SCM_RIGHTS. */
#define PROBE_PORTS_MAX 64
#define PROBE_TIMEOUT_MS_DEFAULT 2000

typedef struct ProbeAddr {
        int family;                     /* AF_INET or AF_INET6 */
        union {
                struct in_addr in;
                struct in6_addr in6;
        };
} ProbeAddr;

/* "192.0.2.1" or "2001:db8::1"; -EINVAL for anything else. */
int probe_addr_parse(const char *s, ProbeAddr *ret);
/* The other way round: @a in @buf, which is returned. */
const char *probe_addr_str(const ProbeAddr *a, char buf[static INET6_ADDRSTRLEN]);

typedef struct ProbeRequest {
        /* Both ends of a veth pair, both in the calling process's network
         * namespace. client_if is lent to a client namespace for the probe
         * and given back; addresses and routes the probe adds are removed
         * again. lo and server_if are left up. */
        const char *server_if;
        const char *client_if;
        ProbeAddr server;               /* connected to; added to server_if if absent */
        ProbeAddr client;               /* the admin's address: the source of the probe */
        const uint16_t *ports;
        size_t n_ports;                 /* 1..PROBE_PORTS_MAX, no duplicates */
        unsigned timeout_ms;            /* budget of each port, 0: PROBE_TIMEOUT_MS_DEFAULT; the
                                         * ports are tried at the same time */
        char *err;                      /* optional: words for a failure of the probe itself */
        size_t errlen;
} ProbeRequest;

typedef enum ProbeVerdict {
        PROBE_REACHABLE,                /* handshake, and data went both ways */
        PROBE_BLOCKED_RULE,             /* a rule dropped or rejected a probe packet */
        PROBE_BLOCKED_POLICY,           /* a base chain's drop policy did */
        PROBE_REDIRECTED,               /* NAT sent the connection to another port or address */
        PROBE_UNEXPLAINED,              /* unreachable, but nftables let every probe packet pass */
} ProbeVerdict;

typedef enum ProbePacket {
        PROBE_PACKET_NONE,
        PROBE_PACKET_TCP,               /* a guard rule can let it through */
        PROBE_PACKET_ARP,               /* a TCP guard cannot */
        PROBE_PACKET_ND,                /* IPv6 neighbour discovery: a TCP guard cannot */
} ProbePacket;

typedef struct ProbePort {
        uint16_t port;
        bool ok;
        ProbeVerdict verdict;
        int error;                      /* what the client saw: 0, -ETIMEDOUT, -ECONNREFUSED,
                                         * -EPROTO (an answer that was not the echo), ... */
        bool connected;                 /* the TCP handshake completed */
        bool existing_server;           /* a listener that was already there (sshd) answered,
                                         * not the probe's echo */
        /* The blocker, for PROBE_BLOCKED_* and PROBE_REDIRECTED. */
        ProbePacket packet;             /* what the dropped (or redirected) packet was */
        bool answer;                    /* it was the server's answer, not the client's packet */
        bool reject;                    /* the rule rejects (the client got an error back) */
        bool guard_fixable;             /* TCP-level: the SSH guard at the head of the base chain
                                         * lets it through */
        uint32_t family;                /* NFPROTO_* of the table, 0 if none */
        char *table;
        char *chain;                    /* where the verdict happened */
        char *base_chain;               /* the base chain the packet entered to get there */
        uint64_t handle;                /* of the rule, 0 for a policy */
        char *rule;                     /* nft text of the rule (no handle); NULL for a policy,
                                         * or if the chain could not be listed */
        char *redirect;                 /* PROBE_REDIRECTED: "port 2222", "192.0.2.9 port 2222" */
        char *message;                  /* one sentence for the user, always set */
} ProbePort;

typedef struct ProbeResult {
        ProbePort *ports;               /* in the order of the request */
        size_t n_ports;
        bool traces_lost;               /* the kernel dropped trace events: explanations may miss */
} ProbeResult;

/* Connect from @req->client to @req->server on each port, through the
 * ruleset loaded in the calling process's network namespace, and say for
 * each port whether SSH would be reachable and, if not, what blocks it.
 * Needs CAP_NET_ADMIN (and CAP_SYS_ADMIN for unshare(CLONE_NEWNET)) over
 * this namespace; a user namespace that owns it will do. One probe at a
 * time per namespace. Returns 0 with @ret filled (the ports may well be
 * blocked: that is a result, not an error), or a negative errno with @ret
 * untouched and @req->err saying what went wrong. */
int probe_run(const ProbeRequest *req, ProbeResult *ret);

/* The longest probe_run() waits in all with this @timeout_ms (0: the default):
 * the exchange, plus its bounded waits for links and addresses to be ready.
 * Netlink round trips and process start-up come on top. */
uint64_t probe_budget_ms(unsigned timeout_ms);

/* Free what probe_run() put into @r and zero it; NULL is fine. Usable as
 * _cleanup_(probe_result_free) ProbeResult r = {}. */
void probe_result_free(ProbeResult *r);

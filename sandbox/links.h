/* SPDX-License-Identifier: GPL-2.0-or-later */
/* links.h — the host's interfaces, and placeholders for them in the sandbox */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

typedef struct LinkAddr {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t prefixlen;
        uint8_t addr[16];
} LinkAddr;

typedef struct Link {
        char name[IFNAMSIZ];
        unsigned index;
        LinkAddr *addrs;
        size_t n_addrs;
        char peer[IFNAMSIZ];    /* the other end of its placeholder pair, once created */
} Link;

typedef struct Links {
        Link *links;
        size_t n;
} Links;

/* The interfaces of the current network namespace, without loopback. */
int links_read_host(Links **ret);
Links *links_free(Links *l);
Link *links_find(const Links *l, const char *name);

/* In the current (fresh) network namespace: one veth per host interface with
 * its name, index and addresses, up, its peer's name in ->peer (both ends up).
 * @err names the link that failed. */
int links_create_placeholders(Links *l, char *err, size_t errlen);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ipnet.h — an IPv4 or IPv6 network, as the config reads it and the guard uses it */
#pragma once

#include <netinet/in.h>

/* A single address has the full prefix length. */
typedef struct IpNet {
        int family;             /* AF_INET or AF_INET6 */
        union {
                struct in_addr in;
                struct in6_addr in6;
        } addr;
        unsigned prefixlen;
} IpNet;

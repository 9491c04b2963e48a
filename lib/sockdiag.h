/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockdiag.h — the TCP sockets of the current network namespace (NETLINK_SOCK_DIAG) */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

typedef struct SockDiagTcp {
        uint32_t inode;
        int family;                     /* AF_INET or AF_INET6 */
        uint8_t state;                  /* TCP_* */
        struct in6_addr local, peer;    /* IPv4 in the first 4 bytes */
        uint16_t local_port, peer_port; /* host order */
} SockDiagTcp;

/* The IPv4 and IPv6 TCP sockets in the states of @states (a mask of
 * 1 << TCP_*). A sock_diag socket answers for the namespace it was opened
 * in, which is ours. -ENOENT: the kernel has no TCP sock_diag. */
int sockdiag_tcp(uint32_t states, SockDiagTcp **ret, size_t *ret_n);

/* The inodes of the sockets that process @pid holds (/proc/PID/fd). */
int sockdiag_pid_sockets(pid_t pid, uint32_t **ret, size_t *ret_n);

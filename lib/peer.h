/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.h — the SSH connection a process runs under */
#pragma once

#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

typedef struct PeerConn {
        pid_t sshd_pid;                 /* the per-connection sshd holding the socket */
        int family;                     /* AF_INET or AF_INET6 */
        struct in6_addr local, peer;    /* IPv4 in the first 4 bytes */
        uint16_t local_port, peer_port;
} PeerConn;

/* Walk from @pid up its ancestors to the first sshd process (the binary at
 * @sshd_path, or OpenSSH 9.8's sshd-session beside it) that holds an
 * established TCP connection, and return that connection. -ENOENT: @pid does
 * not run under SSH (a console, cron). This finds where the admin comes
 * from, for the pre-flight; it is not yet a proof of a fresh login. */
int peer_ssh_connection(pid_t pid, const char *sshd_path, PeerConn *ret);

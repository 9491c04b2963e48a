/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.h — the SSH connection a process runs under */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* ---------------------------------------------------------------- the proof of a fresh login */

/* Who called: the daemon's end of the caller's unix socket (for
 * SO_PEERPIDFD; -1 if there is none) and the SO_PEERCRED pid and uid. */
typedef struct PeerCaller {
        int sock_fd;
        pid_t pid;
        uid_t uid;
} PeerCaller;

/* Why a proof failed, for the message and for tests. */
typedef enum PeerRefusal {
        PEER_ACCEPTED,
        PEER_NOT_PINNED,                /* the caller exited, or its pid was reused */
        PEER_NO_SSHD,                   /* no per-connection sshd among the ancestors */
        PEER_NOT_INSTALLED_SSHD,        /* an ancestor holds the connection but is no installed sshd */
        PEER_BEFORE_COMMIT,             /* the connection's sshd started before the commit */
        PEER_MULTIPLEXED,               /* ...and the session's shell after it (ControlMaster) */
        PEER_LOCAL_PEER,                /* from loopback or one of the host's own addresses */
        PEER_PORT_NOT_GUARDED,          /* to a port that is not a guarded SSH port */
} PeerRefusal;

typedef struct PeerProof {
        PeerRefusal refusal;
        PeerConn conn;                  /* when an sshd was found */
        pid_t caller_pid;
        uint64_t sshd_start_boottime_ns;/* the per-connection sshd's start (tick resolution) */
        uint64_t session_start_boottime_ns; /* the first non-sshd process below it, 0 if none */
        char exe[256];                  /* PEER_NOT_INSTALLED_SSHD: what that ancestor runs */
} PeerProof;

/* The installed binaries a per-connection sshd may run: @sshd_path (resolved),
 * and sshd-session beside it or in /usr/lib/openssh, /usr/libexec/openssh,
 * /usr/libexec. Is @exe (a /proc/PID/exe target) one of them, the very file
 * (same inode), not deleted? @pid_exe_fd_path is /proc/PID/exe for the inode
 * check, NULL to compare the path only. Exposed for the unit tests. */
bool peer_exe_is_installed_sshd(const char *exe, const char *pid_exe_path, const char *sshd_path);

/* Does the caller run under a fresh SSH login (docs/architecture.md,
 * "Confirmation")? Pins the caller (SO_PEERPIDFD, else pidfd_open and a
 * re-check), walks its ancestors to the per-connection sshd (root, the
 * installed binary, a child of the sshd listener holding a LISTEN socket on
 * one of @ports, or of PID 1 for `sshd -i`), whose connection (found through
 * its fds and sock_diag) must be on one of @ports, from neither loopback nor
 * one of the host's addresses, and which must have started more than one
 * clock tick after @committed_boottime_ns (CLOCK_BOOTTIME).
 * Returns 0 when accepted, -EPERM when refused (@ret->refusal says why, and
 * @why in words for the caller, without advice), another negative errno when
 * it cannot tell (with @why). @sshd_path NULL: PORTS_SSHD_PATH_DEFAULT. */
int peer_confirm_proof(const PeerCaller *caller, const char *sshd_path, uint64_t committed_boottime_ns,
                       const uint16_t *ports, size_t n_ports, PeerProof *ret, char *why, size_t whylen);

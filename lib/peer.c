/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.c — the SSH connection a process runs under
 *
 * The pre-flight must probe from where the administrator really is: a
 * ruleset that allows SSH only from an office network is fine for an admin
 * in that office and a lockout for anyone else. Environment variables such
 * as SSH_CONNECTION can be set by anyone; the kernel's view cannot: the
 * caller's ancestors (/proc/PID/stat), the sshd binary they run
 * (/proc/PID/exe), the sockets it holds (/proc/PID/fd) and what sock_diag
 * says those sockets are connected to.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>

#include "macro.h"
#include "peer.h"
#include "ports.h"
#include "sockdiag.h"

/* Deeper than any login: sshd, shell, sudo, su, a script or two. */
#define ANCESTORS_MAX 64

static int parent_of(pid_t pid, pid_t *ret) {
        char path[64], buf[512], *close_paren;
        _cleanup_fclose_ FILE *f = NULL;
        int ppid;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        if (!fgets(buf, sizeof(buf), f))
                return -EIO;
        /* The command name may hold spaces and parentheses: skip to the last ')'. */
        close_paren = strrchr(buf, ')');
        if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
                return -EIO;
        *ret = ppid;
        return 0;
}

static bool is_sshd(const char *exe, const char *sshd_path) {
        _cleanup_free_ char *dir = strdup(sshd_path);
        char session[PATH_MAX];
        char *slash;

        if (streq(exe, sshd_path))
                return true;
        if (!dir || !(slash = strrchr(dir, '/')))
                return false;
        *slash = 0;
        /* Debian puts sshd-session in /usr/lib/openssh, others beside sshd. */
        snprintf(session, sizeof(session), "%s/sshd-session", dir);
        return streq(exe, session) || streq(exe, "/usr/lib/openssh/sshd-session");
}

static int match(pid_t pid, const SockDiagTcp *tcp, size_t n_tcp, PeerConn *ret) {
        _cleanup_free_ uint32_t *inodes = NULL;
        size_t n = 0;
        int r = sockdiag_pid_sockets(pid, &inodes, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n_tcp; j++) {
                        if (tcp[j].inode != inodes[i])
                                continue;
                        *ret = (PeerConn) {
                                .sshd_pid = pid, .family = tcp[j].family,
                                .local = tcp[j].local, .peer = tcp[j].peer,
                                .local_port = tcp[j].local_port, .peer_port = tcp[j].peer_port,
                        };
                        return 0;
                }
        return -ENOENT;
}

int peer_ssh_connection(pid_t pid, const char *sshd_path, PeerConn *ret) {
        _cleanup_free_ SockDiagTcp *tcp = NULL;
        size_t n_tcp = 0;
        int r;

        r = sockdiag_tcp(1u << TCP_ESTABLISHED, &tcp, &n_tcp);
        if (r < 0)
                return r;
        for (unsigned depth = 0; pid > 1 && depth < ANCESTORS_MAX; depth++) {
                char exe[PATH_MAX];

                if (ports_process_exe(pid, exe, sizeof(exe)) >= 0 && is_sshd(exe, sshd_path)) {
                        r = match(pid, tcp, n_tcp, ret);
                        if (r != -ENOENT)
                                return r;
                }
                r = parent_of(pid, &pid);
                if (r < 0)
                        return r;
        }
        return -ENOENT;
}

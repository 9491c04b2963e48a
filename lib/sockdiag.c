/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockdiag.c — the TCP sockets of the current network namespace
 *
 * Both the SSH port discovery (listening sockets) and the search for the
 * admin's connection (established ones) match sockets to processes by
 * inode; this dumps them once per family, with their addresses.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include <libmnl/libmnl.h>

#include "macro.h"
#include "sockdiag.h"

#define DIAG_BUFSIZE (64 * 1024)

typedef struct Collect {
        SockDiagTcp *items;
        size_t n;
} Collect;

static int on_msg(const struct nlmsghdr *nlh, void *data) {
        Collect *c = data;
        const struct inet_diag_msg *m;
        SockDiagTcp *grown;

        if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
                return MNL_CB_OK;
        m = mnl_nlmsg_get_payload(nlh);
        grown = reallocarray(c->items, c->n + 1, sizeof(*grown));
        if (!grown) {
                errno = ENOMEM;
                return MNL_CB_ERROR;
        }
        c->items = grown;
        grown = &c->items[c->n++];
        *grown = (SockDiagTcp) {
                .inode = m->idiag_inode,
                .family = m->idiag_family,
                .state = m->idiag_state,
                .local_port = ntohs(m->id.idiag_sport),
                .peer_port = ntohs(m->id.idiag_dport),
        };
        memcpy(&grown->local, m->id.idiag_src, sizeof(grown->local));
        memcpy(&grown->peer, m->id.idiag_dst, sizeof(grown->peer));
        return MNL_CB_OK;
}

static void mnl_socket_closep(struct mnl_socket **s) {
        if (*s)
                mnl_socket_close(*s);
}

static int dump(struct mnl_socket *nl, uint8_t family, uint32_t states, uint32_t seq, Collect *c) {
        _cleanup_free_ char *buf = malloc(DIAG_BUFSIZE);
        struct inet_diag_req_v2 *req;
        struct nlmsghdr *nlh;
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
        req->sdiag_family = family;
        req->sdiag_protocol = IPPROTO_TCP;
        req->idiag_states = states;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return negative_errno();
        do {
                n = mnl_socket_recvfrom(nl, buf, DIAG_BUFSIZE);
                if (n < 0)
                        return negative_errno();
                r = mnl_cb_run(buf, (size_t) n, seq, mnl_socket_get_portid(nl), on_msg, c);
                if (r == MNL_CB_ERROR)
                        return negative_errno();
        } while (r > MNL_CB_STOP);
        return 0;
}

int sockdiag_tcp(uint32_t states, SockDiagTcp **ret, size_t *ret_n) {
        _cleanup_(mnl_socket_closep) struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
        uint32_t seq = (uint32_t) time(NULL);
        Collect c = {};
        int r;

        if (!nl)
                return negative_errno();
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        r = dump(nl, AF_INET, states, seq, &c);
        if (r >= 0)
                r = dump(nl, AF_INET6, states, seq + 1, &c);
        if (r < 0) {
                free(c.items);
                return r;
        }
        *ret = c.items;
        *ret_n = c.n;
        return 0;
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

int sockdiag_pid_sockets(pid_t pid, uint32_t **ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ uint32_t *inodes = NULL;
        char path[64], link[64];
        struct dirent *de;
        size_t n = 0;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        d = opendir(path);
        if (!d)
                return negative_errno();
        while ((errno = 0, de = readdir(d))) {
                unsigned long inode;
                uint32_t *grown;
                char *end;
                ssize_t len;

                if (de->d_name[0] == '.')
                        continue;
                len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                if (len < 0)
                        continue;       /* the fd was closed meanwhile */
                link[len] = '\0';
                if (strncmp(link, "socket:[", 8) != 0)
                        continue;
                errno = 0;
                inode = strtoul(link + 8, &end, 10);
                if (errno != 0 || *end != ']' || inode > UINT32_MAX)
                        continue;
                grown = reallocarray(inodes, n + 1, sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                inodes = grown;
                inodes[n++] = (uint32_t) inode;
        }
        if (errno > 0)
                return -errno;
        *ret = TAKE_PTR(inodes);
        *ret_n = n;
        return 0;
}

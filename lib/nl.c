/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nl.c — the nftables netlink socket
 *
 * One NETLINK_NETFILTER socket per user. Dumps use a large receive buffer
 * because the kernel sizes its dump messages after the reader's buffer, and a
 * truncated message would silently lose objects. Batches carry NLM_F_ACK on
 * every message: the kernel processes a batch synchronously inside sendmsg(),
 * so when sendmsg() returns every answer is already queued, and reading until
 * EAGAIN collects all of them. The receive buffer is sized to the number of
 * answers so that none can be dropped; a missing ACK is an error, never
 * success.
 *
 * An events socket (nl_open_events) only listens, on a socket of its own:
 * events interleaved with the answers of a dump would be taken for them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>

#include "macro.h"
#include "nl.h"

#define NL_DUMP_BUFSIZE (256 * 1024)

struct Nl {
        struct mnl_socket *sock;
        uint32_t portid;
        uint32_t seq;
        char *buf;
};

Nl *nl_free(Nl *nl) {
        if (!nl)
                return NULL;
        if (nl->sock)
                mnl_socket_close(nl->sock);
        free(nl->buf);
        free(nl);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

/* An Nl with its buffer and an unbound netfilter socket of @flags. */
static int nl_alloc(int flags, Nl **ret) {
        _cleanup_(nl_freep) Nl *nl = calloc(1, sizeof(*nl));

        if (!nl)
                return -ENOMEM;
        nl->buf = malloc(NL_DUMP_BUFSIZE);
        if (!nl->buf)
                return -ENOMEM;
        nl->sock = mnl_socket_open2(NETLINK_NETFILTER, flags);
        if (!nl->sock)
                return negative_errno();
        *ret = TAKE_PTR(nl);
        return 0;
}

int nl_open(Nl **ret) {
        _cleanup_(nl_freep) Nl *nl = NULL;
        int one = 1, r;

        r = nl_alloc(SOCK_CLOEXEC, &nl);
        if (r < 0)
                return r;
        if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        /* Short ACKs (no echo of our message) and the kernel's error text. */
        (void) mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
        (void) mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
        nl->portid = mnl_socket_get_portid(nl->sock);
        nl->seq = (uint32_t) time(NULL);
        *ret = TAKE_PTR(nl);
        return 0;
}

uint32_t nl_next_seq(Nl *nl) {
        return ++nl->seq;
}

static int set_bufsize(Nl *nl, int force_opt, int opt, size_t size) {
        int fd = mnl_socket_get_fd(nl->sock);
        int v = size > INT32_MAX / 2 ? INT32_MAX / 2 : (int) size;

        if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) == 0)
                return 0;
        /* Without CAP_NET_ADMIN the limit is net.core.[rw]mem_max. */
        if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
                return negative_errno();
        return 0;
}

typedef struct DumpCtx {
        nl_msg_cb cb;
        void *userdata;
        int error;
} DumpCtx;

static int dump_data_cb(const struct nlmsghdr *nlh, void *data) {
        DumpCtx *ctx = data;
        int r;

        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
                ctx->error = -EINTR;
                return MNL_CB_ERROR;
        }
        r = ctx->cb(nlh, ctx->userdata);
        if (r < 0) {
                ctx->error = r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

/* Send @req with @flags added and run @cb on each answer until the kernel's
 * DONE or ACK. */
static int nl_exchange(Nl *nl, struct nlmsghdr *req, uint16_t flags, nl_msg_cb cb, void *userdata) {
        DumpCtx ctx = { .cb = cb, .userdata = userdata };
        uint32_t seq = nl_next_seq(nl);
        ssize_t n;
        int r;

        req->nlmsg_seq = seq;
        req->nlmsg_flags |= flags;
        if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
                return negative_errno();

        for (;;) {
                n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_DUMP_BUFSIZE);
                if (n < 0)
                        return negative_errno();
                r = mnl_cb_run(nl->buf, (size_t) n, seq, nl->portid, dump_data_cb, &ctx);
                if (r == MNL_CB_STOP)
                        return 0;
                if (r < 0)
                        return ctx.error < 0 ? ctx.error : negative_errno();
        }
}

int nl_dump(Nl *nl, struct nlmsghdr *req, nl_msg_cb cb, void *userdata) {
        return nl_exchange(nl, req, NLM_F_DUMP, cb, userdata);
}

int nl_request(Nl *nl, struct nlmsghdr *req, nl_msg_cb cb, void *userdata) {
        return nl_exchange(nl, req, NLM_F_ACK, cb, userdata);
}

static int gen_cb(const struct nlmsghdr *nlh, void *data) {
        uint32_t *genid = data;
        struct nftnl_gen *gen = nftnl_gen_alloc();
        int r = 0;

        if (!gen)
                return -ENOMEM;
        if (nftnl_gen_nlmsg_parse(nlh, gen) < 0)
                r = -EBADMSG;
        else
                *genid = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
        nftnl_gen_free(gen);
        return r;
}

int nl_genid(Nl *nl, uint32_t *ret) {
        char buf[256];
        uint32_t genid = 0;
        int r;

        r = nl_request(nl, nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, 0), gen_cb, &genid);
        if (r < 0)
                return r;
        *ret = genid;
        return 0;
}

int nl_open_events(size_t rcvbuf, Nl **ret) {
        _cleanup_(nl_freep) Nl *nl = NULL;
        int r;

        r = nl_alloc(SOCK_CLOEXEC | SOCK_NONBLOCK, &nl);
        if (r < 0)
                return r;
        r = set_bufsize(nl, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
        if (r < 0)
                return r;
        if (mnl_socket_bind(nl->sock, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        nl->portid = mnl_socket_get_portid(nl->sock);
        *ret = TAKE_PTR(nl);
        return 0;
}

int nl_fd(const Nl *nl) {
        return mnl_socket_get_fd(nl->sock);
}

uint32_t nl_portid(const Nl *nl) {
        return nl->portid;
}

int nl_events_read(Nl *nl, nl_msg_cb cb, void *userdata) {
        int fd = mnl_socket_get_fd(nl->sock), lost = 0, r;

        for (;;) {
                ssize_t n = recv(fd, nl->buf, NL_DUMP_BUFSIZE, MSG_DONTWAIT);
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) nl->buf;
                int len;

                if (n < 0 && errno == ENOBUFS) {
                        lost = -ENOBUFS;
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return lost;
                if (n < 0)
                        return negative_errno();
                for (len = (int) n; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                        if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
                                continue;       /* no errors or acks come unasked */
                        r = cb(nlh, userdata);
                        if (r < 0)
                                return r;
                }
        }
}

/* Parse one NLMSG_ERROR answer: 0 for an ACK, the error otherwise. */
static int parse_ack(const struct nlmsghdr *nlh, uint32_t *ret_seq, char *msg, size_t msgsize) {
        const struct nlmsgerr *err;
        struct nlattr *attr;
        size_t hdrlen = sizeof(*err);

        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
                return -EBADMSG;
        err = mnl_nlmsg_get_payload(nlh);
        *ret_seq = err->msg.nlmsg_seq;
        if (err->error == 0)
                return 0;
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                hdrlen += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
        if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && msg && mnl_nlmsg_size(hdrlen) <= nlh->nlmsg_len)
                mnl_attr_for_each(attr, nlh, hdrlen)
                        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
                            mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
                                snprintf(msg, msgsize, "%s", mnl_attr_get_str(attr));
        return err->error < 0 ? err->error : -err->error;
}

int nl_batch_send(Nl *nl, struct nftnl_batch *batch, uint32_t begin_seq,
                  uint32_t first_seq, uint32_t n_msgs, NlBatchError *ret_err) {
        int fd = mnl_socket_get_fd(nl->sock);
        _cleanup_free_ struct iovec *iov = NULL;
        _cleanup_free_ uint8_t *acked = NULL;
        struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
        struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl) };
        NlBatchError first = {};
        uint32_t n_acked = 0;
        int iovlen, r;

        iovlen = nftnl_batch_iovec_len(batch);
        iov = calloc((size_t) iovlen, sizeof(*iov));
        acked = calloc(n_msgs ? n_msgs : 1, 1);
        if (!iov || !acked)
                return -ENOMEM;
        nftnl_batch_iovec(batch, iov, (uint32_t) iovlen);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t) iovlen;

        /* The whole batch travels as one skb, and each answer is one skb. */
        size_t total = 0;
        for (int i = 0; i < iovlen; i++)
                total += iov[i].iov_len;
        r = set_bufsize(nl, SO_SNDBUFFORCE, SO_SNDBUF, total * 2 + 65536);
        if (r < 0)
                return r;
        r = set_bufsize(nl, SO_RCVBUFFORCE, SO_RCVBUF, (size_t) n_msgs * 2048 + 262144);
        if (r < 0)
                return r;

        if (sendmsg(fd, &msg, 0) < 0)
                return negative_errno();

        for (;;) {
                ssize_t n = recv(fd, nl->buf, NL_DUMP_BUFSIZE, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        return negative_errno();
                }
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) nl->buf;
                int len = (int) n;
                for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                        uint32_t seq = 0;
                        char text[sizeof(first.message)] = "";

                        if (nlh->nlmsg_type != NLMSG_ERROR)
                                continue;
                        r = parse_ack(nlh, &seq, text, sizeof(text));
                        if (r == 0 && seq - first_seq < n_msgs && !acked[seq - first_seq]) {
                                acked[seq - first_seq] = 1;
                                n_acked++;
                        } else if (r < 0 && (first.error == 0 || seq < first.seq)) {
                                first.seq = seq;
                                first.error = r;
                                snprintf(first.message, sizeof(first.message), "%s", text);
                        }
                }
        }

        if (first.error == 0 && n_acked == n_msgs)
                return 0;
        if (first.error == 0)
                first.error = -EPROTO;   /* answers were lost: never assume success */
        if (first.seq == begin_seq && first.error == -ERESTART)
                first.seq = 0;
        if (ret_err)
                *ret_err = first;
        return first.error;
}

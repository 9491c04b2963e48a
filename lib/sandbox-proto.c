/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-proto.c — sending and checking the messages of sandbox-proto.h
 *
 * Both ends of the privilege boundary use these two functions and nothing
 * else, so the checks live in one place: after sandbox_msg_recv() returns a
 * type, the message has exactly the length and the fds that this type
 * must have. Anything else is refused whole and its fds are closed, so a
 * confused or hostile peer can neither smuggle an fd in nor make us read
 * past what it sent. Fds are the only references that cross: a path from the
 * other side would be resolved with the wrong permissions, in the wrong
 * mount namespace, or after it changed.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "macro.h"
#include "sandbox-proto.h"

typedef struct MsgSpec {
        size_t size;            /* fixed part; text messages add their len */
        size_t n_fds;
} MsgSpec;

static const MsgSpec specs[_SANDBOX_MSG_MAX] = {
        [SANDBOX_MSG_COMPILE]  = { sizeof(SandboxMsgCompile), 2 },
        [SANDBOX_MSG_RESULT]   = { sizeof(SandboxMsgResult), 1 },
        [SANDBOX_MSG_REJECTED] = { offsetof(SandboxMsgText, text), 0 },
        [SANDBOX_MSG_FAILED]   = { offsetof(SandboxMsgText, text), 0 },
};

static bool is_text(uint32_t type) {
        return type == SANDBOX_MSG_REJECTED || type == SANDBOX_MSG_FAILED;
}

size_t sandbox_msg_size(const SandboxMsg *msg) {
        size_t n = specs[msg->type].size;

        return is_text(msg->type) ? n + msg->text.len : n;
}

int sandbox_msg_send(int sock, const SandboxMsg *msg, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * SANDBOX_FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) msg, .iov_len = sandbox_msg_size(msg) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (n_fds > SANDBOX_FDS_MAX)
                return -EINVAL;
        if (n_fds > 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return (size_t) n == iov.iov_len ? 0 : -EMSGSIZE;
}

bool sandbox_display_name_valid(const char *s) {
        size_t len = strnlen(s, SANDBOX_NAME_MAX);

        if (len == 0 || len == SANDBOX_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

static bool valid(const SandboxMsg *msg, size_t len, size_t n_fds) {
        if (len < sizeof(uint32_t) || msg->type == 0 || msg->type >= _SANDBOX_MSG_MAX)
                return false;
        if (len < specs[msg->type].size || n_fds != specs[msg->type].n_fds)
                return false;
        switch ((SandboxMsgType) msg->type) {
        case SANDBOX_MSG_COMPILE:
                return len == sizeof(SandboxMsgCompile) &&
                       msg->compile.n_groups <= SANDBOX_GROUPS_MAX &&
                       sandbox_display_name_valid(msg->compile.display_name);
        case SANDBOX_MSG_RESULT:
                return len == sizeof(SandboxMsgResult);
        case SANDBOX_MSG_REJECTED:
                return msg->text.error == 0 && msg->text.len <= SANDBOX_TEXT_MAX &&
                       len == sandbox_msg_size(msg);
        case SANDBOX_MSG_FAILED:
                return msg->text.error < 0 && msg->text.error > -4096 &&
                       msg->text.len <= SANDBOX_TEXT_MAX && len == sandbox_msg_size(msg);
        case _SANDBOX_MSG_MAX:
                break;
        }
        return false;
}

int sandbox_msg_recv(int sock, int flags, SandboxMsg *ret, int ret_fds[static SANDBOX_FDS_MAX]) {
        /* Room for one fd more than any message carries, so that an extra
         * one shows up as a count mismatch rather than as MSG_CTRUNC. */
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * (SANDBOX_FDS_MAX + 1))];
        } control;
        struct iovec iov = { .iov_base = ret, .iov_len = sizeof(*ret) };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
        };
        int fds[SANDBOX_FDS_MAX + 1];
        size_t n_fds = 0;
        bool bad = false;
        ssize_t n;

        do
                n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                        bad = true;
                        continue;
                }
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n_fds < ELEMENTSOF(fds))
                                fds[n_fds++] = fd;
                        else {
                                close(fd);
                                bad = true;
                        }
                }
        }
        if (n == 0 && n_fds == 0 && !bad)
                return 0;
        if (bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !valid(ret, (size_t) n, n_fds)) {
                for (size_t i = 0; i < n_fds; i++)
                        close(fds[i]);
                return -EBADMSG;
        }
        for (size_t i = 0; i < SANDBOX_FDS_MAX; i++)
                ret_fds[i] = i < n_fds ? fds[i] : -1;
        return (int) ret->type;
}

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
#include <sys/wait.h>

#include "macro.h"
#include "probe.h"
#include "ruleset.h"
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
        [SANDBOX_MSG_PROBE]    = { sizeof(SandboxMsgProbe), 1 },
        [SANDBOX_MSG_PROBED]   = { offsetof(SandboxMsgProbed, ports), 0 },
        [SANDBOX_MSG_LIST]     = { sizeof(SandboxMsgList), 1 },
        [SANDBOX_MSG_LISTED]   = { sizeof(SandboxMsgResult), 1 },
        [SANDBOX_MSG_EXITED]   = { sizeof(SandboxMsgExited), 0 },
};

static bool is_text(uint32_t type) {
        return type == SANDBOX_MSG_REJECTED || type == SANDBOX_MSG_FAILED;
}

size_t sandbox_msg_size(const SandboxMsg *msg) {
        size_t n = specs[msg->type].size;

        if (is_text(msg->type))
                return n + msg->text.len;
        if (msg->type == SANDBOX_MSG_PROBED)
                return n + (size_t) msg->probed.n_ports * sizeof(SandboxProbePort);
        return n;
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

/* 1..@size-1 bytes and a NUL, none of them a control character or in @refused. */
static bool clean_string(const char *s, size_t size, const char *refused) {
        size_t len = strnlen(s, size);

        if (len == 0 || len == size)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f || strchr(refused, s[i]))
                        return false;
        return true;
}

bool sandbox_display_name_valid(const char *s) {
        return clean_string(s, SANDBOX_NAME_MAX, "");
}

bool sandbox_ifname_valid(const char *s) {
        /* The kernel's dev_valid_name(), and quotes for nft text. */
        return clean_string(s, IFNAMSIZ, "/: \"\\") && !streq(s, ".") && !streq(s, "..");
}

void sandbox_addr_pack(const ProbeAddr *a, SandboxMsgAddr *ret) {
        *ret = (SandboxMsgAddr) { .family = (uint32_t) a->family };
        memcpy(ret->addr, a->family == AF_INET ? (const void *) &a->in : (const void *) &a->in6,
               a->family == AF_INET ? sizeof(a->in) : sizeof(a->in6));
}

void sandbox_addr_unpack(const SandboxMsgAddr *a, ProbeAddr *ret) {
        *ret = (ProbeAddr) { .family = (int) a->family };
        if (a->family == AF_INET)
                memcpy(&ret->in, a->addr, sizeof(ret->in));
        else
                memcpy(&ret->in6, a->addr, sizeof(ret->in6));
}

static bool addr_valid(const SandboxMsgAddr *a) {
        static const uint8_t zero[sizeof(a->addr)];

        if (a->family == AF_INET)
                return memcmp(a->addr + 4, zero, sizeof(a->addr) - 4) == 0;
        return a->family == AF_INET6;
}

const char *sandbox_msg_probe_check(const SandboxMsgProbe *m) {
        if (!sandbox_ifname_valid(m->host_if))
                return "the interface name is empty, too long, or has characters an interface name cannot have";
        if (!addr_valid(&m->server) || !addr_valid(&m->client) || m->server.family != m->client.family)
                return "the server and client addresses are not two addresses of one family, IPv4 or IPv6";
        if (memcmp(m->server.addr, m->client.addr, sizeof(m->server.addr)) == 0)
                return "the server and client addresses are the same";
        if (m->n_ports == 0 || m->n_ports > SANDBOX_PROBE_PORTS_MAX)
                return "the probe takes 1 to " STRINGIFY(SANDBOX_PROBE_PORTS_MAX) " ports";
        if (m->timeout_ms == 0 || m->timeout_ms > SANDBOX_PROBE_TIMEOUT_MS_MAX)
                return "the probe's timeout is not 1 to " STRINGIFY(SANDBOX_PROBE_TIMEOUT_MS_MAX) " ms";
        for (uint32_t i = 0; i < SANDBOX_PROBE_PORTS_MAX; i++) {
                if (i >= m->n_ports) {
                        if (m->ports[i] != 0)
                                return "the request has ports beyond its port count";
                        continue;
                }
                if (m->ports[i] == 0)
                        return "port 0 cannot be probed";
                for (uint32_t j = 0; j < i; j++)
                        if (m->ports[j] == m->ports[i])
                                return "a port is named twice";
        }
        return NULL;
}

/* The strings of a port, for packing, unpacking and checking alike. */
typedef struct PortString {
        size_t wire;            /* offset of the char array in SandboxProbePort */
        size_t size;            /* its size */
        size_t field;           /* offset of the char * in ProbePort */
        uint32_t bit;           /* SANDBOX_PROBE_HAS_*, 0: always set */
        bool cut;               /* may be cut when too long */
} PortString;

#define PORT_STRING(name, sz, b, c) \
        { offsetof(SandboxProbePort, name), sz, offsetof(ProbePort, name), b, c }
static const PortString port_strings[] = {
        PORT_STRING(table, SANDBOX_PROBE_NAME_MAX, SANDBOX_PROBE_HAS_TABLE, false),
        PORT_STRING(chain, SANDBOX_PROBE_NAME_MAX, SANDBOX_PROBE_HAS_CHAIN, false),
        PORT_STRING(base_chain, SANDBOX_PROBE_NAME_MAX, SANDBOX_PROBE_HAS_BASE_CHAIN, false),
        PORT_STRING(rule, SANDBOX_PROBE_RULE_MAX, SANDBOX_PROBE_HAS_RULE, true),
        PORT_STRING(redirect, SANDBOX_PROBE_REDIRECT_MAX, SANDBOX_PROBE_HAS_REDIRECT, false),
        PORT_STRING(message, SANDBOX_PROBE_MESSAGE_MAX, 0, true),
};
#undef PORT_STRING

static char *wire_string(const SandboxProbePort *p, const PortString *f) {
        return (char *) p + f->wire;
}

static char **field_string(const ProbePort *p, const PortString *f) {
        return (char **) ((char *) p + f->field);
}

static bool has_string(const SandboxProbePort *p, const PortString *f) {
        return f->bit == 0 || (p->present & f->bit);
}

/* Copy @s into @dst: whole, or cut to "...", never inside a UTF-8 sequence. */
static int put_string(char *dst, size_t size, const char *s, bool cut) {
        size_t len = strlen(s);

        if (len >= size && !cut)
                return -EINVAL;
        if (len >= size) {
                len = size - sizeof("...");
                while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80)
                        len--;
                memcpy(dst + len, "...", sizeof("..."));
        } else
                dst[len] = '\0';
        memcpy(dst, s, len);
        return 0;
}

int sandbox_probe_port_pack(const ProbePort *p, SandboxProbePort *ret) {
        SandboxProbePort o = {
                .handle = p->handle, .port = p->port,
                .ok = p->ok, .connected = p->connected, .existing_server = p->existing_server,
                .answer = p->answer, .reject = p->reject, .guard_fixable = p->guard_fixable,
                .verdict = p->verdict, .packet = p->packet, .error = p->error, .family = p->family,
        };

        if (!p->message || !*p->message)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(port_strings); i++) {
                const PortString *f = &port_strings[i];
                const char *s = *field_string(p, f);

                if (!s)
                        continue;
                o.present |= f->bit;
                if (put_string(wire_string(&o, f), f->size, s, f->cut) < 0)
                        return -EINVAL;
        }
        *ret = o;
        return 0;
}

static void port_strings_free(ProbePort *p) {
        for (size_t i = 0; i < ELEMENTSOF(port_strings); i++)
                free(*field_string(p, &port_strings[i]));
}

int sandbox_probe_port_unpack(const SandboxProbePort *p, ProbePort *ret) {
        ProbePort o = {
                .handle = p->handle, .port = p->port,
                .ok = p->ok, .connected = p->connected, .existing_server = p->existing_server,
                .answer = p->answer, .reject = p->reject, .guard_fixable = p->guard_fixable,
                .verdict = (ProbeVerdict) p->verdict, .packet = (ProbePacket) p->packet,
                .error = p->error, .family = p->family,
        };

        for (size_t i = 0; i < ELEMENTSOF(port_strings); i++) {
                const PortString *f = &port_strings[i];
                char **s = field_string(&o, f);

                if (!has_string(p, f))
                        continue;
                *s = strdup(wire_string(p, f));
                if (!*s) {
                        port_strings_free(&o);
                        return -ENOMEM;
                }
        }
        *ret = o;
        return 0;
}

static bool port_valid(const SandboxProbePort *p) {
        if (p->port == 0 || p->ok > 1 || p->connected > 1 || p->existing_server > 1 || p->answer > 1 ||
            p->reject > 1 || p->guard_fixable > 1)
                return false;
        if (p->verdict > PROBE_UNEXPLAINED || p->ok != (p->verdict == PROBE_REACHABLE) ||
            p->packet > PROBE_PACKET_ND || p->error > 0 || p->error <= -4096 ||
            (p->family != 0 && !family_name(p->family)) || (p->present & ~(uint32_t) _SANDBOX_PROBE_HAS_ALL))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(port_strings); i++) {
                const PortString *f = &port_strings[i];
                size_t len = strnlen(wire_string(p, f), f->size);

                /* NUL-terminated; empty when not set; the message never empty. */
                if (len == f->size || (!has_string(p, f) && len > 0) || (f->bit == 0 && len == 0))
                        return false;
        }
        return true;
}

static bool probed_valid(const SandboxMsgProbed *m, size_t len) {
        if (m->n_ports == 0 || m->n_ports > SANDBOX_PROBE_PORTS_MAX || m->traces_lost > 1 || m->reserved != 0 ||
            len != sandbox_msg_size((const SandboxMsg *) m))
                return false;
        for (uint32_t i = 0; i < m->n_ports; i++)
                if (!port_valid(&m->ports[i]))
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
        case SANDBOX_MSG_LISTED:
                return len == sizeof(SandboxMsgResult);
        case SANDBOX_MSG_LIST:
                return len == sizeof(SandboxMsgList);
        case SANDBOX_MSG_REJECTED:
                return msg->text.error == 0 && msg->text.len <= SANDBOX_TEXT_MAX &&
                       len == sandbox_msg_size(msg);
        case SANDBOX_MSG_FAILED:
                return msg->text.error < 0 && msg->text.error > -4096 &&
                       msg->text.len <= SANDBOX_TEXT_MAX && len == sandbox_msg_size(msg);
        case SANDBOX_MSG_PROBE:
                return len == sizeof(SandboxMsgProbe) && !sandbox_msg_probe_check(&msg->probe);
        case SANDBOX_MSG_PROBED:
                return probed_valid(&msg->probed, len);
        case SANDBOX_MSG_EXITED:
                return len == sizeof(SandboxMsgExited) &&
                       (WIFEXITED(msg->exited.status) || WIFSIGNALED(msg->exited.status));
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.c — the reachability pre-flight
 *
 * The only proof that SSH survives a ruleset is a real packet through every
 * table. `accept` ends only the current base chain: another base chain on the
 * same hook (another table, another priority, a netdev ingress chain) or on
 * the answer's path (output, postrouting, egress) can still drop it, and NAT
 * can send it somewhere else. Reading the ruleset cannot settle that; the
 * kernel can. So the probe opens real TCP connections from a client network
 * namespace over a veth pair and sends data both ways: a ruleset that lets
 * only the SYN through (`ct state new accept` and no `established`) locks the
 * admin out as well. ARP and IPv6 neighbour discovery happen for real too (no
 * static neighbour entries), because an `arp` table or an ICMPv6 drop locks
 * the admin out just as surely, and a TCP guard cannot fix those.
 *
 * When a connection fails, nftables tracing says why. Temporary tables mark
 * the probe's packets with nftrace in base chains at the lowest priority of
 * the hooks where they enter (netdev ingress of server_if, prerouting, output,
 * arp input and output; input and postrouting see the mark set before them),
 * and the trace events name the rule or policy that dropped one, or the NAT
 * rule that sent it elsewhere. A traced drop also ends that connection's
 * wait early: the ruleset would drop the retransmission too, and a blocked
 * port then costs a moment rather than the whole timeout. The trace tables carry the owner flag and
 * belong to this process's libnftables socket: even a crash cannot leave them
 * behind, the kernel deletes them when that socket closes.
 *
 * The client namespace is made by a forked child that only calls unshare(),
 * creates sockets there and hands them back over SCM_RIGHTS: a socket keeps
 * working in the namespace it was made in, whoever holds it. Everything else
 * (rtnetlink on both sides, listeners, connections, trace collection) runs in
 * this process in one poll loop, so the child never allocates after fork()
 * (the caller may have threads) and no handshake between the two is needed.
 * client_if is moved back before the client namespace goes away, because
 * destroying a namespace deletes the veth pair.
 *
 * What the probe cannot see: bridge-family chains (server_if is no bridge
 * port), a queue verdict (no program answers it in the sandbox), and a chain
 * at the very lowest priority that runs before a trace chain: what it drops
 * is reported as never having reached nftables.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <nftables/libnftables.h>

#include "macro.h"
#include "probe.h"
#include "ptrvec.h"
#include "ruleset.h"

#define TRACE_TABLE "fwguard-probe-trace"
#define TRACE_EVENTS_MAX 4096           /* a probe makes a few dozen; more means someone else traces */
#define TRACE_RECENT 64                 /* packet headers of the latest trace ids */
#define TRACE_BUFSIZE (64 * 1024)
#define LINK_UP_TIMEOUT_MS 2000
#define BLOCKED_GRACE_MS 100           /* from a traced drop to the end of its connection */
#define RTNL_BUFSIZE 32768

/* The client's greeting: a valid SSH identification string, so that a real
 * sshd already listening on the port takes it calmly. The probe's own
 * listener echoes it back. */
static const char greeting[] = "SSH-2.0-fwguard-probe\r\n";
#define GREETING_LEN (sizeof(greeting) - 1)

/* ------------------------------------------------------------------ addresses */

int probe_addr_parse(const char *s, ProbeAddr *ret) {
        ProbeAddr a = {};

        if (inet_pton(AF_INET, s, &a.in) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, s, &a.in6) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

static size_t addr_size(const ProbeAddr *a) {
        return a->family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
}

static const void *addr_bytes(const ProbeAddr *a) {
        return a->family == AF_INET ? (const void *) &a->in : (const void *) &a->in6;
}

static bool addr_is(const ProbeAddr *a, const uint8_t *raw) {
        return memcmp(addr_bytes(a), raw, addr_size(a)) == 0;
}

const char *probe_addr_str(const ProbeAddr *a, char buf[static INET6_ADDRSTRLEN]) {
        return inet_ntop(a->family, addr_bytes(a), buf, INET6_ADDRSTRLEN);
}

static socklen_t sockaddr_make(const ProbeAddr *a, uint16_t port, struct sockaddr_storage *ss) {
        memset(ss, 0, sizeof(*ss));
        if (a->family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *) ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                sin->sin_addr = a->in;
                return sizeof(*sin);
        }
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = a->in6;
        return sizeof(*sin6);
}

static uint16_t sockaddr_port(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET)
                return ntohs(((const struct sockaddr_in *) ss)->sin_port);
        return ntohs(((const struct sockaddr_in6 *) ss)->sin6_port);
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ rtnetlink */

typedef struct Rtnl {
        struct mnl_socket *sock;
        uint32_t seq;
} Rtnl;

static void rtnl_close(Rtnl *rt) {
        if (rt->sock)
                mnl_socket_close(rt->sock);
        rt->sock = NULL;
}

/* Send one request with NLM_F_ACK and read until its ACK, error or (for a
 * dump) NLMSG_DONE, feeding every other answer to @cb. */
static int rtnl_talk(Rtnl *rt, struct nlmsghdr *nlh, mnl_cb_t cb, void *data) {
        _cleanup_free_ char *buf = malloc(RTNL_BUFSIZE);
        uint32_t portid = mnl_socket_get_portid(rt->sock), seq = ++rt->seq;
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        nlh->nlmsg_seq = seq;
        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        if (mnl_socket_sendto(rt->sock, nlh, nlh->nlmsg_len) < 0)
                return negative_errno();
        do {
                n = mnl_socket_recvfrom(rt->sock, buf, RTNL_BUFSIZE);
                if (n < 0)
                        return negative_errno();
                r = mnl_cb_run(buf, (size_t) n, seq, portid, cb, data);
        } while (r > 0);
        return r < 0 ? negative_errno() : 0;
}

/* include/net/if_inet6.h (not in the uapi): IPv6 has seen the link come up. */
#define INET6_IF_READY 0x80000000U

typedef struct Link {
        int ifindex;
        unsigned flags;                 /* IFF_* */
        bool queue_active;              /* a real qdisc, not the "noop" one that drops */
        bool inet6_ready;
} Link;

static int link_cb(const struct nlmsghdr *nlh, void *data) {
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a, *af, *x;
        Link *l = data;

        if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
                return MNL_CB_OK;
        l->ifindex = ifi->ifi_index;
        l->flags = ifi->ifi_flags;
        mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
                if (mnl_attr_get_type(a) == IFLA_QDISC && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                        l->queue_active = !streq(mnl_attr_get_str(a), "noop");
                if (mnl_attr_get_type(a) != IFLA_AF_SPEC)
                        continue;
                mnl_attr_for_each_nested(af, a) {
                        if (mnl_attr_get_type(af) != AF_INET6)
                                continue;
                        mnl_attr_for_each_nested(x, af)
                                if (mnl_attr_get_type(x) == IFLA_INET6_FLAGS &&
                                    mnl_attr_validate(x, MNL_TYPE_U32) >= 0)
                                        l->inet6_ready = mnl_attr_get_u32(x) & INET6_IF_READY;
                }
        }
        return MNL_CB_OK;
}

/* By name, because an index need not survive a move between namespaces. */
static int link_get(Rtnl *rt, const char *name, Link *ret) {
        char buf[512];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifi;
        Link l = {};
        int r;

        nlh->nlmsg_type = RTM_GETLINK;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        r = rtnl_talk(rt, nlh, link_cb, &l);
        if (r < 0)
                return r;
        if (l.ifindex <= 0)
                return -ENODEV;
        *ret = l;
        return 0;
}

/* Bring the link up, or (@netns_fd >= 0) move it into that namespace. */
static int link_set(Rtnl *rt, int ifindex, int netns_fd) {
        char buf[512];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifi;

        nlh->nlmsg_type = RTM_NEWLINK;
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        if (netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
        else {
                ifi->ifi_change = IFF_UP;
                ifi->ifi_flags = IFF_UP;
        }
        return rtnl_talk(rt, nlh, NULL, NULL);
}

static int link_up_by_name(Rtnl *rt, const char *name) {
        Link l;
        int r = link_get(rt, name, &l);

        return r < 0 ? r : link_set(rt, l.ifindex, -1);
}

/* The carrier alone is not enough. The kernel's link watcher marks the link
 * operational (IFF_RUNNING) first, and only then replaces the "noop" queue
 * that discards everything and tells IPv6 that the link is up (IPv6 adds its
 * multicast route only then: a neighbour solicitation that comes earlier is
 * dropped). A first packet sent in between is lost, and the retry comes a
 * whole second later. */
static int link_wait_ready(Rtnl *rt, const char *name, int family, uint64_t deadline) {
        for (;;) {
                Link l = {};
                int r = link_get(rt, name, &l);

                if (r < 0)
                        return r;
                if ((l.flags & IFF_RUNNING) && l.queue_active && (family != AF_INET6 || l.inet6_ready))
                        return 0;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000000 }, NULL);
        }
}

static int route_type_cb(const struct nlmsghdr *nlh, void *data) {
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

        if (nlh->nlmsg_type == RTM_NEWROUTE && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*rtm))
                *(unsigned char *) data = rtm->rtm_type;
        return MNL_CB_OK;
}

/* An IPv6 address is not really there when RTM_NEWADDR returns: the kernel
 * joins its solicited-node multicast group and adds its local route later,
 * from a work queue. A neighbour solicitation for it, or the advertisement
 * answering one sent from it, that comes earlier is dropped without a trace,
 * and the retry comes a second later. The local route comes last, so wait
 * until the kernel routes @addr as local. (IPv4 adds the route at once.) */
static int addr_wait_local(Rtnl *rt, const ProbeAddr *addr, uint64_t deadline) {
        for (;;) {
                char buf[512];
                struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
                struct rtmsg *rtm;
                unsigned char type = RTN_UNSPEC;
                int r;

                nlh->nlmsg_type = RTM_GETROUTE;
                rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
                rtm->rtm_family = (uint8_t) addr->family;
                rtm->rtm_dst_len = (uint8_t) (addr_size(addr) * 8);
                mnl_attr_put(nlh, RTA_DST, addr_size(addr), addr_bytes(addr));
                r = rtnl_talk(rt, nlh, route_type_cb, &type);
                if (r < 0 && r != -ENETUNREACH && r != -EHOSTUNREACH)
                        return r;
                if (type == RTN_LOCAL)
                        return 0;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000000 }, NULL);
        }
}

typedef struct AddrMatch {
        int ifindex;
        const ProbeAddr *addr;
        bool found;
} AddrMatch;

static int addr_cb(const struct nlmsghdr *nlh, void *data) {
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a, *local = NULL, *address = NULL;
        AddrMatch *m = data;

        if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
                return MNL_CB_OK;
        if ((int) ifa->ifa_index != m->ifindex || ifa->ifa_family != m->addr->family)
                return MNL_CB_OK;
        mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
                if (mnl_attr_get_type(a) == IFA_LOCAL)
                        local = a;
                else if (mnl_attr_get_type(a) == IFA_ADDRESS)
                        address = a;
        }
        /* IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL, when
         * present, is always our own. */
        a = local ? local : address;
        if (a && mnl_attr_get_payload_len(a) == addr_size(m->addr) &&
            addr_is(m->addr, mnl_attr_get_payload(a)))
                m->found = true;
        return MNL_CB_OK;
}

/* Any prefix length counts: a caller's 192.0.2.1/24 serves as well as ours. */
static int addr_present(Rtnl *rt, int ifindex, const ProbeAddr *addr, bool *ret) {
        char buf[512];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;
        AddrMatch m = { .ifindex = ifindex, .addr = addr };
        int r;

        nlh->nlmsg_type = RTM_GETADDR;
        nlh->nlmsg_flags = NLM_F_DUMP;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t) addr->family;
        r = rtnl_talk(rt, nlh, addr_cb, &m);
        if (r < 0)
                return r;
        *ret = m.found;
        return 0;
}

/* A host address without duplicate address detection: DAD would keep an IPv6
 * address unusable for a second or more, and the probe has no rival. */
static int addr_change(Rtnl *rt, uint16_t cmd, int ifindex, const ProbeAddr *addr) {
        char buf[512];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;

        nlh->nlmsg_type = cmd;
        if (cmd == RTM_NEWADDR)
                nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t) addr->family;
        ifa->ifa_prefixlen = (uint8_t) (addr_size(addr) * 8);
        ifa->ifa_flags = IFA_F_NODAD;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t) ifindex;
        if (addr->family == AF_INET)
                mnl_attr_put(nlh, IFA_LOCAL, addr_size(addr), addr_bytes(addr));
        mnl_attr_put(nlh, IFA_ADDRESS, addr_size(addr), addr_bytes(addr));
        return rtnl_talk(rt, nlh, NULL, NULL);
}

/* A host route to @dst out of @ifindex, on-link: no gateway, so the kernel
 * resolves @dst itself with ARP or neighbour discovery. -EEXIST if the
 * namespace already has a route for exactly @dst. */
static int route_change(Rtnl *rt, uint16_t cmd, int ifindex, const ProbeAddr *dst) {
        char buf[512];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct rtmsg *rtm;

        nlh->nlmsg_type = cmd;
        if (cmd == RTM_NEWROUTE)
                nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = (uint8_t) dst->family;
        rtm->rtm_dst_len = (uint8_t) (addr_size(dst) * 8);
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = dst->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_DST, addr_size(dst), addr_bytes(dst));
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) ifindex);
        return rtnl_talk(rt, nlh, NULL, NULL);
}

/* The network namespace of a socket, as an fd (O_CLOEXEC by the kernel). */
static int socket_netns(int fd) {
        int r = ioctl(fd, SIOCGSKNS);

        return r < 0 ? negative_errno() : r;
}

/* ------------------------------------------------------------------ the client namespace */

/* Runs in the forked child. It may not allocate (the parent's other threads
 * may have held the allocator's lock at fork()), so it only makes system
 * calls, and it reports its errno in the message instead of returning. */
static _Noreturn void client_ns_child(int sock, int family, size_t n_tcp) {
        int fds[1 + PROBE_PORTS_MAX], err = 0;
        size_t n = 0;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(fds))];
        } control;
        struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct sockaddr_nl snl = { .nl_family = AF_NETLINK };

        memset(&control, 0, sizeof(control));
        if (unshare(CLONE_NEWNET) < 0)
                err = errno;
        else {
                fds[0] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
                if (fds[0] < 0 || bind(fds[0], (struct sockaddr *) &snl, sizeof(snl)) < 0)
                        err = errno;
                else
                        n = 1;
                while (err == 0 && n < 1 + n_tcp) {
                        fds[n] = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
                        if (fds[n] < 0)
                                err = errno;
                        else
                                n++;
                }
        }
        if (err == 0) {
                struct cmsghdr *cmsg;

                msg.msg_control = control.buf;
                msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
                cmsg = CMSG_FIRSTHDR(&msg);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
                memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
        }
        (void) sendmsg(sock, &msg, MSG_NOSIGNAL);
        _exit(0);
}

/* A fresh network namespace, as a bound rtnetlink socket (*ret_rtnl) and
 * @n_tcp non-blocking TCP sockets (ret_tcp[]) that live in it. */
static int client_ns_open(int family, size_t n_tcp, int *ret_rtnl, int *ret_tcp) {
        _cleanup_close_ int sock = -1;
        int pair[2], err = 0, fds[1 + PROBE_PORTS_MAX];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(fds))];
        } control;
        struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *cmsg;
        size_t n = 0;
        ssize_t len;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return negative_errno();
        sock = pair[0];
        pid = fork();
        if (pid < 0) {
                close(pair[1]);
                return negative_errno();
        }
        if (pid == 0)
                client_ns_child(pair[1], family, n_tcp);
        close(pair[1]);

        /* The child's end is closed here, so a child that dies early gives EOF. */
        do
                len = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (len < 0 && errno == EINTR);
        int saved = errno;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (len < 0)
                return -saved;

        cmsg = CMSG_FIRSTHDR(&msg);
        if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
                n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                memcpy(fds, CMSG_DATA(cmsg), n * sizeof(int));
        }
        if (len != sizeof(err) || err != 0 || n != 1 + n_tcp || (msg.msg_flags & MSG_CTRUNC)) {
                for (size_t i = 0; i < n; i++)
                        close(fds[i]);
                return len != sizeof(err) ? -EPROTO : err != 0 ? -err : -EPROTO;
        }
        *ret_rtnl = fds[0];
        memcpy(ret_tcp, fds + 1, n_tcp * sizeof(int));
        return 0;
}

/* ------------------------------------------------------------------ the probe's state */

typedef enum PktKind {
        PKT_OTHER,
        PKT_TCP,
        PKT_ARP,
        PKT_ND,
} PktKind;

/* What a trace event says about its packet. IPv4 and ARP addresses use the
 * first 4 bytes. */
typedef struct Pkt {
        PktKind kind;
        int af;
        uint8_t saddr[16], daddr[16];
        uint16_t sport, dport;
} Pkt;

typedef struct TraceEvent {
        uint32_t id;                    /* the same for one packet across chains and hooks */
        uint32_t family;                /* NFPROTO_* of the table */
        uint32_t type;                  /* NFT_TRACETYPE_* */
        int32_t verdict;                /* rule: the verdict code; policy: the policy */
        uint64_t handle;
        char *table, *chain, *jump;
        Pkt pkt;
} TraceEvent;

typedef enum ConnState {
        CONN_CONNECTING,
        CONN_EXCHANGING,
        CONN_DONE,
} ConnState;

/* One port: the client's socket (in the client namespace) and what it saw. */
typedef struct Conn {
        uint16_t port;
        int fd;
        uint16_t cport;                 /* its source port: tells its packets apart in traces */
        ConnState state;
        uint64_t blocked_ms;            /* when a trace showed it blocked; 0: not (yet) */
        bool connected;
        int error;
        size_t got;
        char rbuf[64];
        bool own_listener;              /* false: something else (sshd) listened on the port */
} Conn;

/* The nft listing of one chain, with handles. */
typedef struct Listing {
        uint32_t family;
        char *table, *chain, *text;
} Listing;

typedef struct Probe {
        const ProbeRequest *req;
        unsigned timeout_ms;
        Rtnl srv, cli;                  /* rtnetlink in the server and in the client namespace */
        int srv_ns, cli_ns;
        int server_ifindex;
        int client_ifindex;             /* in the client namespace */
        bool moved;                     /* client_if is in the client namespace */
        bool added_addr, added_route;
        struct nft_ctx *trace_nft;      /* owns the trace tables */
        bool trace_tables;
        struct mnl_socket *trace_sock;
        char *trace_buf;
        struct {
                uint32_t id;
                Pkt pkt;
        } recent[TRACE_RECENT];
        size_t n_recent;
        TraceEvent *events;
        size_t n_events;
        bool traces_lost;
        int trace_error;
        int listeners[PROBE_PORTS_MAX];
        Conn conns[PROBE_PORTS_MAX];
        int peers[PROBE_PORTS_MAX];     /* connections our listeners accepted, echoing */
        size_t n_peers;
        struct {
                uint16_t lport, cport;
        } accepted[PROBE_PORTS_MAX];
        size_t n_accepted;
        struct nft_ctx *list_nft;
        PtrVec listings;                /* Listing * */
} Probe;

/* Words for the caller; returns @r. */
_printf_(3, 4)
static int probe_error(Probe *p, int r, const char *fmt, ...) {
        va_list ap;

        if (p->req->err && p->req->errlen > 0) {
                va_start(ap, fmt);
                vsnprintf(p->req->err, p->req->errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

static void listing_free(void *v) {
        Listing *l = v;

        free(l->table);
        free(l->chain);
        free(l->text);
        free(l);
}

static void trace_tables_remove(Probe *p);

static void probe_done(Probe *p) {
        trace_tables_remove(p);
        if (p->trace_nft)
                nft_ctx_free(p->trace_nft);
        if (p->trace_sock)
                mnl_socket_close(p->trace_sock);
        free(p->trace_buf);
        for (size_t i = 0; i < p->n_events; i++) {
                free(p->events[i].table);
                free(p->events[i].chain);
                free(p->events[i].jump);
        }
        free(p->events);
        for (size_t i = 0; i < PROBE_PORTS_MAX; i++) {
                closep(&p->conns[i].fd);
                closep(&p->listeners[i]);
        }
        for (size_t i = 0; i < p->n_peers; i++)
                closep(&p->peers[i]);
        if (p->list_nft)
                nft_ctx_free(p->list_nft);
        ptrvec_clear(&p->listings, listing_free);

        /* Give client_if back: the client namespace dies with its last
         * socket, and a veth end dying with it takes its peer along. */
        if (p->moved) {
                Link l;

                if (link_get(&p->cli, p->req->client_if, &l) >= 0)
                        (void) link_set(&p->cli, l.ifindex, p->srv_ns);
        }
        if (p->added_route)
                (void) route_change(&p->srv, RTM_DELROUTE, p->server_ifindex, &p->req->client);
        if (p->added_addr)
                (void) addr_change(&p->srv, RTM_DELADDR, p->server_ifindex, &p->req->server);
        rtnl_close(&p->cli);
        rtnl_close(&p->srv);
        closep(&p->cli_ns);
        closep(&p->srv_ns);
}

/* ------------------------------------------------------------------ set-up */

static int check_request(const ProbeRequest *req) {
        if (!req->server_if || !req->client_if || streq(req->server_if, req->client_if))
                return -EINVAL;
        /* The names go into nft text between double quotes. */
        for (const char *s = req->server_if; *s; s++)
                if (*s == '"' || *s == '\\')
                        return -EINVAL;
        if (strlen(req->server_if) >= IFNAMSIZ || strlen(req->client_if) >= IFNAMSIZ)
                return -EINVAL;
        if (req->server.family != AF_INET && req->server.family != AF_INET6)
                return -EINVAL;
        if (req->client.family != req->server.family ||
            memcmp(addr_bytes(&req->client), addr_bytes(&req->server), addr_size(&req->server)) == 0)
                return -EINVAL;
        if (req->n_ports == 0 || req->n_ports > PROBE_PORTS_MAX || !req->ports)
                return -EINVAL;
        for (size_t i = 0; i < req->n_ports; i++) {
                if (req->ports[i] == 0)
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (req->ports[i] == req->ports[j])
                                return -EINVAL;
        }
        return 0;
}

/* Both ends up and ready before any address is added: the link watcher
 * finishes its work under the RTNL lock, and adding an address takes that
 * lock, so the addresses arrive on links that are completely set up. */
static int links_up(Probe *p) {
        const ProbeRequest *req = p->req;
        uint64_t deadline;
        Link l;
        int r;

        r = link_up_by_name(&p->srv, "lo");
        if (r < 0)
                return probe_error(p, r, "cannot bring lo up: %s", strerror(-r));
        r = link_set(&p->srv, p->server_ifindex, -1);
        if (r < 0)
                return probe_error(p, r, "cannot bring %s up: %s", req->server_if, strerror(-r));
        r = link_get(&p->cli, req->client_if, &l);
        if (r >= 0)
                r = link_set(&p->cli, l.ifindex, -1);
        if (r < 0)
                return probe_error(p, r, "cannot bring %s up in the client namespace: %s",
                                   req->client_if, strerror(-r));
        p->client_ifindex = l.ifindex;

        deadline = now_ms() + LINK_UP_TIMEOUT_MS;
        r = link_wait_ready(&p->cli, req->client_if, req->client.family, deadline);
        if (r >= 0)
                r = link_wait_ready(&p->srv, req->server_if, req->server.family, deadline);
        if (r < 0)
                return probe_error(p, r, "the veth pair %s/%s did not come up: %s",
                                   req->server_if, req->client_if, strerror(-r));
        return 0;
}

static int addresses_add(Probe *p) {
        const ProbeRequest *req = p->req;
        bool present;
        int r;

        r = addr_present(&p->srv, p->server_ifindex, &req->server, &present);
        if (r >= 0 && !present) {
                r = addr_change(&p->srv, RTM_NEWADDR, p->server_ifindex, &req->server);
                p->added_addr = r >= 0;
        }
        if (r < 0)
                return probe_error(p, r, "cannot add the server address to %s: %s", req->server_if, strerror(-r));
        /* A route the namespace already has for the client is used as it is. */
        r = route_change(&p->srv, RTM_NEWROUTE, p->server_ifindex, &req->client);
        p->added_route = r >= 0;
        if (r < 0 && r != -EEXIST)
                return probe_error(p, r, "cannot add a route to the client on %s: %s", req->server_if, strerror(-r));

        r = addr_change(&p->cli, RTM_NEWADDR, p->client_ifindex, &req->client);
        if (r >= 0)
                r = route_change(&p->cli, RTM_NEWROUTE, p->client_ifindex, &req->server);
        if (r < 0)
                return probe_error(p, r, "cannot configure %s in the client namespace: %s",
                                   req->client_if, strerror(-r));
        return 0;
}

/* Our own echo listener on each port, unless something (sshd) already
 * listens there: then the probe connects to that instead. */
static int listeners_open(Probe *p) {
        const ProbeRequest *req = p->req;
        struct sockaddr_storage ss;
        int one = 1;

        for (size_t i = 0; i < req->n_ports; i++) {
                _cleanup_close_ int fd = -1;
                socklen_t len = sockaddr_make(&req->server, req->ports[i], &ss);

                fd = socket(req->server.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
                if (fd < 0)
                        return negative_errno();
                if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                        return negative_errno();
                if (bind(fd, (struct sockaddr *) &ss, len) < 0) {
                        if (errno == EADDRINUSE)
                                continue;
                        int r = negative_errno();
                        return probe_error(p, r, "cannot listen on port %u: %s", req->ports[i], strerror(-r));
                }
                if (listen(fd, 16) < 0)
                        return negative_errno();
                p->listeners[i] = TAKE_FD(fd);
        }
        return 0;
}

/* ------------------------------------------------------------------ tracing */

static int trace_open(Probe *p) {
        int group = NFNLGRP_NFTRACE, size = 1 << 20;

        p->trace_buf = malloc(TRACE_BUFSIZE);
        if (!p->trace_buf)
                return -ENOMEM;
        p->trace_sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (!p->trace_sock)
                return negative_errno();
        if (mnl_socket_bind(p->trace_sock, 0, MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        if (mnl_socket_setsockopt(p->trace_sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
                return negative_errno();
        /* A lost event could hide the drop; the limit without privilege is
         * net.core.rmem_max, which is still plenty for a probe. */
        int fd = mnl_socket_get_fd(p->trace_sock);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        return 0;
}

/* The nft text of the trace tables: chains at the lowest priority that mark
 * the probe's packets (TCP between the two addresses in either direction,
 * ARP or neighbour discovery between them) before any other chain sees them.
 * TCP is marked whatever its ports, so that the answer from a port that NAT
 * redirected to is traced as well. "create" fails if a table of that name
 * exists: ours is never merged into someone else's, nor someone else's
 * deleted afterwards. */
static char *trace_tables_text(const Probe *p) {
        const ProbeRequest *req = p->req;
        const bool v4 = req->server.family == AF_INET;
        const char *ip = v4 ? "ip" : "ip6";
        char c[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], tcp_in[160], tcp_out[160], nb[256];
        _cleanup_fclose_ FILE *f = NULL;
        char *text = NULL;
        size_t size;

        probe_addr_str(&req->client, c);
        probe_addr_str(&req->server, s);
        snprintf(tcp_in, sizeof(tcp_in), "%s saddr %s %s daddr %s meta l4proto tcp meta nftrace set 1", ip, c, ip, s);
        snprintf(tcp_out, sizeof(tcp_out), "%s saddr %s %s daddr %s meta l4proto tcp meta nftrace set 1", ip, s, ip, c);
        if (v4)
                snprintf(nb, sizeof(nb), "arp saddr ip { %s, %s } arp daddr ip { %s, %s } meta nftrace set 1",
                         c, s, c, s);
        else
                snprintf(nb, sizeof(nb), "ip6 saddr { %s, %s } icmpv6 type { nd-neighbor-solicit, "
                         "nd-neighbor-advert } meta nftrace set 1", c, s);

        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
#define T " " TRACE_TABLE " "
#define BASE(hook) " { type filter hook " hook " priority -2147483648; policy accept; }\n"
        fprintf(f, "create table inet" T "{ flags owner; }\n"
                   "add chain inet" T "prerouting" BASE("prerouting")
                   "add chain inet" T "output" BASE("output")
                   "add rule inet" T "prerouting %s\n"
                   "add rule inet" T "output %s\n", tcp_in, tcp_out);
        if (v4)
                fprintf(f, "create table arp" T "{ flags owner; }\n"
                           "add chain arp" T "input" BASE("input")
                           "add chain arp" T "output" BASE("output")
                           "add rule arp" T "input %s\n"
                           "add rule arp" T "output %s\n", nb, nb);
        else
                fprintf(f, "add rule inet" T "prerouting %s\n"
                           "add rule inet" T "output %s\n", nb, nb);
        fprintf(f, "create table netdev" T "{ flags owner; }\n"
                   "add chain netdev" T "ingress { type filter hook ingress device \"%s\" "
                   "priority -2147483648; policy accept; }\n"
                   "add rule netdev" T "ingress %s\n"
                   "add rule netdev" T "ingress %s\n", req->server_if, tcp_in, nb);
#undef BASE
#undef T
        if (fflush(f) != 0 || ferror(f)) {
                fclose(TAKE_PTR(f));
                free(text);
                return NULL;
        }
        fclose(TAKE_PTR(f));
        return text;
}

static int trace_tables_add(Probe *p) {
        _cleanup_free_ char *text = trace_tables_text(p);

        if (!text)
                return -ENOMEM;
        p->trace_nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!p->trace_nft)
                return -ENOMEM;
        if (nft_ctx_buffer_output(p->trace_nft) < 0 || nft_ctx_buffer_error(p->trace_nft) < 0)
                return -ENOMEM;
        if (nft_run_cmd_from_buffer(p->trace_nft, text) != 0) {
                const char *e = nft_ctx_get_error_buffer(p->trace_nft);
                return probe_error(p, e && strstr(e, "File exists") ? -EEXIST : -EPROTO,
                                   "cannot add the trace tables: %s", e ? e : "?");
        }
        p->trace_tables = true;
        return 0;
}

static void trace_tables_remove(Probe *p) {
        if (!p->trace_tables)
                return;
        /* If this fails, freeing the context closes the owner's socket and
         * the kernel removes the tables anyway. */
        (void) nft_run_cmd_from_buffer(p->trace_nft,
                                       p->req->server.family == AF_INET ?
                                       "delete table inet " TRACE_TABLE "\n"
                                       "delete table arp " TRACE_TABLE "\n"
                                       "delete table netdev " TRACE_TABLE "\n" :
                                       "delete table inet " TRACE_TABLE "\n"
                                       "delete table netdev " TRACE_TABLE "\n");
        p->trace_tables = false;
}

static bool own_table(uint32_t family, const char *table) {
        return streq_ptr(table, TRACE_TABLE) &&
               (family == NFPROTO_INET || family == NFPROTO_ARP || family == NFPROTO_NETDEV);
}

/* The packet headers of a trace event. The kernel sends them only with the
 * first event of each base chain; the rest inherit them by trace id. */
static bool pkt_parse(const struct nftnl_trace *t, Pkt *ret) {
        const uint8_t *nh, *th = NULL;
        uint32_t nlen = 0, tlen = 0;
        Pkt p = {};

        if (!nftnl_trace_is_set(t, NFTNL_TRACE_NETWORK_HEADER))
                return false;
        nh = nftnl_trace_get_data(t, NFTNL_TRACE_NETWORK_HEADER, &nlen);
        if (nftnl_trace_is_set(t, NFTNL_TRACE_TRANSPORT_HEADER))
                th = nftnl_trace_get_data(t, NFTNL_TRACE_TRANSPORT_HEADER, &tlen);

        if (nlen >= 28 && nh[0] == 0 && nh[1] == 1 && nh[2] == 0x08 && nh[3] == 0 && nh[4] == 6 && nh[5] == 4) {
                /* ARP for IPv4 over Ethernet: sender and target protocol addresses. */
                p.kind = PKT_ARP;
                p.af = AF_INET;
                memcpy(p.saddr, nh + 14, 4);
                memcpy(p.daddr, nh + 24, 4);
        } else if (nlen >= 20 && (nh[0] >> 4) == 4) {
                p.af = AF_INET;
                memcpy(p.saddr, nh + 12, 4);
                memcpy(p.daddr, nh + 16, 4);
                if (nh[9] == IPPROTO_TCP && th && tlen >= 4)
                        p.kind = PKT_TCP;
        } else if (nlen >= 40 && (nh[0] >> 4) == 6) {
                p.af = AF_INET6;
                memcpy(p.saddr, nh + 8, 16);
                memcpy(p.daddr, nh + 24, 16);
                if (nh[6] == IPPROTO_TCP && th && tlen >= 4)
                        p.kind = PKT_TCP;
                else if (nh[6] == IPPROTO_ICMPV6 && th && tlen >= 1 && (th[0] == 135 || th[0] == 136))
                        p.kind = PKT_ND;
        }
        if (p.kind == PKT_TCP) {
                p.sport = (uint16_t) (th[0] << 8 | th[1]);
                p.dport = (uint16_t) (th[2] << 8 | th[3]);
        }
        *ret = p;
        return true;
}

static bool pkt_between(const Probe *p, const uint8_t *raw) {
        return addr_is(&p->req->client, raw) || addr_is(&p->req->server, raw);
}

/* Is this packet part of the probe? Other traced packets (the ruleset may
 * set nftrace itself) are ignored. */
static bool pkt_relevant(const Probe *p, const Pkt *pkt) {
        if (pkt->af != p->req->client.family)
                return false;
        switch (pkt->kind) {
        case PKT_TCP:
                return addr_is(&p->req->client, pkt->saddr) || addr_is(&p->req->client, pkt->daddr);
        case PKT_ARP:
                return pkt_between(p, pkt->saddr) && pkt_between(p, pkt->daddr);
        case PKT_ND:
                return pkt_between(p, pkt->saddr);
        default:
                return false;
        }
}

static int trace_record(Probe *p, const struct nftnl_trace *t) {
        TraceEvent e = { .id = nftnl_trace_get_u32(t, NFTNL_TRACE_ID) };
        size_t i;

        if (pkt_parse(t, &e.pkt)) {
                i = p->n_recent++ % TRACE_RECENT;
                p->recent[i].id = e.id;
                p->recent[i].pkt = e.pkt;
        } else {
                for (i = 0; i < MIN(p->n_recent, (size_t) TRACE_RECENT); i++) {
                        size_t k = (p->n_recent - 1 - i) % TRACE_RECENT;
                        if (p->recent[k].id == e.id) {
                                e.pkt = p->recent[k].pkt;
                                break;
                        }
                }
                if (i == MIN(p->n_recent, (size_t) TRACE_RECENT))
                        return 0;
        }
        if (!pkt_relevant(p, &e.pkt))
                return 0;
        if (p->n_events >= TRACE_EVENTS_MAX) {
                p->traces_lost = true;
                return 0;
        }
        if (!p->events) {
                p->events = calloc(TRACE_EVENTS_MAX, sizeof(*p->events));
                if (!p->events)
                        return -ENOMEM;
        }

        e.family = nftnl_trace_get_u32(t, NFTNL_TRACE_FAMILY);
        e.type = nftnl_trace_get_u32(t, NFTNL_TRACE_TYPE);
        if (e.type == NFT_TRACETYPE_POLICY)
                e.verdict = (int32_t) nftnl_trace_get_u32(t, NFTNL_TRACE_POLICY);
        else if (nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT))
                e.verdict = (int32_t) nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT);
        else
                e.verdict = NFT_CONTINUE;
        if (e.verdict >= 0)
                e.verdict &= NF_VERDICT_MASK;   /* drop of "drop with errno" */
        if (nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE))
                e.handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
        if (nftnl_trace_is_set(t, NFTNL_TRACE_TABLE))
                e.table = strdup(nftnl_trace_get_str(t, NFTNL_TRACE_TABLE));
        if (nftnl_trace_is_set(t, NFTNL_TRACE_CHAIN))
                e.chain = strdup(nftnl_trace_get_str(t, NFTNL_TRACE_CHAIN));
        if (nftnl_trace_is_set(t, NFTNL_TRACE_JUMP_TARGET))
                e.jump = strdup(nftnl_trace_get_str(t, NFTNL_TRACE_JUMP_TARGET));
        if ((nftnl_trace_is_set(t, NFTNL_TRACE_TABLE) && !e.table) ||
            (nftnl_trace_is_set(t, NFTNL_TRACE_CHAIN) && !e.chain) ||
            (nftnl_trace_is_set(t, NFTNL_TRACE_JUMP_TARGET) && !e.jump)) {
                free(e.table);
                free(e.chain);
                free(e.jump);
                return -ENOMEM;
        }
        p->events[p->n_events++] = e;
        return 0;
}

static int trace_cb(const struct nlmsghdr *nlh, void *data) {
        Probe *p = data;
        struct nftnl_trace *t;
        int r;

        if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
                return MNL_CB_OK;
        t = nftnl_trace_alloc();
        if (!t) {
                p->trace_error = -ENOMEM;
                return MNL_CB_ERROR;
        }
        r = nftnl_trace_nlmsg_parse(nlh, t) < 0 ? 0 : trace_record(p, t);
        nftnl_trace_free(t);
        if (r < 0) {
                p->trace_error = r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

/* Read every queued trace event. The kernel emits them while it processes
 * the packet, so when a connection attempt has ended, its events are queued. */
static int trace_drain(Probe *p) {
        int fd = mnl_socket_get_fd(p->trace_sock);

        for (;;) {
                ssize_t n = recv(fd, p->trace_buf, TRACE_BUFSIZE, MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        if (errno == ENOBUFS) {
                                p->traces_lost = true;
                                continue;
                        }
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (mnl_cb_run(p->trace_buf, (size_t) n, 0, 0, trace_cb, p) < 0 && p->trace_error < 0)
                        return p->trace_error;
        }
}

/* ------------------------------------------------------------------ the connections */

static void conn_finish(Conn *c, int error) {
        c->error = error;
        c->state = CONN_DONE;
}

static void conn_start(Probe *p, Conn *c) {
        struct sockaddr_storage ss;
        socklen_t len = sockaddr_make(&p->req->client, 0, &ss);

        /* Bound first, so that the source address is the admin's and its
         * port is known before the first packet is traced. */
        if (bind(c->fd, (struct sockaddr *) &ss, len) < 0 ||
            getsockname(c->fd, (struct sockaddr *) &ss, &len) < 0) {
                conn_finish(c, negative_errno());
                return;
        }
        c->cport = sockaddr_port(&ss);
        len = sockaddr_make(&p->req->server, c->port, &ss);
        if (connect(c->fd, (struct sockaddr *) &ss, len) < 0 && errno != EINPROGRESS) {
                conn_finish(c, negative_errno());
                return;
        }
        c->state = CONN_CONNECTING;
}

static void conn_connected(Conn *c) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                conn_finish(c, negative_errno());
        else if (err != 0)
                conn_finish(c, -err);
        else if (send(c->fd, greeting, GREETING_LEN, MSG_NOSIGNAL) != (ssize_t) GREETING_LEN)
                conn_finish(c, negative_errno());
        else {
                c->connected = true;
                c->state = CONN_EXCHANGING;
        }
}

static void conn_readable(Conn *c) {
        ssize_t n = recv(c->fd, c->rbuf + c->got, sizeof(c->rbuf) - c->got, 0);

        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        conn_finish(c, negative_errno());
        } else if (n == 0)
                conn_finish(c, c->got > 0 ? 0 : -ECONNRESET);
        else {
                c->got += (size_t) n;
                if (c->got >= GREETING_LEN)
                        conn_finish(c, 0);
        }
}

static void listener_event(Probe *p, size_t i) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        _cleanup_close_ int fd = accept4(p->listeners[i], (struct sockaddr *) &ss, &len,
                                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0)
                return;
        /* Which listener took which client port: a redirect between two of
         * the probed ports still echoes, but lands on the wrong listener. */
        if (p->n_accepted < PROBE_PORTS_MAX) {
                p->accepted[p->n_accepted].lport = p->req->ports[i];
                p->accepted[p->n_accepted++].cport = sockaddr_port(&ss);
        }
        if (p->n_peers < PROBE_PORTS_MAX)
                p->peers[p->n_peers++] = TAKE_FD(fd);
}

static void peer_event(int *fd) {
        char buf[256];
        ssize_t n = recv(*fd, buf, sizeof(buf), 0);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                closep(fd);
                *fd = -1;
                return;
        }
        (void) send(*fd, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

typedef enum SlotKind {
        SLOT_TRACE,
        SLOT_LISTENER,
        SLOT_PEER,
        SLOT_CONN,
} SlotKind;

static bool is_block(const TraceEvent *e);
static bool is_conn_pkt(const Pkt *pkt, const Probe *p, const Conn *c);

/* A rule or policy dropped one of @c's packets, or the ARP or neighbour
 * discovery that it needs: the same packet sent again meets the same
 * ruleset, so waiting for the deadline would only tell the same. */
static bool conn_blocked(const Probe *p, const Conn *c) {
        for (size_t i = 0; i < p->n_events; i++)
                if (is_block(&p->events[i]) &&
                    (p->events[i].pkt.kind != PKT_TCP || is_conn_pkt(&p->events[i].pkt, p, c)))
                        return true;
        return false;
}

/* Run every connection to its end or to the deadline, echoing on the
 * server side and collecting trace events as they come. A connection that
 * the traces show blocked ends a moment later (BLOCKED_GRACE_MS: what the
 * client sees of a reject, an RST or an ICMP error, comes first). */
static int exchange(Probe *p) {
        const size_t n_ports = p->req->n_ports;
        struct pollfd fds[1 + 3 * PROBE_PORTS_MAX];
        struct {
                SlotKind kind;
                size_t i;
        } slots[ELEMENTSOF(fds)];
        uint64_t deadline = now_ms() + p->timeout_ms;
        int r;

        for (size_t i = 0; i < n_ports; i++)
                conn_start(p, &p->conns[i]);

        for (;;) {
                size_t n = 0;
                bool pending = false;

#define ADD(f, ev, k, idx) do { fds[n] = (struct pollfd) { .fd = (f), .events = (ev) }; \
                slots[n].kind = (k); slots[n].i = (idx); n++; } while (0)
                ADD(mnl_socket_get_fd(p->trace_sock), POLLIN, SLOT_TRACE, 0);
                for (size_t i = 0; i < n_ports; i++)
                        if (p->listeners[i] >= 0)
                                ADD(p->listeners[i], POLLIN, SLOT_LISTENER, i);
                for (size_t i = 0; i < p->n_peers; i++)
                        if (p->peers[i] >= 0)
                                ADD(p->peers[i], POLLIN, SLOT_PEER, i);
                uint64_t now = now_ms(), wake = deadline;
                for (size_t i = 0; i < n_ports; i++) {
                        Conn *c = &p->conns[i];
                        if (c->state != CONN_DONE && !c->blocked_ms && conn_blocked(p, c))
                                c->blocked_ms = now;
                        if (c->state != CONN_DONE && c->blocked_ms && now >= c->blocked_ms + BLOCKED_GRACE_MS)
                                conn_finish(c, -ETIMEDOUT);
                        if (c->state == CONN_DONE)
                                continue;
                        pending = true;
                        if (c->blocked_ms)
                                wake = MIN(wake, c->blocked_ms + BLOCKED_GRACE_MS);
                        ADD(c->fd, c->state == CONN_CONNECTING ? POLLOUT : POLLIN, SLOT_CONN, i);
                }
#undef ADD
                if (!pending || now >= deadline)
                        break;
                if (poll(fds, n, (int) (wake - now)) < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                for (size_t k = 0; k < n; k++) {
                        if (!fds[k].revents)
                                continue;
                        switch (slots[k].kind) {
                        case SLOT_TRACE:
                                r = trace_drain(p);
                                if (r < 0)
                                        return r;
                                break;
                        case SLOT_LISTENER:
                                listener_event(p, slots[k].i);
                                break;
                        case SLOT_PEER:
                                peer_event(&p->peers[slots[k].i]);
                                break;
                        case SLOT_CONN:
                                if (p->conns[slots[k].i].state == CONN_CONNECTING)
                                        conn_connected(&p->conns[slots[k].i]);
                                else
                                        conn_readable(&p->conns[slots[k].i]);
                                break;
                        }
                }
        }
        for (size_t i = 0; i < n_ports; i++)
                if (p->conns[i].state != CONN_DONE)
                        conn_finish(&p->conns[i], -ETIMEDOUT);
        return trace_drain(p);
}

/* ------------------------------------------------------------------ explaining */

static const char *chain_listing(Probe *p, uint32_t family, const char *table, const char *chain) {
        const char *fam = family_name(family);
        _cleanup_free_ char *cmd = NULL;
        Listing *l;

        for (size_t i = 0; i < p->listings.n; i++) {
                l = p->listings.items[i];
                if (l->family == family && streq(l->table, table) && streq(l->chain, chain))
                        return l->text;
        }
        if (!fam)
                return NULL;
        if (!p->list_nft) {
                p->list_nft = nft_ctx_new(NFT_CTX_DEFAULT);
                if (!p->list_nft || nft_ctx_buffer_output(p->list_nft) < 0 || nft_ctx_buffer_error(p->list_nft) < 0)
                        return NULL;
                /* Counters would make the rule text depend on the probe's own packets. */
                nft_ctx_output_set_flags(p->list_nft, NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS);
        }
        if (asprintf(&cmd, "list chain %s %s %s", fam, table, chain) < 0)
                return NULL;
        /* A name nft cannot parse unquoted simply has no listing: the caller
         * falls back to the rule handle. */
        if (nft_run_cmd_from_buffer(p->list_nft, cmd) != 0)
                return NULL;
        l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->family = family;
        l->table = strdup(table);
        l->chain = strdup(chain);
        l->text = strdup(nft_ctx_get_output_buffer(p->list_nft));
        if (!l->table || !l->chain || !l->text || ptrvec_push(&p->listings, l) < 0) {
                listing_free(l);
                return NULL;
        }
        return l->text;
}

/* The rule with @handle in a chain listing, without its handle comment. */
static char *listing_rule(const char *text, uint64_t handle) {
        char tag[48];
        size_t taglen = (size_t) snprintf(tag, sizeof(tag), " # handle %" PRIu64, handle);

        for (const char *line = text; line && *line;) {
                const char *end = strchrnul(line, '\n');
                size_t len = (size_t) (end - line);

                while (len > 0 && (*line == '\t' || *line == ' '))
                        line++, len--;
                if (len > taglen && memcmp(line + len - taglen, tag, taglen) == 0)
                        return strndup(line, len - taglen);
                line = *end ? end + 1 : NULL;
        }
        return NULL;
}

static bool listing_is_nat(const char *text) {
        return text && strstr(text, "type nat hook");
}

static bool is_block(const TraceEvent *e) {
        return e->verdict == NF_DROP && (e->type == NFT_TRACETYPE_RULE || e->type == NFT_TRACETYPE_POLICY) &&
               !own_table(e->family, e->table);
}

static bool is_conn_pkt(const Pkt *pkt, const Probe *p, const Conn *c) {
        const ProbeAddr *client = &p->req->client;

        return pkt->kind == PKT_TCP &&
               ((addr_is(client, pkt->saddr) && pkt->sport == c->cport) ||
                (addr_is(client, pkt->daddr) && pkt->dport == c->cport));
}

/* The base chain through which the packet reached @idx's chain: follow the
 * jumps and gotos back within the same table and packet. */
static const char *base_chain_of(const Probe *p, size_t idx) {
        const TraceEvent *e = &p->events[idx];
        const char *chain = e->chain;

        for (size_t j = idx; j-- > 0;) {
                const TraceEvent *f = &p->events[j];

                if (f->id == e->id && f->family == e->family && streq_ptr(f->table, e->table) &&
                    f->type == NFT_TRACETYPE_RULE && (f->verdict == NFT_JUMP || f->verdict == NFT_GOTO) &&
                    streq_ptr(f->jump, chain))
                        chain = f->chain;
        }
        return chain;
}

static int dup_or_null(char **dst, const char *src) {
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

/* Fill the blocker fields of @out from trace event @idx. */
static int blame(Probe *p, size_t idx, ProbePort *out) {
        const TraceEvent *e = &p->events[idx];
        const char *listing = e->table && e->chain ? chain_listing(p, e->family, e->table, e->chain) : NULL;
        int r;

        out->family = e->family;
        out->handle = e->type == NFT_TRACETYPE_RULE ? e->handle : 0;
        out->packet = e->pkt.kind == PKT_TCP ? PROBE_PACKET_TCP : e->pkt.kind == PKT_ARP ? PROBE_PACKET_ARP :
                      PROBE_PACKET_ND;
        out->answer = e->pkt.kind == PKT_TCP && !addr_is(&p->req->client, e->pkt.saddr);
        out->guard_fixable = e->pkt.kind == PKT_TCP;
        if ((r = dup_or_null(&out->table, e->table)) < 0 || (r = dup_or_null(&out->chain, e->chain)) < 0 ||
            (r = dup_or_null(&out->base_chain, base_chain_of(p, idx))) < 0)
                return r;
        if (out->handle && listing) {
                out->rule = listing_rule(listing, out->handle);
                if (out->rule) {
                        /* The statement, not a word in a comment or a set name. */
                        const char *s = out->rule;
                        while ((s = strstr(s, "reject")) && !((s == out->rule || s[-1] == ' ') &&
                                                              (s[6] == '\0' || s[6] == ' ')))
                                s += 6;
                        out->reject = s != NULL;
                }
        }
        return 0;
}

/* "inet filter input: rule `tcp dport 22 drop`", "ip6 filter input: policy drop" */
static char *describe_blocker(const ProbePort *o) {
        const char *fam = family_name(o->family);
        _cleanup_free_ char *what = NULL, *via = NULL;
        char *s = NULL;
        int r;

        if (o->verdict == PROBE_BLOCKED_POLICY)
                r = asprintf(&what, "policy drop");
        else if (o->rule)
                r = asprintf(&what, "rule `%s`", o->rule);
        else
                r = asprintf(&what, "rule handle %" PRIu64, o->handle);
        if (r < 0)
                return NULL;
        if (o->base_chain && o->chain && !streq(o->base_chain, o->chain) &&
            asprintf(&via, " (reached from base chain %s)", o->base_chain) < 0)
                return NULL;
        if (asprintf(&s, "%s %s %s%s: %s", fam ? fam : "?", o->table ? o->table : "?",
                     o->chain ? o->chain : "?", via ? via : "", what) < 0)
                return NULL;
        return s;
}

static const char *failure_text(const Conn *c, uint16_t landed, unsigned timeout_ms, char *buf, size_t size) {
        switch (c->error) {
        case -ETIMEDOUT:
                if (c->connected)
                        snprintf(buf, size, "the connection opened but no data came back within %u ms", timeout_ms);
                else
                        snprintf(buf, size, "no answer to the connection within %u ms", timeout_ms);
                break;
        case -EPROTO:
                if (landed != 0 && landed != c->port)
                        snprintf(buf, size, "the connection reached the probe's listener on port %u", landed);
                else
                        snprintf(buf, size, "the connection opened but the answer was not the probe's echo");
                break;
        case -ECONNREFUSED:
                snprintf(buf, size, "connection refused");
                break;
        case -ECONNRESET:
                snprintf(buf, size, "connection reset");
                break;
        default:
                snprintf(buf, size, "%s", strerror(-c->error));
        }
        return buf;
}

static uint16_t accepted_at(const Probe *p, const Conn *c) {
        for (size_t i = 0; i < p->n_accepted; i++)
                if (p->accepted[i].cport == c->cport)
                        return p->accepted[i].lport;
        return 0;
}

static int explain(Probe *p, Conn *c, ProbePort *out) {
        const ProbeRequest *req = p->req;
        char client[INET6_ADDRSTRLEN], why[160];
        _cleanup_free_ char *blocker = NULL;
        uint16_t landed = accepted_at(p, c);
        size_t i, found = SIZE_MAX;
        bool seen = false;
        int r;

        out->port = c->port;
        out->connected = c->connected;
        out->existing_server = !c->own_listener;
        probe_addr_str(&req->client, client);

        /* Judge the exchange: our listener must have accepted this very
         * connection and echoed the greeting; a listener that was there
         * before must at least speak SSH. */
        if (c->error == 0) {
                bool ok = !c->own_listener ?
                          c->got >= 4 && memcmp(c->rbuf, "SSH-", 4) == 0 :
                          c->got == GREETING_LEN && memcmp(c->rbuf, greeting, GREETING_LEN) == 0 && landed == c->port;
                if (!ok)
                        c->error = -EPROTO;
        }
        out->error = c->error;
        if (c->error == 0) {
                out->ok = true;
                out->verdict = PROBE_REACHABLE;
                r = asprintf(&out->message, !c->own_listener ?
                             "port %u is reachable from %s: the server already listening there answered" :
                             "port %u is reachable from %s: connection and data both ways",
                             c->port, client);
                return r < 0 ? -ENOMEM : 0;
        }
        failure_text(c, landed, p->timeout_ms, why, sizeof(why));

        /* A drop of one of this connection's own packets says most. Without
         * one, a drop of ARP or neighbour discovery explains why no TCP
         * packet ever arrived. */
        for (i = 0; i < p->n_events && found == SIZE_MAX; i++) {
                if (is_conn_pkt(&p->events[i].pkt, p, c)) {
                        seen = true;
                        if (is_block(&p->events[i]))
                                found = i;
                }
        }
        for (i = 0; i < p->n_events && found == SIZE_MAX; i++)
                if (p->events[i].pkt.kind != PKT_TCP && is_block(&p->events[i]))
                        found = i;
        if (found != SIZE_MAX) {
                r = blame(p, found, out);
                if (r < 0)
                        return r;
                out->verdict = p->events[found].type == NFT_TRACETYPE_POLICY ?
                               PROBE_BLOCKED_POLICY : PROBE_BLOCKED_RULE;
                blocker = describe_blocker(out);
                if (!blocker)
                        return -ENOMEM;
                r = asprintf(&out->message, "port %u is %s by %s%s", c->port, out->reject ? "rejected" : "blocked",
                             blocker,
                             out->packet == PROBE_PACKET_ARP ?
                             " (ARP: SSH needs ARP to reach the host; the TCP guard does not cover it)" :
                             out->packet == PROBE_PACKET_ND ?
                             " (IPv6 neighbour discovery: SSH needs it to reach the host; "
                             "the TCP guard does not cover it)" :
                             out->answer ? " (it drops the server's answer)" : "");
                return r < 0 ? -ENOMEM : 0;
        }

        /* NAT: a packet of this connection seen with another server address
         * or port than the client used, either the client's packet after the
         * rewrite (input) or the server's answer before it is rewritten back
         * (output, when no chain after the NAT sees the client's packet). */
        const uint8_t *to_addr = NULL;
        uint16_t to_port = 0;
        for (i = 0; i < p->n_events && !to_addr; i++) {
                const Pkt *pkt = &p->events[i].pkt;
                bool from_client = addr_is(&req->client, pkt->saddr);
                const uint8_t *a = from_client ? pkt->daddr : pkt->saddr;
                uint16_t port = from_client ? pkt->dport : pkt->sport;

                if (is_conn_pkt(pkt, p, c) && (port != c->port || !addr_is(&req->server, a))) {
                        to_addr = a;
                        to_port = port;
                }
        }
        /* Or NAT that nftables did not show: our listener for another port
         * accepted this connection. */
        if (!to_addr && landed != 0 && landed != c->port) {
                to_addr = addr_bytes(&req->server);
                to_port = landed;
        }
        if (to_addr) {
                char to[INET6_ADDRSTRLEN];

                out->verdict = PROBE_REDIRECTED;
                out->packet = PROBE_PACKET_TCP;
                out->guard_fixable = true;
                r = addr_is(&req->server, to_addr) ?
                    asprintf(&out->redirect, "port %u", to_port) :
                    asprintf(&out->redirect, "%s port %u", inet_ntop(req->server.family, to_addr, to, sizeof(to)),
                             to_port);
                if (r < 0)
                        return -ENOMEM;
                /* The NAT rule: an accept in a nat chain on the client's packets. */
                for (i = 0; i < p->n_events; i++) {
                        const TraceEvent *f = &p->events[i];

                        if (is_conn_pkt(&f->pkt, p, c) && addr_is(&req->client, f->pkt.saddr) &&
                            f->type == NFT_TRACETYPE_RULE && f->verdict == NF_ACCEPT && f->table && f->chain &&
                            !own_table(f->family, f->table) &&
                            listing_is_nat(chain_listing(p, f->family, f->table, f->chain)))
                                break;
                }
                if (i < p->n_events) {
                        r = blame(p, i, out);
                        if (r < 0)
                                return r;
                        blocker = describe_blocker(out);
                        if (!blocker)
                                return -ENOMEM;
                }
                r = asprintf(&out->message, "port %u is redirected to %s%s%s (%s)", c->port, out->redirect,
                             blocker ? " by " : "", blocker ? blocker : "", why);
                return r < 0 ? -ENOMEM : 0;
        }

        out->verdict = PROBE_UNEXPLAINED;
        r = asprintf(&out->message, seen ?
                     "port %u is unreachable (%s), yet every nftables base chain that the probe's packets "
                     "crossed accepted them: the cause is outside nftables (routing, rp_filter)" :
                     "port %u is unreachable (%s), and no probe packet of it was seen by nftables on the "
                     "server: the cause is outside nftables (links, routing, neighbour resolution)",
                     c->port, why);
        return r < 0 ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ the whole */

void probe_result_free(ProbeResult *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_ports; i++) {
                ProbePort *o = &r->ports[i];
                free(o->table);
                free(o->chain);
                free(o->base_chain);
                free(o->rule);
                free(o->redirect);
                free(o->message);
        }
        free(r->ports);
        *r = (ProbeResult) {};
}

uint64_t probe_budget_ms(unsigned timeout_ms) {
        /* links_up() and the wait for the addresses each have LINK_UP_TIMEOUT_MS. */
        return (uint64_t) (timeout_ms ? timeout_ms : PROBE_TIMEOUT_MS_DEFAULT) + 2 * LINK_UP_TIMEOUT_MS;
}

int probe_run(const ProbeRequest *req, ProbeResult *ret) {
        _cleanup_(probe_done) Probe p = {
                .req = req, .srv_ns = -1, .cli_ns = -1,
        };
        _cleanup_(probe_result_free) ProbeResult res = {};
        int rtnl_fd = -1, tcp[PROBE_PORTS_MAX];
        Link srv_link, cli_link;
        int r;

        for (size_t i = 0; i < PROBE_PORTS_MAX; i++) {
                p.listeners[i] = -1;
                p.conns[i].fd = -1;
        }
        r = check_request(req);
        if (r < 0)
                return probe_error(&p, r, "invalid probe request");
        p.timeout_ms = req->timeout_ms ? req->timeout_ms : PROBE_TIMEOUT_MS_DEFAULT;

        p.srv.sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!p.srv.sock || mnl_socket_bind(p.srv.sock, 0, MNL_SOCKET_AUTOPID) < 0)
                return negative_errno();
        r = link_get(&p.srv, req->server_if, &srv_link);
        if (r < 0)
                return probe_error(&p, r, "no interface %s: %s", req->server_if, strerror(-r));
        r = link_get(&p.srv, req->client_if, &cli_link);
        if (r < 0)
                return probe_error(&p, r, "no interface %s: %s", req->client_if, strerror(-r));
        p.server_ifindex = srv_link.ifindex;
        r = p.srv_ns = socket_netns(mnl_socket_get_fd(p.srv.sock));
        if (r < 0)
                return probe_error(&p, r, "cannot open this network namespace: %s", strerror(-r));

        r = client_ns_open(req->client.family, req->n_ports, &rtnl_fd, tcp);
        if (r < 0)
                return probe_error(&p, r, "cannot create the client namespace: %s", strerror(-r));
        for (size_t i = 0; i < req->n_ports; i++)
                p.conns[i] = (Conn) { .port = req->ports[i], .fd = tcp[i] };
        p.cli.sock = mnl_socket_fdopen(rtnl_fd);
        if (!p.cli.sock) {
                r = negative_errno();
                close(rtnl_fd);
                return r;
        }
        r = p.cli_ns = socket_netns(rtnl_fd);
        if (r < 0)
                return probe_error(&p, r, "cannot open the client namespace: %s", strerror(-r));
        r = link_set(&p.srv, cli_link.ifindex, p.cli_ns);
        if (r < 0)
                return probe_error(&p, r, "cannot move %s into the client namespace: %s", req->client_if, strerror(-r));
        p.moved = true;

        r = links_up(&p);
        if (r < 0)
                return r;
        r = addresses_add(&p);
        if (r < 0)
                return r;
        r = listeners_open(&p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < req->n_ports; i++)
                p.conns[i].own_listener = p.listeners[i] >= 0;

        /* Subscribe before the tables exist: no event can be missed. */
        r = trace_open(&p);
        if (r < 0)
                return probe_error(&p, r, "cannot subscribe to nftables trace events: %s", strerror(-r));
        r = trace_tables_add(&p);
        if (r < 0)
                return r;

        uint64_t deadline = now_ms() + LINK_UP_TIMEOUT_MS;
        r = addr_wait_local(&p.srv, &req->server, deadline);
        if (r >= 0)
                r = addr_wait_local(&p.cli, &req->client, deadline);
        if (r < 0)
                return probe_error(&p, r, "the probe's addresses did not become usable: %s", strerror(-r));

        r = exchange(&p);
        if (r < 0)
                return probe_error(&p, r, "probe failed: %s", strerror(-r));
        /* No more marking while the chains are listed for the explanation. */
        trace_tables_remove(&p);

        res.ports = calloc(req->n_ports, sizeof(*res.ports));
        if (!res.ports)
                return -ENOMEM;
        res.n_ports = req->n_ports;
        res.traces_lost = p.traces_lost;
        for (size_t i = 0; i < req->n_ports; i++) {
                r = explain(&p, &p.conns[i], &res.ports[i]);
                if (r < 0)
                        return r;
        }
        *ret = res;
        res = (ProbeResult) {};
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* links.c — the host's interfaces, and placeholders for them in the sandbox
 *
 * Rules name interfaces: `iif "eth0"` and netdev chains need the device to
 * exist when they are loaded, and nft stores `iif` as an index. So the fresh
 * network namespace of the sandbox gets one link per host interface, with
 * the host's name, the host's index (so that an index in S1 means the same
 * link on the host) and the host's addresses (for rules and the later
 * reachability probe that look at local addresses).
 *
 * The placeholders are veth pairs: the `dummy` type is missing on some
 * kernels, veth is everywhere. The reachability probe uses one pair as it
 * is: the placeholder is the server's side, its peer the client's. The peer end of each pair gets a throwaway
 * name no host interface has, and an index above every host index, so that
 * peers never take an index a later placeholder needs. The host list is read
 * with getifaddrs() before the sandbox leaves the host's namespace; the links
 * are made with plain rtnetlink (libmnl), never by running `ip`.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>

#include "links.h"
#include "macro.h"

/* Ample for one request or its acknowledgement (with the kernel's error text). */
#define LINK_MSG_SIZE 8192

Links *links_free(Links *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                free(l->links[i].addrs);
        free(l->links);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Links *, links_free);

static void freeifaddrsp(struct ifaddrs **p) {
        if (*p)
                freeifaddrs(*p);
}

static void mnl_socket_closep(struct mnl_socket **p) {
        if (*p)
                mnl_socket_close(*p);
}

Link *links_find(const Links *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->links[i].name, name))
                        return &l->links[i];
        return NULL;
}

static int add_link(Links *l, const char *name, Link **ret) {
        unsigned index = if_nametoindex(name);
        Link *links;

        *ret = NULL;
        /* Gone since getifaddrs(): nothing to stand in for. */
        if (index == 0)
                return 0;
        links = realloc(l->links, (l->n + 1) * sizeof(Link));
        if (!links)
                return -ENOMEM;
        l->links = links;
        *ret = &l->links[l->n++];
        **ret = (Link) { .index = index };
        snprintf((*ret)->name, sizeof((*ret)->name), "%s", name);
        return 0;
}

static uint8_t prefixlen(const uint8_t *mask, size_t len) {
        uint8_t n = 0;

        for (size_t i = 0; i < len; i++)
                n += (uint8_t) __builtin_popcount(mask[i]);
        return n;
}

static int add_addr(Link *link, const struct ifaddrs *ifa) {
        int family = ifa->ifa_addr->sa_family;
        size_t len = family == AF_INET ? 4 : 16;
        const void *a, *m = NULL;
        LinkAddr *addrs, *x;

        if (family == AF_INET) {
                a = &((const struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
                if (ifa->ifa_netmask)
                        m = &((const struct sockaddr_in *) ifa->ifa_netmask)->sin_addr;
        } else {
                a = &((const struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
                if (ifa->ifa_netmask)
                        m = &((const struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr;
        }
        addrs = realloc(link->addrs, (link->n_addrs + 1) * sizeof(LinkAddr));
        if (!addrs)
                return -ENOMEM;
        link->addrs = addrs;
        x = &link->addrs[link->n_addrs++];
        *x = (LinkAddr) { .family = family, .prefixlen = m ? prefixlen(m, len) : (uint8_t) (len * 8) };
        memcpy(x->addr, a, len);
        return 0;
}

int links_read_host(Links **ret) {
        _cleanup_(freeifaddrsp) struct ifaddrs *list = NULL;
        _cleanup_(links_freep) Links *l = calloc(1, sizeof(Links));
        int r;

        if (!l)
                return -ENOMEM;
        if (getifaddrs(&list) < 0)
                return negative_errno();
        for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
                char name[IFNAMSIZ];
                Link *link;

                /* lo exists in every network namespace. */
                if (ifa->ifa_flags & IFF_LOOPBACK)
                        continue;
                /* IPv4 addresses come under their label ("eth0:1"); the link is "eth0". */
                snprintf(name, sizeof(name), "%.*s", (int) strcspn(ifa->ifa_name, ":"), ifa->ifa_name);
                link = links_find(l, name);
                if (!link) {
                        r = add_link(l, name, &link);
                        if (r < 0)
                                return r;
                        if (!link)
                                continue;
                }
                if (ifa->ifa_addr && (ifa->ifa_addr->sa_family == AF_INET ||
                                      ifa->ifa_addr->sa_family == AF_INET6)) {
                        r = add_addr(link, ifa);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Send one request and read its acknowledgement: 0 or the kernel's error. */
static int request(struct mnl_socket *nl, struct nlmsghdr *nlh) {
        char buf[LINK_MSG_SIZE];
        uint32_t seq = nlh->nlmsg_seq;
        ssize_t n;

        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return negative_errno();
        n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if (mnl_cb_run(buf, (size_t) n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
                return negative_errno();
        return 0;
}

static void put_ifinfo(struct ifinfomsg *ifm, unsigned index, unsigned flags) {
        *ifm = (struct ifinfomsg) {
                .ifi_family = AF_UNSPEC,
                .ifi_index = (int) index,
                .ifi_flags = flags,
                .ifi_change = flags,
        };
}

static int new_veth(struct mnl_socket *nl, uint32_t seq, const Link *link, const char *peer,
                    unsigned peer_index) {
        char buf[LINK_MSG_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct nlattr *info, *data, *peer_nest;
        struct ifinfomsg *pifm;

        nlh->nlmsg_type = RTM_NEWLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        nlh->nlmsg_seq = seq;
        put_ifinfo(mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)), link->index, IFF_UP);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, link->name);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* The peer's attributes start with its own ifinfomsg, unlike any other nest. */
        pifm = mnl_nlmsg_get_payload_tail(nlh);
        nlh->nlmsg_len += MNL_ALIGN(sizeof(struct ifinfomsg));
        /* Not up yet: the kernel opens the peer before the pair is joined,
         * and a veth without its other end refuses to go up (ENOTCONN). */
        put_ifinfo(pifm, peer_index, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
        mnl_attr_nest_end(nlh, peer_nest);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        return request(nl, nlh);
}

/* With both ends up the placeholder has carrier, like a live link. */
static int set_up(struct mnl_socket *nl, uint32_t seq, unsigned index) {
        char buf[LINK_MSG_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

        nlh->nlmsg_type = RTM_NEWLINK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = seq;
        put_ifinfo(mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)), index, IFF_UP);
        return request(nl, nlh);
}

static int new_addr(struct mnl_socket *nl, uint32_t seq, unsigned index, const LinkAddr *a) {
        char buf[LINK_MSG_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;
        size_t len = a->family == AF_INET ? 4 : 16;

        nlh->nlmsg_type = RTM_NEWADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        nlh->nlmsg_seq = seq;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t) a->family;
        ifa->ifa_prefixlen = a->prefixlen;
        ifa->ifa_index = index;
        /* Usable at once: duplicate detection would keep an IPv6 address
         * tentative, and there is nobody on the link to collide with. */
        ifa->ifa_flags = a->family == AF_INET6 ? IFA_F_NODAD : 0;
        mnl_attr_put(nlh, IFA_LOCAL, len, a->addr);
        mnl_attr_put(nlh, IFA_ADDRESS, len, a->addr);
        return request(nl, nlh);
}

/* "fwgpN" that no host interface is called. */
static void peer_name(const Links *l, unsigned *counter, char name[static IFNAMSIZ]) {
        do
                snprintf(name, IFNAMSIZ, "fwgp%u", (*counter)++);
        while (links_find(l, name));
}

int links_create_placeholders(Links *l, char *err, size_t errlen) {
        _cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
        uint32_t seq = (uint32_t) time(NULL);
        unsigned peer_index = 0, counter = 0;
        int r;

        nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = negative_errno();
                snprintf(err, errlen, "cannot open rtnetlink: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < l->n; i++)
                peer_index = MAX(peer_index, l->links[i].index);

        for (size_t i = 0; i < l->n; i++) {
                Link *link = &l->links[i];

                peer_name(l, &counter, link->peer);
                r = new_veth(nl, ++seq, link, link->peer, ++peer_index);
                if (r >= 0)
                        r = set_up(nl, ++seq, peer_index);
                if (r < 0) {
                        snprintf(err, errlen, "cannot create the placeholder link %s (index %u): %s",
                                 link->name, link->index, strerror(-r));
                        return r;
                }
                for (size_t j = 0; j < link->n_addrs; j++) {
                        char text[INET6_ADDRSTRLEN] = "";

                        r = new_addr(nl, ++seq, link->index, &link->addrs[j]);
                        if (r < 0) {
                                inet_ntop(link->addrs[j].family, link->addrs[j].addr, text, sizeof(text));
                                snprintf(err, errlen, "cannot give the placeholder link %s the address %s/%u: %s",
                                         link->name, text, link->addrs[j].prefixlen, strerror(-r));
                                return r;
                        }
                }
        }
        return 0;
}

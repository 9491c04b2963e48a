/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard.c — the SSH guard rule
 *
 * The guard is the rule that fwguard puts at the head of base chains so that
 * a new ruleset cannot cut the administrator off: it accepts TCP to the SSH
 * ports on the hooks that packets to this host cross (prerouting, input,
 * ingress) and TCP from them on the way back (output, postrouting, egress).
 * Forwarded packets are not SSH to this host, so forward chains get nothing.
 *
 * Why every base chain of a touched table: in nftables, "accept" ends only
 * the current base chain. The packet then goes on to the next base chain on
 * the same hook (another priority, another table), and a drop there still
 * kills it. A guard in a table of our own would therefore protect nothing;
 * the guard has to sit at the head of each base chain that could drop SSH.
 *
 * Why only native expressions that iptables-nft translates: tables written
 * by iptables-nft (and ufw on top of it) are read back by iptables, which
 * translates each rule's expressions into -p/-s/-m tcp/-j. A single
 * expression it cannot translate makes it refuse the whole chain
 * ("incompatible, use 'nft' tool"), and iptables -S, iptables-save and
 * ufw status stop working. So the guard is exactly what iptables-nft 1.8.9
 * itself emits for -s NET -p tcp -m tcp --dport N -j ACCEPT: meta l4proto,
 * a network-header payload compare (with a bitwise mask for prefixes that
 * do not end on a byte), a 2-byte transport-header payload compare, counter,
 * immediate accept. Its comment lives in the rule's udata, which iptables
 * reads as "-m comment" (an xt comment match would be a compat expression
 * that nft cannot restore from text). iptables cannot express a set lookup
 * there, so several ports are several rules. In inet, netdev and bridge the
 * source needs the L3 protocol first (meta nfproto, meta protocol), exactly
 * as nft emits it; iptables never reads those families.
 *
 * A guard is recognised by being exactly what this file would build for its
 * port and source (counter values aside) with exactly our comment, so a user's
 * rule that merely mentions fwguard, or carries our comment on other
 * expressions, is never mistaken for one and never removed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

#include "guard.h"
#include "macro.h"

/* More than any guard has (9): longer rules are not guards. */
#define GUARD_MAX_EXPRS 16
/* Expression attributes are numbered up to about a dozen; libnftnl keeps
 * which are set as bits of an int, so stay below its sign bit. */
#define EXPR_ATTR_MAX 30

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_udata_buf *, nftnl_udata_buf_free);

static inline void ptrvec_forgetp(PtrVec *v) { ptrvec_clear(v, NULL); }
static void rule_destroy(void *p) { nftnl_rule_free(p); }
static inline void rulevec_freep(PtrVec *v) { ptrvec_clear(v, rule_destroy); }

GuardSide guard_side(uint32_t family, uint32_t hooknum) {
        switch (family) {
        case NFPROTO_NETDEV:
                if (hooknum == NF_NETDEV_INGRESS)
                        return GUARD_SIDE_IN;
                return hooknum == NF_NETDEV_EGRESS ? GUARD_SIDE_OUT : GUARD_SIDE_NONE;
        case NFPROTO_IPV4:
        case NFPROTO_IPV6:
        case NFPROTO_INET:
        case NFPROTO_BRIDGE:
                /* The bridge hooks (NF_BR_*) have the same numbers as NF_INET_*. */
                switch (hooknum) {
                case NF_INET_PRE_ROUTING:
                case NF_INET_LOCAL_IN:
                        return GUARD_SIDE_IN;
                case NF_INET_INGRESS:
                        return family == NFPROTO_INET ? GUARD_SIDE_IN : GUARD_SIDE_NONE;
                case NF_INET_LOCAL_OUT:
                case NF_INET_POST_ROUTING:
                        return GUARD_SIDE_OUT;
                default:
                        return GUARD_SIDE_NONE;
                }
        default:
                return GUARD_SIDE_NONE;
        }
}

/* Can a chain of @family see packets of address family @af? */
static bool net_fits(uint32_t family, int af) {
        switch (family) {
        case NFPROTO_IPV4:
                return af == AF_INET;
        case NFPROTO_IPV6:
                return af == AF_INET6;
        case NFPROTO_INET:
        case NFPROTO_NETDEV:
        case NFPROTO_BRIDGE:
                return af == AF_INET || af == AF_INET6;
        default:
                return false;
        }
}

static unsigned addr_bits(int af) {
        return af == AF_INET ? 32 : 128;
}

/* ------------------------------------------------------------------ building */

static int add_expr(struct nftnl_rule *rule, const char *name, struct nftnl_expr **ret) {
        struct nftnl_expr *e = nftnl_expr_alloc(name);

        if (!e)
                return -ENOMEM;
        nftnl_rule_add_expr(rule, e);
        *ret = e;
        return 0;
}

static int add_meta(struct nftnl_rule *rule, uint32_t key) {
        struct nftnl_expr *e;
        int r = add_expr(rule, "meta", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        return 0;
}

static int add_cmp_eq(struct nftnl_rule *rule, const void *data, uint32_t len) {
        struct nftnl_expr *e;
        int r = add_expr(rule, "cmp", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        return nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len) < 0 ? -ENOMEM : 0;
}

static int add_payload(struct nftnl_rule *rule, uint32_t base, uint32_t offset, uint32_t len) {
        struct nftnl_expr *e;
        int r = add_expr(rule, "payload", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        return 0;
}

/* The kernel dumps the operation of a bitwise expression even when it was not
 * sent; it is set here so that a guard read back compares equal. */
static int add_mask(struct nftnl_rule *rule, const uint8_t *mask, uint32_t len) {
        static const uint8_t zero[16] = {};
        struct nftnl_expr *e;
        int r = add_expr(rule, "bitwise", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
        if (nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len) < 0 ||
            nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len) < 0)
                return -ENOMEM;
        return 0;
}

/* The L3 protocol that a source match in an inet, netdev or bridge chain
 * depends on, as nft emits it; ip and ip6 chains see one protocol only. */
static int add_l3_context(struct nftnl_rule *rule, uint32_t family, int af) {
        uint8_t nfproto = af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
        uint16_t ethertype = htons(af == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
        int r;

        switch (family) {
        case NFPROTO_INET:
                r = add_meta(rule, NFT_META_NFPROTO);
                return r < 0 ? r : add_cmp_eq(rule, &nfproto, sizeof(nfproto));
        case NFPROTO_NETDEV:
        case NFPROTO_BRIDGE:
                r = add_meta(rule, NFT_META_PROTOCOL);
                return r < 0 ? r : add_cmp_eq(rule, &ethertype, sizeof(ethertype));
        default:
                return 0;
        }
}

/* "ip saddr NET" / "ip6 saddr NET" in iptables-nft's shape: a prefix that ends
 * on a byte compares only its bytes, any other is masked; /0 matches all. */
static int add_source(struct nftnl_rule *rule, const GuardNet *net) {
        uint32_t alen = addr_bits(net->family) / 8;
        uint32_t offset = net->family == AF_INET ? offsetof(struct iphdr, saddr)
                                                 : offsetof(struct ip6_hdr, ip6_src);
        uint8_t addr[16] = {}, mask[16] = {};
        int r;

        if (net->prefixlen == 0)
                return 0;
        memcpy(addr, &net->addr, alen);
        for (unsigned bit = 0; bit < net->prefixlen; bit++)
                mask[bit / 8] |= (uint8_t) (0x80 >> (bit % 8));
        for (uint32_t i = 0; i < alen; i++)
                addr[i] &= mask[i];

        if (net->prefixlen % 8 == 0) {
                r = add_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, offset, net->prefixlen / 8);
                return r < 0 ? r : add_cmp_eq(rule, addr, net->prefixlen / 8);
        }
        r = add_payload(rule, NFT_PAYLOAD_NETWORK_HEADER, offset, alen);
        if (r >= 0)
                r = add_mask(rule, mask, alen);
        return r < 0 ? r : add_cmp_eq(rule, addr, alen);
}

/* With its values set, as the kernel dumps them: a counter without them is
 * the same rule to the kernel but not to lib/canon, and the rollback's
 * merge would take the committed guard for another writer's change. */
static int add_counter(struct nftnl_rule *rule) {
        struct nftnl_expr *e;
        int r = add_expr(rule, "counter", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, 0);
        nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, 0);
        return 0;
}

static int add_accept(struct nftnl_rule *rule) {
        struct nftnl_expr *e;
        int r = add_expr(rule, "immediate", &e);

        if (r < 0)
                return r;
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
        return 0;
}

/* One guard rule. @table and @chain may be NULL for a rule that is only
 * compared. -EAFNOSUPPORT if a chain of @family never sees @net's family. */
static int rule_build(uint32_t family, const char *table, const char *chain, GuardSide side,
                      uint16_t port, const GuardNet *net, struct nftnl_rule **ret) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *rule = NULL;
        _cleanup_(nftnl_udata_buf_freep) struct nftnl_udata_buf *ud = NULL;
        uint8_t tcp = IPPROTO_TCP;
        uint16_t be_port = htons(port);
        int r = 0;

        if (net && !net_fits(family, net->family))
                return -EAFNOSUPPORT;
        rule = nftnl_rule_alloc();
        ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
        if (!rule || !ud)
                return -ENOMEM;
        nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, family);
        if ((table && nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table) < 0) ||
            (chain && nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain) < 0))
                return -ENOMEM;

        if (net) {
                r = add_l3_context(rule, family, net->family);
                if (r >= 0)
                        r = add_source(rule, net);
        }
        if (r >= 0)
                r = add_meta(rule, NFT_META_L4PROTO);
        if (r >= 0)
                r = add_cmp_eq(rule, &tcp, sizeof(tcp));
        if (r >= 0)
                r = add_payload(rule, NFT_PAYLOAD_TRANSPORT_HEADER,
                                side == GUARD_SIDE_IN ? offsetof(struct tcphdr, th_dport)
                                                      : offsetof(struct tcphdr, th_sport),
                                sizeof(be_port));
        if (r >= 0)
                r = add_cmp_eq(rule, &be_port, sizeof(be_port));
        if (r >= 0)
                r = add_counter(rule);
        if (r >= 0)
                r = add_accept(rule);
        if (r < 0)
                return r;

        if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, GUARD_COMMENT) ||
            nftnl_rule_set_data(rule, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                                nftnl_udata_buf_len(ud)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(rule);
        return 0;
}

static bool port_in(uint16_t port, const uint16_t *ports, size_t n_ports) {
        for (size_t i = 0; i < n_ports; i++)
                if (ports[i] == port)
                        return true;
        return false;
}

int guard_rules_new(uint32_t family, const char *table, const char *chain, uint32_t hooknum,
                    const uint16_t *ports, size_t n_ports, const GuardSources *src, PtrVec *ret) {
        GuardSide side = guard_side(family, hooknum);
        /* The reply's destination is the client: only packets to us are
         * restricted by source. */
        bool any = !src || src->n == 0 || side == GUARD_SIDE_OUT;
        size_t n_nets = any ? 1 : src->n, old_n = ret->n;
        int r = 0;

        if (side == GUARD_SIDE_NONE)
                return -EOPNOTSUPP;
        if (n_ports == 0 || port_in(0, ports, n_ports))
                return -EINVAL;
        for (size_t j = 0; !any && j < src->n; j++)
                if ((src->items[j].family != AF_INET && src->items[j].family != AF_INET6) ||
                    src->items[j].prefixlen > addr_bits(src->items[j].family))
                        return -EINVAL;

        for (size_t i = 0; r >= 0 && i < n_ports; i++) {
                if (port_in(ports[i], ports, i))
                        continue;       /* listed twice */
                for (size_t j = 0; r >= 0 && j < n_nets; j++) {
                        const GuardNet *net = any ? NULL : &src->items[j];
                        struct nftnl_rule *rule;

                        if (net && !net_fits(family, net->family))
                                continue;
                        r = rule_build(family, table, chain, side, ports[i], net, &rule);
                        if (r < 0)
                                break;
                        r = ptrvec_push(ret, rule);
                        if (r < 0)
                                nftnl_rule_free(rule);
                }
        }
        if (r < 0)
                while (ret->n > old_n)
                        nftnl_rule_free(ret->items[--ret->n]);
        return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ recognising */

/* The parameters a rule would have if it were a guard, read loosely from its
 * expressions; rule_guard_check() then builds that guard and compares. */
typedef struct Shape {
        enum { LOAD_OTHER, LOAD_NFPROTO, LOAD_PROTOCOL, LOAD_SADDR, LOAD_PORT } last;
        bool masked;
        GuardSide side;
        uint16_t port;
        bool have_net;
        GuardNet net;
} Shape;

static int shape_expr(struct nftnl_expr *e, void *userdata) {
        Shape *s = userdata;
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
        const uint8_t *d;
        uint32_t len = 0;

        if (streq(name, "meta")) {
                uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
                s->last = key == NFT_META_NFPROTO ? LOAD_NFPROTO :
                          key == NFT_META_PROTOCOL ? LOAD_PROTOCOL : LOAD_OTHER;
        } else if (streq(name, "payload")) {
                uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
                uint32_t offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);

                s->last = LOAD_OTHER;
                if (base == NFT_PAYLOAD_NETWORK_HEADER) {
                        s->have_net = true;
                        s->net.family = offset == offsetof(struct iphdr, saddr) ? AF_INET : AF_INET6;
                        s->last = LOAD_SADDR;
                } else if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
                        s->side = offset == offsetof(struct tcphdr, th_dport) ? GUARD_SIDE_IN : GUARD_SIDE_OUT;
                        s->last = LOAD_PORT;
                }
        } else if (streq(name, "bitwise")) {
                d = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
                s->masked = true;
                s->net.prefixlen = 0;
                for (uint32_t i = 0; d && i < len && i < 16; i++)
                        for (int bit = 7; bit >= 0 && (d[i] >> bit) & 1; bit--)
                                s->net.prefixlen++;
        } else if (streq(name, "cmp")) {
                d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
                if (!d)
                        return 0;
                if (s->last == LOAD_NFPROTO && len == 1) {
                        s->have_net = true;
                        s->net.family = d[0] == NFPROTO_IPV4 ? AF_INET : AF_INET6;
                } else if (s->last == LOAD_PROTOCOL && len == 2) {
                        s->have_net = true;
                        s->net.family = (d[0] << 8 | d[1]) == ETHERTYPE_IP ? AF_INET : AF_INET6;
                } else if (s->last == LOAD_SADDR && len <= sizeof(s->net.addr)) {
                        memcpy(&s->net.addr, d, len);
                        if (!s->masked)
                                s->net.prefixlen = len * 8;
                } else if (s->last == LOAD_PORT && len == 2) {
                        s->port = (uint16_t) (d[0] << 8 | d[1]);
                }
        }
        return 0;
}

typedef struct ExprList {
        struct nftnl_expr *items[GUARD_MAX_EXPRS];
        size_t n;
} ExprList;

static int collect_expr(struct nftnl_expr *e, void *userdata) {
        ExprList *l = userdata;

        if (l->n == GUARD_MAX_EXPRS)
                return -1;
        l->items[l->n++] = e;
        return 0;
}

/* libnftnl's iterators take a non-const rule; they only read it. */
static int rule_exprs(const struct nftnl_rule *rule, ExprList *ret) {
        ret->n = 0;
        return nftnl_expr_foreach((struct nftnl_rule *) rule, collect_expr, ret) < 0 ? -E2BIG : 0;
}

/* Equal attribute by attribute; a counter's values are state, not shape. */
static bool exprs_equal(const struct nftnl_expr *a, const struct nftnl_expr *b) {
        const char *name = nftnl_expr_get_str(a, NFTNL_EXPR_NAME);

        if (!streq(name, nftnl_expr_get_str(b, NFTNL_EXPR_NAME)))
                return false;
        if (streq(name, "counter"))
                return true;
        for (uint16_t type = NFTNL_EXPR_BASE; type <= EXPR_ATTR_MAX; type++) {
                const void *da, *db;
                uint32_t la = 0, lb = 0;

                if (nftnl_expr_is_set(a, type) != nftnl_expr_is_set(b, type))
                        return false;
                if (!nftnl_expr_is_set(a, type))
                        continue;
                da = nftnl_expr_get(a, type, &la);
                db = nftnl_expr_get(b, type, &lb);
                if (!da != !db || la != lb || (da && memcmp(da, db, la) != 0))
                        return false;
        }
        return true;
}

/* Same expressions (counter values aside) and the same udata, byte for byte.
 * Allocates nothing, so that guard_chain() can match rules after its last
 * allocation. */
static bool rules_same(const struct nftnl_rule *a, const struct nftnl_rule *b) {
        ExprList ea, eb;
        const void *ua, *ub;
        uint32_t la = 0, lb = 0;

        if (rule_exprs(a, &ea) < 0 || rule_exprs(b, &eb) < 0 || ea.n != eb.n)
                return false;
        for (size_t i = 0; i < ea.n; i++)
                if (!exprs_equal(ea.items[i], eb.items[i]))
                        return false;
        ua = nftnl_rule_get_data(a, NFTNL_RULE_USERDATA, &la);
        ub = nftnl_rule_get_data(b, NFTNL_RULE_USERDATA, &lb);
        return ua && ub && la == lb && memcmp(ua, ub, la) == 0;
}

/* 1 if @rule is a guard for one of @ports (any port if @ports is NULL), 0 if
 * not, -ENOMEM. */
static int rule_guard_check(const struct nftnl_rule *rule, const uint16_t *ports, size_t n_ports) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *canon = NULL;
        Shape s = { .side = GUARD_SIDE_NONE };
        int r;

        /* Cheap filters first: most rules carry no comment at all. */
        if (!nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA) || !nftnl_rule_is_set(rule, NFTNL_RULE_FAMILY))
                return 0;
        if (nftnl_expr_foreach((struct nftnl_rule *) rule, shape_expr, &s) < 0 ||
            s.side == GUARD_SIDE_NONE || (ports && !port_in(s.port, ports, n_ports)) ||
            (s.have_net && s.net.prefixlen > addr_bits(s.net.family)))
                return 0;
        r = rule_build(nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY), NULL, NULL, s.side, s.port,
                       s.have_net ? &s.net : NULL, &canon);
        if (r == -EAFNOSUPPORT)
                return 0;
        if (r < 0)
                return r;
        return rules_same(rule, canon);
}

bool guard_rule_is_guard(const struct nftnl_rule *r, const uint16_t *ports, size_t n_ports) {
        return rule_guard_check(r, ports, n_ports) > 0;
}

int guard_table_strip(RsTable *t) {
        _cleanup_free_ bool *is_guard = NULL;
        size_t k = 0;
        int n = 0;

        if (t->owned)
                return -EPERM;
        /* Every rule is checked before any is freed: a failure leaves @t whole. */
        is_guard = calloc(MAX(t->rules.n, (size_t) 1), sizeof(bool));
        if (!is_guard)
                return -ENOMEM;
        for (size_t i = 0; i < t->rules.n; i++) {
                int g = rule_guard_check(t->rules.items[i], NULL, 0);
                if (g < 0)
                        return g;
                is_guard[i] = g;
                n += g;
        }
        for (size_t i = 0; i < t->rules.n; i++)
                if (is_guard[i])
                        nftnl_rule_free(t->rules.items[i]);
                else
                        t->rules.items[k++] = t->rules.items[i];
        t->rules.n = k;
        return n;
}

/* ------------------------------------------------------------------ placing */

static const char *rule_chain(const struct nftnl_rule *rule) {
        return nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
}

static const char *chain_name(const struct nftnl_chain *c) {
        return nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
}

/* The rules of chain @ci are t->rules[*ret_start, *ret_end). The model keeps
 * the rules of a chain together, in the order of the chains; a chain without
 * rules gets the place after the rules of the chains before it. A chain whose
 * rules are not together would put the guard somewhere else than at its
 * head: -EINVAL. */
static int chain_rules(const RsTable *t, size_t ci, size_t *ret_start, size_t *ret_end) {
        const char *name = chain_name(t->chains.items[ci]);
        size_t start = SIZE_MAX, end = 0;

        for (size_t i = 0; i < t->rules.n; i++) {
                if (!streq_ptr(rule_chain(t->rules.items[i]), name))
                        continue;
                if (start == SIZE_MAX)
                        start = i;
                else if (end != i)
                        return -EINVAL;
                end = i + 1;
        }
        if (start == SIZE_MAX) {
                start = 0;
                for (size_t i = 0; i < ci; i++)
                        while (start < t->rules.n &&
                               streq_ptr(rule_chain(t->rules.items[start]), chain_name(t->chains.items[i])))
                                start++;
                end = start;
        }
        *ret_start = start;
        *ret_end = end;
        return 0;
}

int guard_chain(RsTable *t, struct nftnl_chain *c, const uint16_t *ports, size_t n_ports,
                const GuardSources *src) {
        _cleanup_(rulevec_freep) PtrVec want = {};
        _cleanup_(ptrvec_forgetp) PtrVec keep = {}, old = {};
        _cleanup_free_ void **items = NULL;
        size_t ci, start, end, n, k;
        bool changed;
        int r;

        if (t->owned)
                return -EPERM;
        for (ci = 0; ci < t->chains.n && t->chains.items[ci] != c; ci++)
                ;
        if (ci == t->chains.n || !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
                return -EINVAL;

        r = guard_rules_new(t->family, t->name, chain_name(c), nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
                            ports, n_ports, src, &want);
        if (r < 0)
                return r;
        r = chain_rules(t, ci, &start, &end);
        if (r < 0)
                return r;
        for (size_t i = start; i < end; i++) {
                int g = rule_guard_check(t->rules.items[i], ports, n_ports);
                if (g < 0)
                        return g;
                r = ptrvec_push(g ? &old : &keep, t->rules.items[i]);
                if (r < 0)
                        return r;
        }
        n = t->rules.n - old.n + want.n;
        items = malloc(MAX(n, (size_t) 1) * sizeof(void *));
        if (!items)
                return -ENOMEM;

        /* Nothing fails from here on. A guard that is wanted again keeps its
         * counter; the fresh copy goes. */
        for (size_t i = 0; i < want.n; i++)
                for (size_t j = 0; j < old.n; j++)
                        if (old.items[j] && rules_same(old.items[j], want.items[i])) {
                                nftnl_rule_free(want.items[i]);
                                want.items[i] = TAKE_PTR(old.items[j]);
                                break;
                        }

        changed = end - start != want.n + keep.n;
        for (size_t i = 0; !changed && i < want.n + keep.n; i++)
                changed = t->rules.items[start + i] != (i < want.n ? want.items[i] : keep.items[i - want.n]);
        if (!changed) {
                /* Every guard rule was reused in place: want holds only rules of the model. */
                ptrvec_clear(&want, NULL);
                return 0;
        }

        k = 0;
        memcpy_safe(items, t->rules.items, start * sizeof(void *));
        k += start;
        memcpy_safe(items + k, want.items, want.n * sizeof(void *));
        k += want.n;
        memcpy_safe(items + k, keep.items, keep.n * sizeof(void *));
        k += keep.n;
        memcpy_safe(items + k, t->rules.items + end, (t->rules.n - end) * sizeof(void *));
        for (size_t j = 0; j < old.n; j++)
                if (old.items[j])
                        nftnl_rule_free(old.items[j]);
        ptrvec_clear(&want, NULL);
        free(t->rules.items);
        t->rules = (PtrVec) { .items = TAKE_PTR(items), .n = n, .cap = MAX(n, (size_t) 1) };
        return 1;
}

int guard_table(RsTable *t, const uint16_t *ports, size_t n_ports, const GuardSources *src) {
        bool changed = false;

        if (t->owned)
                return -EPERM;
        for (size_t i = 0; i < t->chains.n; i++) {
                struct nftnl_chain *c = t->chains.items[i];
                int r;

                if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) ||
                    guard_side(t->family, nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)) == GUARD_SIDE_NONE)
                        continue;
                r = guard_chain(t, c, ports, n_ports, src);
                if (r < 0)
                        return r;
                changed = changed || r > 0;
        }
        return changed;
}

int guard_chain_plan(struct nftnl_rule *const *rules, size_t n_rules, const PtrVec *want, PtrVec *ret_guards) {
        bool exact = n_rules >= want->n;
        size_t n_guards = 0;
        int r;

        for (size_t i = 0; exact && i < want->n; i++)
                exact = rules_same(rules[i], want->items[i]);
        for (size_t i = 0; i < n_rules; i++) {
                r = rule_guard_check(rules[i], NULL, 0);
                if (r < 0)
                        return r;
                n_guards += r;
        }
        if (exact && n_guards == want->n)
                return 0;
        for (size_t i = 0; ret_guards && i < n_rules; i++)
                if (rule_guard_check(rules[i], NULL, 0) > 0) {
                        r = ptrvec_push(ret_guards, rules[i]);
                        if (r < 0)
                                return r;
                }
        return 1;
}

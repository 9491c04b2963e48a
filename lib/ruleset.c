/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ruleset.c — the in-memory model of a complete nftables ruleset
 *
 * The model is a list of tables, each holding libnftnl objects exactly as the
 * kernel described them. Two producers feed it through ruleset_add_msg(): a
 * netlink dump of the live ruleset, and the snapshot reader. Because the
 * snapshot reader may see hostile input, ruleset_add_msg() trusts nothing: the
 * message type, the family, the presence of names and the references between
 * objects are all checked, and any inconsistency is -EBADMSG.
 *
 * What would stop an object from being added back by a batch is normalised as
 * it enters: handles, positions, ids and use counts are dropped, and a few
 * attributes that the kernel dumps but refuses on input are fixed (see
 * rule_normalise()). Everything that is state (counters, quota consumption,
 * the remaining time of set elements) is kept, so that a restore is exact.
 *
 * The other direction, rstable_emit(), turns the model into NEW messages in
 * the order the kernel needs within one transaction: a rule may reference
 * chains, sets, objects and flowtables, a set element may reference chains
 * and objects, so those come first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "macro.h"
#include "nl.h"
#include "nlschema.h"
#include "ruleset.h"

#ifndef NFT_TABLE_F_PERSIST
#define NFT_TABLE_F_PERSIST 0x4
#endif

#define DUMP_RETRIES 16

static const struct {
        uint32_t family;
        const char *name;
} families[] = {
        { NFPROTO_INET, "inet" },
        { NFPROTO_IPV4, "ip" },
        { NFPROTO_ARP, "arp" },
        { NFPROTO_NETDEV, "netdev" },
        { NFPROTO_BRIDGE, "bridge" },
        { NFPROTO_IPV6, "ip6" },
};

const char *family_name(uint32_t family) {
        for (size_t i = 0; i < ELEMENTSOF(families); i++)
                if (families[i].family == family)
                        return families[i].name;
        return NULL;
}

int family_from_name(const char *s, uint32_t *ret) {
        for (size_t i = 0; i < ELEMENTSOF(families); i++)
                if (streq(families[i].name, s)) {
                        *ret = families[i].family;
                        return 0;
                }
        return -EINVAL;
}

static const char *const msg_kind_names[_RS_MSG_MAX] = {
        [RS_MSG_TABLE] = "table",
        [RS_MSG_CHAIN] = "chain",
        [RS_MSG_OBJ] = "object",
        [RS_MSG_FLOWTABLE] = "flowtable",
        [RS_MSG_SET] = "set",
        [RS_MSG_ELEMS] = "set elements",
        [RS_MSG_RULE] = "rule",
};

const char *rs_msg_kind_name(RsMsgKind k) {
        return k >= 0 && k < _RS_MSG_MAX ? msg_kind_names[k] : NULL;
}

/* ------------------------------------------------------------------ model */

static void chain_destroy(void *p) { nftnl_chain_free(p); }
static void obj_destroy(void *p) { nftnl_obj_free(p); }
static void flowtable_destroy(void *p) { nftnl_flowtable_free(p); }
static void set_destroy(void *p) { nftnl_set_free(p); }
static void rule_destroy(void *p) { nftnl_rule_free(p); }

static void rstable_free(void *p) {
        RsTable *t = p;

        if (!t)
                return;
        ptrvec_clear(&t->rules, rule_destroy);
        ptrvec_clear(&t->sets, set_destroy);
        ptrvec_clear(&t->flowtables, flowtable_destroy);
        ptrvec_clear(&t->objs, obj_destroy);
        ptrvec_clear(&t->chains, chain_destroy);
        if (t->table)
                nftnl_table_free(t->table);
        free(t);
}

int ruleset_new(Ruleset **ret) {
        Ruleset *rs = calloc(1, sizeof(*rs));

        if (!rs)
                return -ENOMEM;
        *ret = rs;
        return 0;
}

Ruleset *ruleset_free(Ruleset *rs) {
        if (!rs)
                return NULL;
        ptrvec_clear(&rs->tables, rstable_free);
        free(rs);
        return NULL;
}

RsTable *ruleset_find_table(const Ruleset *rs, uint32_t family, const char *name) {
        for (size_t i = 0; i < rs->tables.n; i++) {
                RsTable *t = rs->tables.items[i];
                if (t->family == family && streq(t->name, name))
                        return t;
        }
        return NULL;
}

struct nftnl_chain *rstable_find_chain(const RsTable *t, const char *name) {
        for (size_t i = t->chains.n; i > 0; i--) {
                struct nftnl_chain *c = t->chains.items[i - 1];
                if (streq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), name))
                        return c;
        }
        return NULL;
}

struct nftnl_set *rstable_find_set(const RsTable *t, const char *name) {
        /* Newest first: elements are dumped right after their set. */
        for (size_t i = t->sets.n; i > 0; i--) {
                struct nftnl_set *s = t->sets.items[i - 1];
                if (streq(nftnl_set_get_str(s, NFTNL_SET_NAME), name))
                        return s;
        }
        return NULL;
}

static bool find_named(const PtrVec *v, const char *name,
                       const char *(*get_name)(const void *)) {
        for (size_t i = 0; i < v->n; i++)
                if (streq(get_name(v->items[i]), name))
                        return true;
        return false;
}

static const char *obj_name(const void *o) { return nftnl_obj_get_str((struct nftnl_obj *) o, NFTNL_OBJ_NAME); }
static const char *flowtable_name(const void *f) { return nftnl_flowtable_get_str(f, NFTNL_FLOWTABLE_NAME); }

int ruleset_take_table(Ruleset *to, Ruleset *from, RsTable *t) {
        int r;

        for (size_t i = 0; i < from->tables.n; i++) {
                if (from->tables.items[i] != t)
                        continue;
                r = ptrvec_push(&to->tables, t);
                if (r < 0)
                        return r;
                memmove(&from->tables.items[i], &from->tables.items[i + 1],
                        (from->tables.n - i - 1) * sizeof(void *));
                from->tables.n--;
                return 0;
        }
        return -ENOENT;
}

/* ------------------------------------------------------------------ normalisation */

typedef struct RuleFix {
        uint32_t l4proto_reg;   /* register loaded by "meta l4proto", 0 if none */
        bool bridge;            /* ebtables: the hint is the ether type instead */
        uint32_t ethertype_reg; /* register loaded with the ether type, 0 if none */
        bool have_proto;
        uint32_t proto;
        bool proto_inv;
        bool has_compat;
} RuleFix;

static int rule_fix_expr(struct nftnl_expr *e, void *data) {
        RuleFix *fix = data;
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

        if (streq(name, "meta")) {
                if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) &&
                    nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO)
                        fix->l4proto_reg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);
                else
                        fix->l4proto_reg = 0;
        } else if (streq(name, "payload")) {
                /* ebtables' "-p TYPE": the 2 bytes at offset 12 of the link header. */
                if (fix->bridge && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG) &&
                    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_LL_HEADER &&
                    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 12 &&
                    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == 2)
                        fix->ethertype_reg = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG);
                else
                        fix->ethertype_reg = 0;
        } else if (streq(name, "cmp")) {
                uint32_t len = 0, op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
                uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG);
                const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
                bool eq_or_neq = op == NFT_CMP_EQ || op == NFT_CMP_NEQ;

                if (fix->l4proto_reg != 0 && d && len == 1 &&
                    sreg == fix->l4proto_reg && eq_or_neq && !fix->have_proto) {
                        fix->have_proto = true;
                        fix->proto = d[0];
                        fix->proto_inv = op == NFT_CMP_NEQ;
                }
                /* The kernel hands the hint to ebtables matches as the
                 * __be16 ethproto: the value's bytes in packet order. */
                if (fix->ethertype_reg != 0 && d && len == 2 &&
                    sreg == fix->ethertype_reg && eq_or_neq && !fix->have_proto) {
                        uint16_t be;

                        memcpy(&be, d, sizeof(be));
                        fix->have_proto = true;
                        fix->proto = be;
                        fix->proto_inv = op == NFT_CMP_NEQ;
                }
                fix->l4proto_reg = 0;
                fix->ethertype_reg = 0;
        } else if (streq(name, "match") || streq(name, "target")) {
                fix->has_compat = true;
        }
        return 0;
}

/* xtables matches check the rule's protocol at load time (a "tcp" match needs
 * -p tcp, ebtables' "ip" match needs -p IPv4). The kernel does not dump the
 * NFTA_RULE_COMPAT hint that iptables-nft and ebtables-nft sent; rebuild it
 * from the rule's own "meta l4proto" (bridge: ether type) comparison. */
static void rule_normalise(struct nftnl_rule *r) {
        RuleFix fix = { .bridge = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == NFPROTO_BRIDGE };

        nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
        nftnl_rule_unset(r, NFTNL_RULE_POSITION);
        nftnl_rule_unset(r, NFTNL_RULE_ID);
        nftnl_rule_unset(r, NFTNL_RULE_POSITION_ID);
        nftnl_expr_foreach(r, rule_fix_expr, &fix);
        if (fix.has_compat && fix.have_proto && !nftnl_rule_is_set(r, NFTNL_RULE_COMPAT_PROTO)) {
                nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_PROTO, fix.proto);
                nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_FLAGS, fix.proto_inv ? NFT_RULE_COMPAT_F_INV : 0);
        }
}

/* ------------------------------------------------------------------ input */

static bool valid_name(const char *s) {
        return s && *s && strnlen(s, NFT_NAME_MAXLEN) < NFT_NAME_MAXLEN;
}

static int msg_family(const struct nlmsghdr *nlh, uint32_t *ret) {
        const struct nfgenmsg *nfg;

        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
                return -EBADMSG;
        nfg = mnl_nlmsg_get_payload(nlh);
        if (!family_name(nfg->nfgen_family))
                return -EBADMSG;
        *ret = nfg->nfgen_family;
        return 0;
}

/* Two attributes that the kernel dumps but refuses on input: "tcp option
 * set" expressions carry flags, and dynset carries "timeout 0" for sets
 * without timeouts. libnftnl cannot unset an expression attribute, so the
 * rule message is copied without them before it is parsed. */
static bool expr_attr_dropped(const char *expr, const struct nlattr *data, const struct nlattr *a) {
        const struct nlattr *x;

        if (streq(expr, "dynset") && mnl_attr_get_type(a) == NFTA_DYNSET_TIMEOUT)
                return mnl_attr_get_payload_len(a) == sizeof(uint64_t) && mnl_attr_get_u64(a) == 0;
        if (streq(expr, "exthdr") && mnl_attr_get_type(a) == NFTA_EXTHDR_FLAGS)
                mnl_attr_for_each_nested(x, data)
                        if (mnl_attr_get_type(x) == NFTA_EXTHDR_SREG)
                                return true;
        return false;
}

/* A quota at or over its limit is dumped with NFT_QUOTA_F_DEPLETED, a flag
 * the kernel refuses on input (EINVAL); it sets it again itself. */
static uint32_t quota_flags_for_input(uint32_t flags) {
        return flags & ~(uint32_t) NFT_QUOTA_F_DEPLETED;
}

static void copy_expr(struct nlmsghdr *out, const struct nlattr *elem);

/* A nest of expressions (NFTA_*_EXPRESSIONS), each copied by copy_expr(). */
static void copy_expr_list(struct nlmsghdr *out, const struct nlattr *list) {
        const struct nlattr *e;
        struct nlattr *nest = mnl_attr_nest_start(out, mnl_attr_get_type(list));

        mnl_attr_for_each_nested(e, list)
                copy_expr(out, e);
        mnl_attr_nest_end(out, nest);
}

static void copy_expr(struct nlmsghdr *out, const struct nlattr *elem) {
        const struct nlattr *a, *x, *data = NULL;
        const char *name = "";
        struct nlattr *nest;

        mnl_attr_for_each_nested(a, elem) {
                if (mnl_attr_get_type(a) == NFTA_EXPR_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                        name = mnl_attr_get_str(a);
                else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA)
                        data = a;
        }
        nest = mnl_attr_nest_start(out, mnl_attr_get_type(elem) & NLA_TYPE_MASK);
        mnl_attr_for_each_nested(a, elem) {
                if (a != data) {
                        mnl_attr_put(out, a->nla_type, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
                        continue;
                }
                struct nlattr *dn = mnl_attr_nest_start(out, NFTA_EXPR_DATA);
                mnl_attr_for_each_nested(x, data) {
                        uint16_t type = mnl_attr_get_type(x);

                        if (expr_attr_dropped(name, data, x))
                                continue;
                        if (streq(name, "quota") && type == NFTA_QUOTA_FLAGS &&
                            mnl_attr_get_payload_len(x) == sizeof(uint32_t))
                                mnl_attr_put_u32(out, x->nla_type, htonl(quota_flags_for_input(ntohl(mnl_attr_get_u32(x)))));
                        else if (streq(name, "dynset") && type == NFTA_DYNSET_EXPR)
                                copy_expr(out, x);
                        else if (streq(name, "dynset") && type == NFTA_DYNSET_EXPRESSIONS)
                                copy_expr_list(out, x);
                        else
                                mnl_attr_put(out, x->nla_type, mnl_attr_get_payload_len(x), mnl_attr_get_payload(x));
                }
                mnl_attr_nest_end(out, dn);
        }
        mnl_attr_nest_end(out, nest);
}

/* Interval ends are dumped with "timeout 0", which the kernel refuses on them. */
static void copy_elem(struct nlmsghdr *out, const struct nlattr *elem) {
        const struct nlattr *a;
        struct nlattr *nest;
        bool end = false;

        mnl_attr_for_each_nested(a, elem)
                if (mnl_attr_get_type(a) == NFTA_SET_ELEM_FLAGS && mnl_attr_get_payload_len(a) == sizeof(uint32_t))
                        end = ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
        nest = mnl_attr_nest_start(out, mnl_attr_get_type(elem));
        mnl_attr_for_each_nested(a, elem) {
                uint16_t type = mnl_attr_get_type(a);
                if (end && (type == NFTA_SET_ELEM_TIMEOUT || type == NFTA_SET_ELEM_EXPIRATION))
                        continue;
                if (type == NFTA_SET_ELEM_EXPR)
                        copy_expr(out, a);
                else if (type == NFTA_SET_ELEM_EXPRESSIONS)
                        copy_expr_list(out, a);
                else
                        mnl_attr_put(out, a->nla_type, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
        }
        mnl_attr_nest_end(out, nest);
}

/* Copy an object message without the top-level attributes of type @drop1 and
 * @drop2 (0 for none); rule expressions lose what expr_attr_dropped() says,
 * set elements what copy_elem() drops. */
static struct nlmsghdr *msg_copy(const struct nlmsghdr *in, uint16_t drop1, uint16_t drop2) {
        bool is_rule = (in->nlmsg_type & 0xff) == NFT_MSG_NEWRULE;
        bool is_elems = (in->nlmsg_type & 0xff) == NFT_MSG_NEWSETELEM;
        struct nlmsghdr *out = malloc(in->nlmsg_len + 64);
        const struct nlattr *a, *e;

        if (!out)
                return NULL;
        memcpy(out, in, mnl_nlmsg_size(sizeof(struct nfgenmsg)));
        out->nlmsg_len = mnl_nlmsg_size(sizeof(struct nfgenmsg));
        mnl_attr_for_each(a, in, sizeof(struct nfgenmsg)) {
                uint16_t type = mnl_attr_get_type(a);
                if ((drop1 && type == drop1) || (drop2 && type == drop2))
                        continue;
                if (is_rule && type == NFTA_RULE_EXPRESSIONS) {
                        struct nlattr *nest = mnl_attr_nest_start(out, NFTA_RULE_EXPRESSIONS);
                        mnl_attr_for_each_nested(e, a)
                                copy_expr(out, e);
                        mnl_attr_nest_end(out, nest);
                } else if (is_elems && type == NFTA_SET_ELEM_LIST_ELEMENTS) {
                        struct nlattr *nest = mnl_attr_nest_start(out, NFTA_SET_ELEM_LIST_ELEMENTS);
                        mnl_attr_for_each_nested(e, a)
                                copy_elem(out, e);
                        mnl_attr_nest_end(out, nest);
                } else {
                        mnl_attr_put(out, a->nla_type, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
                }
        }
        return out;
}

static int add_table(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        struct nftnl_table *nt = nftnl_table_alloc();
        RsTable *t;
        int r;

        if (!nt)
                return -ENOMEM;
        if (nftnl_table_nlmsg_parse(nlh, nt) < 0 ||
            !valid_name(nftnl_table_get_str(nt, NFTNL_TABLE_NAME)) ||
            ruleset_find_table(rs, family, nftnl_table_get_str(nt, NFTNL_TABLE_NAME))) {
                nftnl_table_free(nt);
                return -EBADMSG;
        }
        nftnl_table_unset(nt, NFTNL_TABLE_HANDLE);
        nftnl_table_unset(nt, NFTNL_TABLE_USE);
        nftnl_table_unset(nt, NFTNL_TABLE_OWNER);

        t = calloc(1, sizeof(*t));
        if (!t) {
                nftnl_table_free(nt);
                return -ENOMEM;
        }
        t->table = nt;
        t->family = family;
        t->name = nftnl_table_get_str(nt, NFTNL_TABLE_NAME);
        t->owned = nftnl_table_is_set(nt, NFTNL_TABLE_FLAGS) &&
                   (nftnl_table_get_u32(nt, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_OWNER);
        r = ptrvec_push(&rs->tables, t);
        if (r < 0)
                rstable_free(t);
        return r;
}

static RsTable *lookup_table(Ruleset *rs, uint32_t family, const char *name) {
        return valid_name(name) ? ruleset_find_table(rs, family, name) : NULL;
}

static int add_chain(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        struct nftnl_chain *c = nftnl_chain_alloc();
        RsTable *t;
        int r = -EBADMSG;

        if (!c)
                return -ENOMEM;
        if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
                goto fail;
        t = lookup_table(rs, family, nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
        if (!t || !valid_name(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)) ||
            rstable_find_chain(t, nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)))
                goto fail;
        /* A base chain needs its hook and priority; a half one would be a regular chain. */
        if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) != nftnl_chain_is_set(c, NFTNL_CHAIN_PRIO))
                goto fail;
        nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
        nftnl_chain_unset(c, NFTNL_CHAIN_USE);
        nftnl_chain_unset(c, NFTNL_CHAIN_ID);
        r = ptrvec_push(&t->chains, c);
        if (r >= 0)
                return 0;
fail:
        nftnl_chain_free(c);
        return r;
}

/* The set's expression templates (a "quota over 0 bytes" dumps as depleted). */
static int set_expr_normalise(struct nftnl_expr *e, void *userdata) {
        if (streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "quota") && nftnl_expr_is_set(e, NFTNL_EXPR_QUOTA_FLAGS))
                nftnl_expr_set_u32(e, NFTNL_EXPR_QUOTA_FLAGS, quota_flags_for_input(nftnl_expr_get_u32(e, NFTNL_EXPR_QUOTA_FLAGS)));
        return 0;
}

static int add_set(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        struct nftnl_set *s = nftnl_set_alloc();
        RsTable *t;
        int r = -EBADMSG;

        if (!s)
                return -ENOMEM;
        if (nftnl_set_nlmsg_parse(nlh, s) < 0)
                goto fail;
        t = lookup_table(rs, family, nftnl_set_get_str(s, NFTNL_SET_TABLE));
        if (!t || !valid_name(nftnl_set_get_str(s, NFTNL_SET_NAME)) ||
            rstable_find_set(t, nftnl_set_get_str(s, NFTNL_SET_NAME)) ||
            !nftnl_set_is_set(s, NFTNL_SET_KEY_LEN))
                goto fail;
        nftnl_set_unset(s, NFTNL_SET_HANDLE);
        nftnl_set_unset(s, NFTNL_SET_ID);
        nftnl_set_expr_foreach(s, set_expr_normalise, NULL);
        r = ptrvec_push(&t->sets, s);
        if (r >= 0)
                return 0;
fail:
        nftnl_set_free(s);
        return r;
}

static int elems_attr_cb(const struct nlattr *attr, void *data) {
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(attr);

        if (mnl_attr_type_valid(attr, NFTA_SET_ELEM_LIST_MAX) < 0)
                return MNL_CB_OK;
        if ((type == NFTA_SET_ELEM_LIST_TABLE || type == NFTA_SET_ELEM_LIST_SET) &&
            mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                return MNL_CB_ERROR;
        tb[type] = attr;
        return MNL_CB_OK;
}

static int add_elems(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = {};
        _cleanup_free_ struct nlmsghdr *copy = NULL;
        struct nftnl_set *s;
        RsTable *t;

        if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), elems_attr_cb, tb) < 0 ||
            !tb[NFTA_SET_ELEM_LIST_TABLE] || !tb[NFTA_SET_ELEM_LIST_SET])
                return -EBADMSG;
        t = lookup_table(rs, family, mnl_attr_get_str(tb[NFTA_SET_ELEM_LIST_TABLE]));
        if (!t)
                return -EBADMSG;
        s = rstable_find_set(t, mnl_attr_get_str(tb[NFTA_SET_ELEM_LIST_SET]));
        if (!s)
                return -EBADMSG;
        copy = msg_copy(nlh, 0, 0);
        if (!copy)
                return -ENOMEM;
        /* Appends to the set's own element list. */
        return nftnl_set_elems_nlmsg_parse(copy, s) < 0 ? -EBADMSG : 0;
}

static int add_obj(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        /* libnftnl exports no nftnl_obj_unset(): drop the identity on the wire. */
        _cleanup_free_ struct nlmsghdr *copy = msg_copy(nlh, NFTA_OBJ_HANDLE, NFTA_OBJ_USE);
        struct nftnl_obj *o = nftnl_obj_alloc();
        RsTable *t;
        int r = -EBADMSG;

        if (!o || !copy) {
                if (o)
                        nftnl_obj_free(o);
                return -ENOMEM;
        }
        if (nftnl_obj_nlmsg_parse(copy, o) < 0)
                goto fail;
        t = lookup_table(rs, family, nftnl_obj_get_str(o, NFTNL_OBJ_TABLE));
        if (!t || !valid_name(obj_name(o)) || !nftnl_obj_is_set(o, NFTNL_OBJ_TYPE))
                goto fail;
        if (nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_QUOTA && nftnl_obj_is_set(o, NFTNL_OBJ_QUOTA_FLAGS))
                nftnl_obj_set_u32(o, NFTNL_OBJ_QUOTA_FLAGS, quota_flags_for_input(nftnl_obj_get_u32(o, NFTNL_OBJ_QUOTA_FLAGS)));
        /* Names are unique per object type. */
        for (size_t i = 0; i < t->objs.n; i++)
                if (streq(obj_name(t->objs.items[i]), obj_name(o)) &&
                    nftnl_obj_get_u32(t->objs.items[i], NFTNL_OBJ_TYPE) == nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE))
                        goto fail;
        r = ptrvec_push(&t->objs, o);
        if (r >= 0)
                return 0;
fail:
        nftnl_obj_free(o);
        return r;
}

static int add_flowtable(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        struct nftnl_flowtable *f = nftnl_flowtable_alloc();
        RsTable *t;
        int r = -EBADMSG;

        if (!f)
                return -ENOMEM;
        if (nftnl_flowtable_nlmsg_parse(nlh, f) < 0)
                goto fail;
        t = lookup_table(rs, family, nftnl_flowtable_get_str(f, NFTNL_FLOWTABLE_TABLE));
        if (!t || !valid_name(flowtable_name(f)) || find_named(&t->flowtables, flowtable_name(f), flowtable_name))
                goto fail;
        nftnl_flowtable_unset(f, NFTNL_FLOWTABLE_HANDLE);
        nftnl_flowtable_unset(f, NFTNL_FLOWTABLE_USE);
        r = ptrvec_push(&t->flowtables, f);
        if (r >= 0)
                return 0;
fail:
        nftnl_flowtable_free(f);
        return r;
}

static int add_rule(Ruleset *rs, const struct nlmsghdr *nlh, uint32_t family) {
        _cleanup_free_ struct nlmsghdr *copy = msg_copy(nlh, 0, 0);
        struct nftnl_rule *rule = nftnl_rule_alloc();
        RsTable *t;
        int r = -EBADMSG;

        if (!rule || !copy) {
                if (rule)
                        nftnl_rule_free(rule);
                return -ENOMEM;
        }
        if (nftnl_rule_nlmsg_parse(copy, rule) < 0)
                goto fail;
        t = lookup_table(rs, family, nftnl_rule_get_str(rule, NFTNL_RULE_TABLE));
        if (!t || !valid_name(nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN)) ||
            !rstable_find_chain(t, nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN)))
                goto fail;
        rule_normalise(rule);
        r = ptrvec_push(&t->rules, rule);
        if (r >= 0)
                return 0;
fail:
        nftnl_rule_free(rule);
        return r;
}

/* The kernel's own dump is what libnftnl's parsers are written for; every
 * other source of messages (files, copies) is checked against the schema. */
static int add_msg(Ruleset *rs, const struct nlmsghdr *nlh, bool from_kernel) {
        uint32_t family;
        int r;

        if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
                return -EBADMSG;
        r = msg_family(nlh, &family);
        if (r < 0)
                return r;
        if (!from_kernel) {
                r = nlschema_validate(nlh);
                if (r < 0)
                        return r;
        }

        switch (nlh->nlmsg_type & 0xff) {
        case NFT_MSG_NEWTABLE:
                return add_table(rs, nlh, family);
        case NFT_MSG_NEWCHAIN:
                return add_chain(rs, nlh, family);
        case NFT_MSG_NEWSET:
                return add_set(rs, nlh, family);
        case NFT_MSG_NEWSETELEM:
                return add_elems(rs, nlh, family);
        case NFT_MSG_NEWOBJ:
                return add_obj(rs, nlh, family);
        case NFT_MSG_NEWFLOWTABLE:
                return add_flowtable(rs, nlh, family);
        case NFT_MSG_NEWRULE:
                return add_rule(rs, nlh, family);
        default:
                return -EBADMSG;
        }
}

/* ------------------------------------------------------------------ dump */

int ruleset_add_msg(Ruleset *rs, const struct nlmsghdr *nlh) {
        return add_msg(rs, nlh, false);
}

static int dump_cb(const struct nlmsghdr *nlh, void *userdata) {
        return add_msg(userdata, nlh, true);
}

static int dump_type(Nl *nl, Ruleset *rs, uint16_t type) {
        char buf[8192];
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_UNSPEC, 0, 0);

        return nl_dump(nl, nlh, dump_cb, rs);
}

static int dump_elems(Nl *nl, Ruleset *rs, const RsTable *t, struct nftnl_set *s) {
        char buf[8192];
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t) t->family, 0, 0);

        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->name);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(s, NFTNL_SET_NAME));
        return nl_dump(nl, nlh, dump_cb, rs);
}

static int dump_once(Nl *nl, Ruleset *rs) {
        static const uint16_t order[] = {
                NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETOBJ,
                NFT_MSG_GETFLOWTABLE, NFT_MSG_GETSET,
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                r = dump_type(nl, rs, order[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < rs->tables.n; i++) {
                RsTable *t = rs->tables.items[i];
                for (size_t j = 0; j < t->sets.n; j++) {
                        r = dump_elems(nl, rs, t, t->sets.items[j]);
                        if (r < 0)
                                return r;
                }
        }
        return dump_type(nl, rs, NFT_MSG_GETRULE);
}

int ruleset_dump(Nl *nl, Ruleset **ret) {
        int r;

        for (unsigned attempt = 0; attempt < DUMP_RETRIES; attempt++) {
                _cleanup_(ruleset_freep) Ruleset *rs = NULL;
                uint32_t before, after;

                r = nl_genid(nl, &before);
                if (r < 0)
                        return r;
                r = ruleset_new(&rs);
                if (r < 0)
                        return r;
                r = dump_once(nl, rs);
                if (r == -EINTR || r == -ENOENT)
                        continue;       /* changed under us (a set vanished, say): again */
                if (r < 0)
                        return r;
                r = nl_genid(nl, &after);
                if (r < 0)
                        return r;
                if (before != after)
                        continue;
                rs->genid = before;
                *ret = TAKE_PTR(rs);
                return 0;
        }
        return -EAGAIN;
}

/* ------------------------------------------------------------------ output */

static struct nlmsghdr *begin_msg(const RsMsgSink *sink, uint16_t type, uint32_t family, uint16_t flags) {
        return nftnl_nlmsg_build_hdr(sink->buffer(sink->userdata), type, (uint16_t) family,
                                     flags | sink->extra_flags, sink->seq ? sink->seq(sink->userdata) : 0);
}

static int emit_table(const RsTable *t, const RsMsgSink *sink) {
        struct nlmsghdr *nlh = begin_msg(sink, NFT_MSG_NEWTABLE, t->family, NLM_F_CREATE);
        uint32_t flags = 0;
        bool have_flags = nftnl_table_is_set(t->table, NFTNL_TABLE_FLAGS);

        /* Another process's ownership never carries over: we would become the
         * owner, and the table would vanish with our socket. */
        if (have_flags && sink->for_kernel) {
                flags = nftnl_table_get_u32(t->table, NFTNL_TABLE_FLAGS);
                nftnl_table_set_u32(t->table, NFTNL_TABLE_FLAGS, flags & ~(uint32_t) (NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST));
        }
        nftnl_table_nlmsg_build_payload(nlh, t->table);
        if (have_flags && sink->for_kernel)
                nftnl_table_set_u32(t->table, NFTNL_TABLE_FLAGS, flags);
        return sink->push(nlh, RS_MSG_TABLE, t, sink->userdata);
}

/* Elements go out in messages of at most one attribute's worth (64 KiB).
 * libnftnl's own builder numbers the list entries 1, 2, 3...: the kernel
 * takes that, libnftnl's parser does not, so entries are NFTA_LIST_ELEM here. */
static int emit_elems(const RsTable *t, struct nftnl_set *s, const RsMsgSink *sink) {
        struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
        struct nftnl_set_elem *e;
        int r = 0;

        if (!it)
                return -ENOMEM;
        e = nftnl_set_elems_iter_next(it);
        while (e && r >= 0) {
                struct nlmsghdr *nlh = begin_msg(sink, NFT_MSG_NEWSETELEM, t->family, NLM_F_CREATE);
                struct nlattr *list;

                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->name);
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(s, NFTNL_SET_NAME));
                list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
                do {
                        struct nlattr *one = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

                        nftnl_set_elem_nlmsg_build_payload(nlh, e);
                        mnl_attr_nest_end(nlh, one);
                        if ((char *) mnl_nlmsg_get_payload_tail(nlh) - (char *) list > UINT16_MAX &&
                            one != mnl_attr_get_payload(list)) {
                                mnl_attr_nest_cancel(nlh, one);
                                break;  /* @e starts the next message */
                        }
                        e = nftnl_set_elems_iter_next(it);
                } while (e);
                mnl_attr_nest_end(nlh, list);
                r = sink->push(nlh, RS_MSG_ELEMS, s, sink->userdata);
        }
        nftnl_set_elems_iter_destroy(it);
        return r;
}

int rstable_emit(const RsTable *t, const RsMsgSink *sink) {
        struct nlmsghdr *nlh;
        int r;

        r = emit_table(t, sink);
        for (size_t i = 0; r >= 0 && i < t->chains.n; i++) {
                nlh = begin_msg(sink, NFT_MSG_NEWCHAIN, t->family, NLM_F_CREATE);
                nftnl_chain_nlmsg_build_payload(nlh, t->chains.items[i]);
                r = sink->push(nlh, RS_MSG_CHAIN, t->chains.items[i], sink->userdata);
        }
        for (size_t i = 0; r >= 0 && i < t->objs.n; i++) {
                nlh = begin_msg(sink, NFT_MSG_NEWOBJ, t->family, NLM_F_CREATE);
                nftnl_obj_nlmsg_build_payload(nlh, t->objs.items[i]);
                r = sink->push(nlh, RS_MSG_OBJ, t->objs.items[i], sink->userdata);
        }
        for (size_t i = 0; r >= 0 && i < t->flowtables.n; i++) {
                nlh = begin_msg(sink, NFT_MSG_NEWFLOWTABLE, t->family, NLM_F_CREATE);
                nftnl_flowtable_nlmsg_build_payload(nlh, t->flowtables.items[i]);
                r = sink->push(nlh, RS_MSG_FLOWTABLE, t->flowtables.items[i], sink->userdata);
        }
        for (size_t i = 0; r >= 0 && i < t->sets.n; i++) {
                nlh = begin_msg(sink, NFT_MSG_NEWSET, t->family, NLM_F_CREATE);
                nftnl_set_set_u32(t->sets.items[i], NFTNL_SET_ID, (uint32_t) i + 1);
                nftnl_set_nlmsg_build_payload(nlh, t->sets.items[i]);
                nftnl_set_unset(t->sets.items[i], NFTNL_SET_ID);
                r = sink->push(nlh, RS_MSG_SET, t->sets.items[i], sink->userdata);
                if (r >= 0)
                        r = emit_elems(t, t->sets.items[i], sink);
        }
        for (size_t i = 0; r >= 0 && i < t->rules.n; i++) {
                nlh = begin_msg(sink, NFT_MSG_NEWRULE, t->family, NLM_F_CREATE | NLM_F_APPEND);
                nftnl_rule_nlmsg_build_payload(nlh, t->rules.items[i]);
                r = sink->push(nlh, RS_MSG_RULE, t->rules.items[i], sink->userdata);
        }
        return r;
}

int ruleset_emit(const Ruleset *rs, const RsMsgSink *sink) {
        for (size_t i = 0; i < rs->tables.n; i++) {
                int r = rstable_emit(rs->tables.items[i], sink);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------------------------ copy */

typedef struct Copier {
        Ruleset *rs;
        char scratch[RS_MSG_BUFSIZE];
        char norm[RS_MSG_BUFSIZE];
} Copier;

static char *copier_buffer(void *userdata) {
        Copier *c = userdata;
        return c->scratch;
}

static int copier_push(struct nlmsghdr *nlh, RsMsgKind kind, const void *obj, void *userdata) {
        Copier *c = userdata;
        int r = nlschema_normalise(nlh, c->norm, sizeof(c->norm));

        return r < 0 ? r : ruleset_add_msg(c->rs, (const struct nlmsghdr *) c->norm);
}

int ruleset_copy(const Ruleset *src, Ruleset **ret) {
        _cleanup_free_ Copier *c = calloc(1, sizeof(Copier));
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        RsMsgSink sink = { .buffer = copier_buffer, .push = copier_push };
        int r;

        if (!c)
                return -ENOMEM;
        r = ruleset_new(&rs);
        if (r < 0)
                return r;
        c->rs = rs;
        sink.userdata = c;
        r = ruleset_emit(src, &sink);
        if (r < 0)
                return r;
        rs->genid = src->genid;
        *ret = TAKE_PTR(rs);
        return 0;
}

int ruleset_drop_table(Ruleset *rs, RsTable *t) {
        for (size_t i = 0; i < rs->tables.n; i++) {
                if (rs->tables.items[i] != t)
                        continue;
                memmove(&rs->tables.items[i], &rs->tables.items[i + 1], (rs->tables.n - i - 1) * sizeof(void *));
                rs->tables.n--;
                rstable_free(t);
                return 0;
        }
        return -ENOENT;
}

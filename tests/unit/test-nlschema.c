/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-nlschema.c — the message schema's edges, one message at a time
 *
 * Each case builds one message with libmnl, the way the kernel or libnftnl
 * would or deliberately not, and says whether nlschema_validate() takes it.
 * The refusals are the places where libnftnl 1.2.4 would exit, read past an
 * attribute, read uninitialised memory or write past its own tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "macro.h"
#include "nlschema.h"

static char buf[65536];
static unsigned n_failed, n_cases;

static struct nlmsghdr *msg(uint16_t type) {
        memset(buf, 0, sizeof(buf));
        return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, 0, 0);
}

_printf_(3, 4)
static void expect(const struct nlmsghdr *nlh, int want, const char *fmt, ...) {
        int r = nlschema_validate(nlh);
        va_list ap;

        n_cases++;
        if (r == want)
                return;
        n_failed++;
        fprintf(stderr, "FAIL: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %d, expected %d\n", r, want);
}

#define ACCEPT(nlh, ...) expect(nlh, 0, __VA_ARGS__)
#define REFUSE(nlh, ...) expect(nlh, -EBADMSG, __VA_ARGS__)

/* A rule message, up to its expression's data nest: the caller fills the
 * data and closes it with rule_end(). */
static struct nlattr *exprs_nest, *elem_nest, *data_nest;

static struct nlmsghdr *rule_begin(const char *name) {
        struct nlmsghdr *nlh = msg(NFT_MSG_NEWRULE);

        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "t");
        mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "c");
        exprs_nest = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
        elem_nest = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        if (name)
                mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
        data_nest = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        return nlh;
}

static struct nlmsghdr *rule_end(struct nlmsghdr *nlh) {
        mnl_attr_nest_end(nlh, data_nest);
        mnl_attr_nest_end(nlh, elem_nest);
        mnl_attr_nest_end(nlh, exprs_nest);
        return nlh;
}

static void put_verdict(struct nlmsghdr *nlh, uint16_t type, bool code, int32_t verdict, const char *chain) {
        struct nlattr *d = mnl_attr_nest_start(nlh, type), *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);

        if (code)
                mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t) verdict));
        if (chain)
                mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
        mnl_attr_nest_end(nlh, v);
        mnl_attr_nest_end(nlh, d);
}

static void put_value(struct nlmsghdr *nlh, uint16_t type, size_t len) {
        struct nlattr *d = mnl_attr_nest_start(nlh, type);
        uint8_t v[128] = {};

        mnl_attr_put(nlh, NFTA_DATA_VALUE, len, v);
        mnl_attr_nest_end(nlh, d);
}

static void test_expressions(void) {
        static const char *const names[] = {
                "bitwise", "byteorder", "cmp", "connlimit", "counter", "ct", "dup", "dynset", "exthdr", "fib",
                "flow_offload", "fwd", "hash", "immediate", "last", "limit", "log", "lookup", "masq", "match",
                "meta", "nat", "notrack", "numgen", "objref", "osf", "payload", "queue", "quota", "range",
                "redir", "reject", "rt", "socket", "synproxy", "target", "tproxy", "tunnel", "xfrm",
        };
        struct nlmsghdr *nlh;

        /* Every expression libnftnl knows, as its own builder leaves it. */
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                struct nftnl_rule *r = nftnl_rule_alloc();
                struct nftnl_expr *e = nftnl_expr_alloc(names[i]);

                if (!e) {
                        fprintf(stderr, "FAIL: libnftnl does not know \"%s\"\n", names[i]);
                        n_failed++;
                        continue;
                }
                nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
                nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
                nftnl_rule_add_expr(r, e);
                nlh = msg(NFT_MSG_NEWRULE);
                nftnl_rule_nlmsg_build_payload(nlh, r);
                nftnl_rule_free(r);
                ACCEPT(nlh, "empty %s expression", names[i]);
        }

        REFUSE(rule_end(rule_begin(NULL)), "expression without a name");
        REFUSE(rule_end(rule_begin("fullcone")), "expression libnftnl 1.2.4 does not know");
        REFUSE(rule_end(rule_begin("")), "expression with an empty name");

        nlh = rule_begin("counter");
        mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, 1);
        ACCEPT(rule_end(nlh), "counter with bytes");
        nlh = rule_begin("counter");
        mnl_attr_put_u32(nlh, NFTA_COUNTER_BYTES, 1);
        REFUSE(rule_end(nlh), "counter with 32-bit bytes");
        nlh = rule_begin("counter");
        mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, 1);
        mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, 2);
        REFUSE(rule_end(nlh), "counter with bytes twice");
        nlh = rule_begin("counter");
        mnl_attr_put_u32(nlh, 40, 1);
        ACCEPT(rule_end(nlh), "counter with an attribute libnftnl ignores");

        nlh = rule_begin("log");
        mnl_attr_put_strz(nlh, NFTA_LOG_PREFIX, "");
        ACCEPT(rule_end(nlh), "log with an empty prefix, as the kernel dumps it");
        nlh = rule_begin("log");
        mnl_attr_put(nlh, NFTA_LOG_PREFIX, 0, NULL);
        REFUSE(rule_end(nlh), "log with a zero-length prefix");
        nlh = rule_begin("log");
        mnl_attr_put(nlh, NFTA_LOG_PREFIX, 4, "drop");
        REFUSE(rule_end(nlh), "log with an unterminated prefix");
        nlh = rule_begin("log");
        mnl_attr_put_u32(nlh, NFTA_LOG_GROUP, 1);
        REFUSE(rule_end(nlh), "log with a 32-bit group");

        /* Verdicts: libnftnl reads its verdict table uninitialised. */
        nlh = rule_begin("immediate");
        put_verdict(nlh, NFTA_IMMEDIATE_DATA, true, NFT_JUMP, "sub");
        ACCEPT(rule_end(nlh), "jump");
        nlh = rule_begin("immediate");
        put_verdict(nlh, NFTA_IMMEDIATE_DATA, true, NF_DROP, NULL);
        ACCEPT(rule_end(nlh), "drop");
        nlh = rule_begin("immediate");
        put_verdict(nlh, NFTA_IMMEDIATE_DATA, false, 0, "sub");
        REFUSE(rule_end(nlh), "verdict without a code");
        nlh = rule_begin("immediate");
        put_verdict(nlh, NFTA_IMMEDIATE_DATA, true, NFT_GOTO, NULL);
        REFUSE(rule_end(nlh), "goto without a chain");
        nlh = rule_begin("immediate");
        put_verdict(nlh, NFTA_IMMEDIATE_DATA, true, 42, NULL);
        REFUSE(rule_end(nlh), "unknown verdict code");
        nlh = rule_begin("immediate");
        mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA));
        REFUSE(rule_end(nlh), "immediate data with neither value nor verdict");
        nlh = rule_begin("immediate");
        put_value(nlh, NFTA_IMMEDIATE_DATA, NFT_DATA_VALUE_MAXLEN);
        ACCEPT(rule_end(nlh), "immediate value of %d bytes", NFT_DATA_VALUE_MAXLEN);
        nlh = rule_begin("immediate");
        put_value(nlh, NFTA_IMMEDIATE_DATA, NFT_DATA_VALUE_MAXLEN + 1);
        REFUSE(rule_end(nlh), "immediate value of %d bytes", NFT_DATA_VALUE_MAXLEN + 1);
        nlh = rule_begin("cmp");
        put_verdict(nlh, NFTA_CMP_DATA, true, NF_ACCEPT, NULL);
        REFUSE(rule_end(nlh), "cmp against a verdict");
}

static struct nlmsghdr *dynset_bomb(unsigned depth) {
        struct nlmsghdr *nlh = msg(NFT_MSG_NEWRULE);
        struct nlattr *nests[4 * 64];
        unsigned n = 0;

        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "t");
        nests[n++] = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
        nests[n++] = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        for (unsigned i = 0; i < depth; i++) {
                mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "dynset");
                nests[n++] = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
                nests[n++] = mnl_attr_nest_start(nlh, NFTA_DYNSET_EXPR);
        }
        mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "counter");
        while (n > 0)
                mnl_attr_nest_end(nlh, nests[--n]);
        return nlh;
}

static void test_nesting(void) {
        struct nlmsghdr *nlh;
        struct nlattr *n;

        ACCEPT(dynset_bomb(1), "a counter in a dynset");
        REFUSE(dynset_bomb(60), "dynsets 60 deep");

        nlh = msg(NFT_MSG_NEWTABLE);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "t");
        ACCEPT(nlh, "table");
        nlh->nlmsg_len += 4;
        REFUSE(nlh, "table with 4 bytes that are no attribute");
        nlh = msg(NFT_MSG_NEWTABLE);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "t");
        nlh->nlmsg_len -= 1;
        REFUSE(nlh, "table whose last attribute runs past the message");
        nlh = msg(NFT_MSG_NEWTABLE);
        mnl_attr_put_u32(nlh, 30, 0);
        ACCEPT(nlh, "table with an attribute newer than libnftnl");

        nlh = msg(NFT_MSG_NEWCHAIN);
        n = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
        mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, 0);
        mnl_attr_nest_end(nlh, n);
        n->nla_len += 4;
        nlh->nlmsg_len += 4;
        REFUSE(nlh, "hook nest with a zero-length attribute inside");

        nlh = msg(NFT_MSG_NEWCHAIN);
        n = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
        struct nlattr *devs = mnl_attr_nest_start(nlh, NFTA_HOOK_DEVS);
        mnl_attr_put_strz(nlh, NFTA_DEVICE_NAME, "lo");
        mnl_attr_nest_end(nlh, devs);
        mnl_attr_nest_end(nlh, n);
        ACCEPT(nlh, "chain with a device list");
        nlh = msg(NFT_MSG_NEWCHAIN);
        n = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
        devs = mnl_attr_nest_start(nlh, NFTA_HOOK_DEVS);
        mnl_attr_put(nlh, NFTA_DEVICE_NAME, 2, "lo");
        mnl_attr_nest_end(nlh, devs);
        mnl_attr_nest_end(nlh, n);
        REFUSE(nlh, "device name without its NUL");
}

static void test_sets(void) {
        struct nlmsghdr *nlh;

        for (uint16_t type = NFTA_SET_ELEM_EXPRESSIONS + 1; type <= NFTA_SET_ELEM_EXPRESSIONS + 8; type++) {
                nlh = msg(NFT_MSG_NEWSETELEM);
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "t");
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "s");
                struct nlattr *l = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
                struct nlattr *e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                mnl_attr_put_u32(nlh, type, 0);
                mnl_attr_nest_end(nlh, e);
                mnl_attr_nest_end(nlh, l);
                REFUSE(nlh, "element attribute of type %u", type);
        }

        for (unsigned fields = 15; fields <= 17; fields++) {
                nlh = msg(NFT_MSG_NEWSET);
                struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_SET_DESC);
                struct nlattr *c = mnl_attr_nest_start(nlh, NFTA_SET_DESC_CONCAT);
                for (unsigned i = 0; i < fields; i++) {
                        struct nlattr *f = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                        mnl_attr_put_u32(nlh, NFTA_SET_FIELD_LEN, htonl(4));
                        mnl_attr_nest_end(nlh, f);
                }
                mnl_attr_nest_end(nlh, c);
                mnl_attr_nest_end(nlh, d);
                expect(nlh, fields <= NFT_REG32_COUNT ? 0 : -EBADMSG, "set of %u concatenated fields", fields);
        }

        nlh = msg(NFT_MSG_NEWSET);
        mnl_attr_put_u16(nlh, NFTA_SET_OBJ_TYPE, 1);
        REFUSE(nlh, "set with a 16-bit object type");
}

static void test_objects(void) {
        static const struct {
                uint32_t type;
                int want;
        } types[] = {
                { NFT_OBJECT_COUNTER, 0 }, { NFT_OBJECT_SYNPROXY, 0 }, { NFT_OBJECT_UNSPEC, -EBADMSG },
                { NFT_OBJECT_CONNLIMIT, -EBADMSG }, { 11, -EBADMSG }, { 0xffffffff, -EBADMSG },
        };
        static const struct {
                uint32_t type;
                uint16_t attr;
                size_t len;
                int want;
        } strings[] = {
                { NFT_OBJECT_CT_HELPER, NFTA_CT_HELPER_NAME, 14, 0 },
                { NFT_OBJECT_CT_HELPER, NFTA_CT_HELPER_NAME, 15, -EBADMSG },
                { NFT_OBJECT_SECMARK, NFTA_SECMARK_CTX, 254, 0 },
                { NFT_OBJECT_SECMARK, NFTA_SECMARK_CTX, 255, -EBADMSG },
        };
        struct nlmsghdr *nlh;
        struct nlattr *d, *ip;
        char s[300];

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                nlh = msg(NFT_MSG_NEWOBJ);
                mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(types[i].type));
                mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NFTA_OBJ_DATA));
                expect(nlh, types[i].want, "object of type %u", types[i].type);
        }
        nlh = msg(NFT_MSG_NEWOBJ);
        mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, "o");
        REFUSE(nlh, "object without a type");

        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                nlh = msg(NFT_MSG_NEWOBJ);
                mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(strings[i].type));
                d = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
                memset(s, 'a', strings[i].len);
                s[strings[i].len] = '\0';
                mnl_attr_put_strz(nlh, strings[i].attr, s);
                mnl_attr_nest_end(nlh, d);
                expect(nlh, strings[i].want, "object %u with a %zu-character string", strings[i].type, strings[i].len);
        }

        /* libnftnl files tunnel addresses into a table of three. */
        for (uint16_t type = NFTA_TUNNEL_KEY_IP_DST; type <= NFTA_TUNNEL_KEY_IP_DST + 1; type++) {
                nlh = msg(NFT_MSG_NEWOBJ);
                mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_TUNNEL));
                d = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
                ip = mnl_attr_nest_start(nlh, NFTA_TUNNEL_KEY_IP);
                mnl_attr_put_u32(nlh, type, 0);
                mnl_attr_nest_end(nlh, ip);
                mnl_attr_nest_end(nlh, d);
                expect(nlh, type == NFTA_TUNNEL_KEY_IP_DST ? 0 : -EBADMSG, "tunnel address attribute %u", type);
        }
}

static void test_messages(void) {
        static const uint16_t types[] = {
                NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM,
                NFT_MSG_NEWOBJ, NFT_MSG_NEWFLOWTABLE,
        };
        struct nlmsghdr *nlh;

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                nlh = msg(types[i]);
                if (types[i] == NFT_MSG_NEWOBJ)
                        mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
                ACCEPT(nlh, "bare message of type %u", types[i]);
        }
        REFUSE(msg(NFT_MSG_DELTABLE), "table deletion");
        REFUSE(msg(NFT_MSG_NEWGEN), "generation");
        nlh = msg(NFT_MSG_NEWTABLE);
        nlh->nlmsg_type = NFNL_SUBSYS_IPSET << 8 | NFT_MSG_NEWTABLE;
        REFUSE(nlh, "other subsystem");
        nlh = msg(NFT_MSG_NEWTABLE);
        nlh->nlmsg_len = sizeof(struct nlmsghdr);
        REFUSE(nlh, "no nfgenmsg");
}

/* The writer's copy: the strings libnftnl leaves unterminated get their NUL,
 * everything else stays as it was. */
static void test_normalise(void) {
        static char out[65536];
        struct nlmsghdr *nlh = rule_begin("objref"), *norm = (struct nlmsghdr *) out;
        struct nftnl_rule *r = nftnl_rule_alloc();
        char before[65536];
        uint32_t len;

        mnl_attr_put_u32(nlh, NFTA_OBJREF_IMM_TYPE, htonl(NFT_OBJECT_COUNTER));
        mnl_attr_put_str(nlh, NFTA_OBJREF_IMM_NAME, "cnt1");
        rule_end(nlh);
        REFUSE(nlh, "objref name without its NUL");
        n_cases++;
        if (nlschema_normalise(nlh, out, sizeof(out)) != 0 || nlschema_validate(norm) != 0 ||
            norm->nlmsg_len != nlh->nlmsg_len + 4 || memmem(out, norm->nlmsg_len, "cnt1\0", 5) == NULL) {
                fprintf(stderr, "FAIL: normalising an objref name\n");
                n_failed++;
        }
        n_cases++;
        if (nlschema_normalise(nlh, out, nlh->nlmsg_len) != -ENOBUFS) {
                fprintf(stderr, "FAIL: normalising into too small a buffer\n");
                n_failed++;
        }

        nlh = dynset_bomb(2);
        len = nlh->nlmsg_len;
        memcpy(before, nlh, len);
        n_cases++;
        if (nlschema_normalise(nlh, out, sizeof(out)) != 0 || memcmp(out, before, len) != 0) {
                fprintf(stderr, "FAIL: normalising a valid message changed it\n");
                n_failed++;
        }
        nftnl_rule_free(r);
}

int main(void) {
        test_expressions();
        test_nesting();
        test_sets();
        test_objects();
        test_messages();
        test_normalise();
        printf("%u cases, %u failed\n", n_cases, n_failed);
        return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-guard.c — the guard rule: its exact shape per family and hook, how it
 * is told from near-misses, and guard_table() on models built from messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "guard.h"
#include "macro.h"
#include "ruleset.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static const uint16_t port22[] = { 22 };

static void rule_destroy(void *p) { nftnl_rule_free(p); }

/* ------------------------------------------------------------------ text */

/* The rules as libnftnl prints them (the format of nft --debug=netlink). */
static char *rules_text(void **rules, size_t n) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        CHECK(f, "open_memstream");
        for (size_t i = 0; i < n; i++) {
                char buf[4096];
                nftnl_rule_snprintf(buf, sizeof(buf), rules[i], NFTNL_OUTPUT_DEFAULT, 0);
                fprintf(f, "%s\n", buf);
        }
        fclose(f);
        return text;
}

static void expect_rules(uint32_t family, const char *chain, uint32_t hook, const GuardSources *src,
                         const uint16_t *ports, size_t n_ports, const char *want) {
        PtrVec v = {};
        int r = guard_rules_new(family, "t", chain, hook, ports, n_ports, src, &v);
        CHECK(r == 0, "guard_rules_new(%s %s): %d", family_name(family), chain, r);
        _cleanup_free_ char *got = rules_text(v.items, v.n);
        CHECK(streq(got, want), "%s %s: got\n%s\nwant\n%s", family_name(family), chain, got, want);
        for (size_t i = 0; i < v.n; i++)
                CHECK(guard_rule_is_guard(v.items[i], ports, n_ports), "%s %s: rule %zu is no guard",
                      family_name(family), chain, i);
        ptrvec_clear(&v, rule_destroy);
}

#define GUARD_TAIL(port_hex) \
        "  [ meta load l4proto => reg 1 ]\n" \
        "  [ cmp eq reg 1 0x00000006 ]\n" \
        "  [ payload load 2b @ transport header + 2 => reg 1 ]\n" \
        "  [ cmp eq reg 1 " port_hex " ]\n" \
        "  [ counter pkts 0 bytes 0 ]\n" \
        "  [ immediate reg 0 accept ]\n" \
        "  userdata = { \\x00\\x12fwguard ssh guard\\x00 }\n"
#define GUARD_TAIL_OUT \
        "  [ meta load l4proto => reg 1 ]\n" \
        "  [ cmp eq reg 1 0x00000006 ]\n" \
        "  [ payload load 2b @ transport header + 0 => reg 1 ]\n" \
        "  [ cmp eq reg 1 0x00001600 ]\n" \
        "  [ counter pkts 0 bytes 0 ]\n" \
        "  [ immediate reg 0 accept ]\n" \
        "  userdata = { \\x00\\x12fwguard ssh guard\\x00 }\n"

static void test_shapes(void) {
        static const struct {
                uint32_t family;
                uint32_t hook;
                GuardSide side;
        } hooks[] = {
                { NFPROTO_IPV4, NF_INET_PRE_ROUTING, GUARD_SIDE_IN },
                { NFPROTO_IPV4, NF_INET_LOCAL_IN, GUARD_SIDE_IN },
                { NFPROTO_IPV4, NF_INET_FORWARD, GUARD_SIDE_NONE },
                { NFPROTO_IPV4, NF_INET_LOCAL_OUT, GUARD_SIDE_OUT },
                { NFPROTO_IPV4, NF_INET_POST_ROUTING, GUARD_SIDE_OUT },
                { NFPROTO_IPV6, NF_INET_LOCAL_IN, GUARD_SIDE_IN },
                { NFPROTO_IPV6, NF_INET_FORWARD, GUARD_SIDE_NONE },
                { NFPROTO_IPV6, NF_INET_POST_ROUTING, GUARD_SIDE_OUT },
                { NFPROTO_INET, NF_INET_INGRESS, GUARD_SIDE_IN },
                { NFPROTO_INET, NF_INET_PRE_ROUTING, GUARD_SIDE_IN },
                { NFPROTO_INET, NF_INET_FORWARD, GUARD_SIDE_NONE },
                { NFPROTO_INET, NF_INET_LOCAL_OUT, GUARD_SIDE_OUT },
                { NFPROTO_NETDEV, NF_NETDEV_INGRESS, GUARD_SIDE_IN },
                { NFPROTO_NETDEV, NF_NETDEV_EGRESS, GUARD_SIDE_OUT },
                { NFPROTO_BRIDGE, NF_INET_PRE_ROUTING, GUARD_SIDE_IN },
                { NFPROTO_BRIDGE, NF_INET_LOCAL_IN, GUARD_SIDE_IN },
                { NFPROTO_BRIDGE, NF_INET_FORWARD, GUARD_SIDE_NONE },
                { NFPROTO_BRIDGE, NF_INET_LOCAL_OUT, GUARD_SIDE_OUT },
                { NFPROTO_BRIDGE, NF_INET_POST_ROUTING, GUARD_SIDE_OUT },
                { NFPROTO_ARP, 0, GUARD_SIDE_NONE },
                { NFPROTO_ARP, 1, GUARD_SIDE_NONE },
        };

        for (size_t i = 0; i < ELEMENTSOF(hooks); i++) {
                const char *fam = family_name(hooks[i].family);
                char want[2048];
                PtrVec v = {};

                CHECK(guard_side(hooks[i].family, hooks[i].hook) == hooks[i].side, "side of %s hook %u",
                      fam, hooks[i].hook);
                if (hooks[i].side == GUARD_SIDE_NONE) {
                        CHECK(guard_rules_new(hooks[i].family, "t", "c", hooks[i].hook, port22, 1, NULL, &v) == -EOPNOTSUPP,
                              "%s hook %u must get no guard", fam, hooks[i].hook);
                        CHECK(v.n == 0, "nothing appended");
                        continue;
                }
                /* Without a source restriction the guard is the same in every family. */
                snprintf(want, sizeof(want), "%s t c\n%s", fam,
                         hooks[i].side == GUARD_SIDE_IN ? GUARD_TAIL("0x00001600") : GUARD_TAIL_OUT);
                expect_rules(hooks[i].family, "c", hooks[i].hook, NULL, port22, 1, want);
        }
}

static GuardNet net(const char *addr, unsigned prefixlen) {
        GuardNet n = { .family = strchr(addr, ':') ? AF_INET6 : AF_INET, .prefixlen = prefixlen };

        CHECK(inet_pton(n.family, addr, &n.addr) == 1, "address %s", addr);
        return n;
}

static void test_sources(void) {
        /* Host bits are ignored: 10.1.17.3/20 is 10.1.16.0/20, as iptables has it. */
        GuardNet nets[] = { net("10.1.17.3", 20), net("2001:db8::", 32), net("192.0.2.7", 32) };
        GuardSources src = { nets, ELEMENTSOF(nets) };
        static const uint16_t ports[] = { 22, 2222, 22 };

        /* ip: iptables-nft's own shapes for -s A/M; IPv6 networks do not apply. */
        expect_rules(NFPROTO_IPV4, "INPUT", NF_INET_LOCAL_IN, &src, ports, 2,
                     "ip t INPUT\n"
                     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
                     "  [ bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000 ]\n"
                     "  [ cmp eq reg 1 0x0010010a ]\n"
                     GUARD_TAIL("0x00001600")
                     "ip t INPUT\n"
                     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
                     "  [ cmp eq reg 1 0x070200c0 ]\n"
                     GUARD_TAIL("0x00001600")
                     "ip t INPUT\n"
                     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
                     "  [ bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000 ]\n"
                     "  [ cmp eq reg 1 0x0010010a ]\n"
                     GUARD_TAIL("0x0000ae08")
                     "ip t INPUT\n"
                     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
                     "  [ cmp eq reg 1 0x070200c0 ]\n"
                     GUARD_TAIL("0x0000ae08"));
        /* A port listed twice gives one rule. */
        {
                PtrVec a = {}, b = {};
                CHECK(guard_rules_new(NFPROTO_IPV4, "t", "c", NF_INET_LOCAL_IN, ports, 3, &src, &a) == 0 &&
                      guard_rules_new(NFPROTO_IPV4, "t", "c", NF_INET_LOCAL_IN, ports, 2, &src, &b) == 0,
                      "guard_rules_new");
                _cleanup_free_ char *ta = rules_text(a.items, a.n), *tb = rules_text(b.items, b.n);
                CHECK(streq(ta, tb), "a duplicate port changed the guard");
                ptrvec_clear(&a, rule_destroy);
                ptrvec_clear(&b, rule_destroy);
        }

        /* ip6: a byte-aligned prefix compares its bytes only. */
        expect_rules(NFPROTO_IPV6, "INPUT", NF_INET_LOCAL_IN, &src, port22, 1,
                     "ip6 t INPUT\n"
                     "  [ payload load 4b @ network header + 8 => reg 1 ]\n"
                     "  [ cmp eq reg 1 0xb80d0120 ]\n"
                     GUARD_TAIL("0x00001600"));
        /* inet: one rule per network, each after its meta nfproto. */
        expect_rules(NFPROTO_INET, "in", NF_INET_LOCAL_IN, &src, port22, 1,
                     "inet t in\n"
                     "  [ meta load nfproto => reg 1 ]\n"
                     "  [ cmp eq reg 1 0x00000002 ]\n"
                     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
                     "  [ bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000 ]\n"
                     "  [ cmp eq reg 1 0x0010010a ]\n"
                     GUARD_TAIL("0x00001600")
                     "inet t in\n"
                     "  [ meta load nfproto => reg 1 ]\n"
                     "  [ cmp eq reg 1 0x0000000a ]\n"
                     "  [ payload load 4b @ network header + 8 => reg 1 ]\n"
                     "  [ cmp eq reg 1 0xb80d0120 ]\n"
                     GUARD_TAIL("0x00001600")
                     "inet t in\n"
                     "  [ meta load nfproto => reg 1 ]\n"
                     "  [ cmp eq reg 1 0x00000002 ]\n"
                     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
                     "  [ cmp eq reg 1 0x070200c0 ]\n"
                     GUARD_TAIL("0x00001600"));
        /* netdev and bridge: meta protocol gives the L3 context. */
        {
                GuardNet one[] = { net("2001:db8::", 33) };
                GuardSources s1 = { one, 1 };
                const char *tail =
                        "  [ meta load protocol => reg 1 ]\n"
                        "  [ cmp eq reg 1 0x0000dd86 ]\n"
                        "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
                        "  [ bitwise reg 1 = ( reg 1 & 0xffffffff 0x00000080 0x00000000 0x00000000 ) ^ 0x00000000 0x00000000 0x00000000 0x00000000 ]\n"
                        "  [ cmp eq reg 1 0xb80d0120 0x00000000 0x00000000 0x00000000 ]\n"
                        GUARD_TAIL("0x00001600");
                char want[2048];

                snprintf(want, sizeof(want), "netdev t in\n%s", tail);
                expect_rules(NFPROTO_NETDEV, "in", NF_NETDEV_INGRESS, &s1, port22, 1, want);
                snprintf(want, sizeof(want), "bridge t in\n%s", tail);
                expect_rules(NFPROTO_BRIDGE, "in", NF_INET_LOCAL_IN, &s1, port22, 1, want);
        }
        /* /0 is the whole family: no address match, only the context in inet. */
        {
                GuardNet all[] = { net("0.0.0.0", 0) };
                GuardSources s0 = { all, 1 };

                expect_rules(NFPROTO_IPV4, "c", NF_INET_LOCAL_IN, &s0, port22, 1, "ip t c\n" GUARD_TAIL("0x00001600"));
                expect_rules(NFPROTO_INET, "c", NF_INET_LOCAL_IN, &s0, port22, 1,
                             "inet t c\n"
                             "  [ meta load nfproto => reg 1 ]\n"
                             "  [ cmp eq reg 1 0x00000002 ]\n"
                             GUARD_TAIL("0x00001600"));
                /* An ip6 chain sees no IPv4 source: no guard at all. */
                expect_rules(NFPROTO_IPV6, "c", NF_INET_LOCAL_IN, &s0, port22, 1, "");
        }
        /* The reply side is not restricted by source. */
        expect_rules(NFPROTO_INET, "out", NF_INET_LOCAL_OUT, &src, port22, 1, "inet t out\n" GUARD_TAIL_OUT);
        /* An empty list means anywhere, like NULL. */
        {
                GuardSources none = { NULL, 0 };
                expect_rules(NFPROTO_INET, "c", NF_INET_LOCAL_IN, &none, port22, 1, "inet t c\n" GUARD_TAIL("0x00001600"));
        }
}

static void test_errors(void) {
        static const uint16_t zero[] = { 22, 0 };
        GuardNet bad[] = { net("10.0.0.0", 33) };
        GuardSources sbad = { bad, 1 };
        PtrVec v = {};

        CHECK(guard_rules_new(NFPROTO_INET, "t", "c", NF_INET_LOCAL_IN, port22, 0, NULL, &v) == -EINVAL, "no ports");
        CHECK(guard_rules_new(NFPROTO_INET, "t", "c", NF_INET_LOCAL_IN, zero, 2, NULL, &v) == -EINVAL, "port 0");
        CHECK(guard_rules_new(NFPROTO_INET, "t", "c", NF_INET_LOCAL_IN, port22, 1, &sbad, &v) == -EINVAL, "/33");
        CHECK(v.n == 0, "nothing appended on failure");
}

/* ------------------------------------------------------------------ near-misses */

static struct nftnl_rule *one_guard(uint32_t family, uint32_t hook, uint16_t port, const GuardSources *src) {
        PtrVec v = {};
        struct nftnl_rule *r;

        CHECK(guard_rules_new(family, "t", "c", hook, &port, 1, src, &v) == 0 && v.n == 1, "one guard");
        r = v.items[0];
        ptrvec_clear(&v, NULL);
        return r;
}

static void set_comment(struct nftnl_rule *r, const char *comment) {
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

        CHECK(ud && nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment), "udata");
        nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
}

typedef struct ExprEdit {
        size_t index;           /* which expression */
        uint16_t attr;
        uint64_t value;
        bool wide;              /* a 64-bit attribute */
} ExprEdit;

static int edit_expr(struct nftnl_expr *e, void *userdata) {
        ExprEdit *edit = userdata;

        if (edit->index-- != 0)
                return 0;
        if (edit->wide)
                nftnl_expr_set_u64(e, edit->attr, edit->value);
        else
                nftnl_expr_set_u32(e, edit->attr, (uint32_t) edit->value);
        return 0;
}

static void test_is_guard(void) {
        static const uint16_t ports[] = { 22, 2222 };
        GuardNet nets[] = { net("10.0.0.0", 8) };
        GuardSources src = { nets, 1 };
        struct nftnl_rule *r;
        struct nftnl_expr *e;

        r = one_guard(NFPROTO_IPV4, NF_INET_LOCAL_IN, 2222, NULL);
        CHECK(guard_rule_is_guard(r, ports, 2), "ours, port 2222");
        CHECK(!guard_rule_is_guard(r, port22, 1), "port 2222 is not a guard when SSH is on 22 only");
        nftnl_rule_free(r);

        r = one_guard(NFPROTO_IPV4, NF_INET_LOCAL_IN, 23, NULL);
        CHECK(!guard_rule_is_guard(r, ports, 2), "port 23 is not an SSH port");
        nftnl_rule_free(r);

        /* The reply-side guard in an input chain is still a guard (it is ours, misplaced). */
        r = one_guard(NFPROTO_IPV4, NF_INET_LOCAL_OUT, 22, NULL);
        CHECK(guard_rule_is_guard(r, port22, 1), "sport guard");
        nftnl_rule_free(r);

        r = one_guard(NFPROTO_INET, NF_INET_LOCAL_IN, 22, &src);
        CHECK(guard_rule_is_guard(r, port22, 1), "ours with a source");
        nftnl_rule_free(r);

        /* Counter values are state: a guard that counted packets is still one. */
        r = one_guard(NFPROTO_IPV4, NF_INET_LOCAL_IN, 22, NULL);
        {
                ExprEdit ed = { 4, NFTNL_EXPR_CTR_PACKETS, 99, true };
                nftnl_expr_foreach(r, edit_expr, &ed);
        }
        CHECK(guard_rule_is_guard(r, port22, 1), "counter values do not matter");

        /* Other comments. */
        set_comment(r, "fwguard ssh guard (mine)");
        CHECK(!guard_rule_is_guard(r, port22, 1), "other comment");
        set_comment(r, "Fwguard ssh guard");
        CHECK(!guard_rule_is_guard(r, port22, 1), "comment differs in case");
        nftnl_rule_unset(r, NFTNL_RULE_USERDATA);
        CHECK(!guard_rule_is_guard(r, port22, 1), "no comment");
        set_comment(r, GUARD_COMMENT);
        CHECK(guard_rule_is_guard(r, port22, 1), "comment back");

        /* One more expression. */
        e = nftnl_expr_alloc("counter");
        nftnl_rule_add_expr(r, e);
        CHECK(!guard_rule_is_guard(r, port22, 1), "extra expression");
        nftnl_rule_free(r);

        /* Another verdict, register or operation. */
        static const ExprEdit edits[] = {
                { 5, NFTNL_EXPR_IMM_VERDICT, NF_DROP },
                { 1, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ },
                { 2, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_2 },
                { 2, NFTNL_EXPR_PAYLOAD_LEN, 4 },
                { 0, NFTNL_EXPR_META_KEY, NFT_META_PROTOCOL },
        };
        for (size_t i = 0; i < ELEMENTSOF(edits); i++) {
                ExprEdit ed = edits[i];

                r = one_guard(NFPROTO_IPV4, NF_INET_LOCAL_IN, 22, NULL);
                nftnl_expr_foreach(r, edit_expr, &ed);
                CHECK(!guard_rule_is_guard(r, port22, 1), "edit %zu still a guard", i);
                nftnl_rule_free(r);
        }

        /* A rule of another family with the same expressions is no guard of an ip6 table's
         * kind: an IPv4 source in ip6 cannot be built. */
        r = one_guard(NFPROTO_IPV4, NF_INET_LOCAL_IN, 22, &src);
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV6);
        CHECK(!guard_rule_is_guard(r, port22, 1), "IPv4 source in an ip6 rule");
        nftnl_rule_free(r);
}

/* ------------------------------------------------------------------ models */

static char msgbuf[RS_MSG_BUFSIZE];

static void feed(Ruleset *rs, struct nlmsghdr *nlh) {
        int r = ruleset_add_msg(rs, nlh);
        CHECK(r == 0, "ruleset_add_msg: %d", r);
}

static void add_table(Ruleset *rs, uint32_t family, const char *name) {
        struct nftnl_table *t = nftnl_table_alloc();
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(msgbuf, NFT_MSG_NEWTABLE, (uint16_t) family, NLM_F_CREATE, 0);

        nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_table_free(t);
        feed(rs, nlh);
}

/* @hook < 0: a regular chain. */
static void add_chain(Ruleset *rs, uint32_t family, const char *table, const char *name, int hook) {
        struct nftnl_chain *c = nftnl_chain_alloc();
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(msgbuf, NFT_MSG_NEWCHAIN, (uint16_t) family, NLM_F_CREATE, 0);

        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
        if (hook >= 0) {
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t) hook);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
                nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
                if (family == NFPROTO_NETDEV)
                        nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, "veth0");
        }
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
        feed(rs, nlh);
}

static void add_rule_obj(Ruleset *rs, uint32_t family, const char *table, const char *chain, struct nftnl_rule *r) {
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(msgbuf, NFT_MSG_NEWRULE, (uint16_t) family,
                                                     NLM_F_CREATE | NLM_F_APPEND, 0);

        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        feed(rs, nlh);
}

/* A user's rule: "meta mark N" + verdict, told apart by N. */
static void add_user_rule(Ruleset *rs, uint32_t family, const char *table, const char *chain, uint32_t mark) {
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct nftnl_expr *e;

        e = nftnl_expr_alloc("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        nftnl_rule_add_expr(r, e);
        e = nftnl_expr_alloc("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &mark, sizeof(mark));
        nftnl_rule_add_expr(r, e);
        e = nftnl_expr_alloc("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
        nftnl_rule_add_expr(r, e);
        add_rule_obj(rs, family, table, chain, r);
}

/* One letter per rule of @chain, in order: I/O for an input/output-side guard
 * for port 22, i/o for port 2222, m<N> for the user's rule with mark N,
 * X for any other rule. */
static int describe_expr(struct nftnl_expr *e, void *userdata) {
        uint32_t *mark = userdata;

        if (streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "cmp") && *mark == UINT32_MAX) {
                uint32_t len = 0;
                const void *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
                if (len == sizeof(uint32_t))
                        memcpy(mark, d, len);
        }
        return 0;
}

static char *describe(const RsTable *t, const char *chain) {
        static const uint16_t both[] = { 22, 2222 };
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        for (size_t i = 0; i < t->rules.n; i++) {
                struct nftnl_rule *r = t->rules.items[i];
                if (!streq(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain))
                        continue;
                if (guard_rule_is_guard(r, both, 2)) {
                        char buf[4096];
                        bool out, p22;
                        nftnl_rule_snprintf(buf, sizeof(buf), r, NFTNL_OUTPUT_DEFAULT, 0);
                        out = strstr(buf, "transport header + 0");
                        p22 = strstr(buf, "0x00001600");
                        fputc(out ? (p22 ? 'O' : 'o') : (p22 ? 'I' : 'i'), f);
                } else {
                        uint32_t mark = UINT32_MAX;
                        nftnl_expr_foreach(r, describe_expr, &mark);
                        if (mark != UINT32_MAX)
                                fprintf(f, "m%u", mark);
                        else
                                fputc('X', f);
                }
        }
        fclose(f);
        return s;
}

static void expect_chain(const RsTable *t, const char *chain, const char *want) {
        _cleanup_free_ char *got = describe(t, chain);
        CHECK(streq(got, want), "%s %s %s: got \"%s\", want \"%s\"", family_name(t->family), t->name,
              chain, got, want);
}

/* Emit @rs and parse it back, as a snapshot round trip does. */
typedef struct Copy {
        Ruleset *to;
} Copy;

static char *copy_buffer(void *userdata) { return msgbuf; }
static int copy_push(struct nlmsghdr *nlh, RsMsgKind kind, const void *obj, void *userdata) {
        return ruleset_add_msg(((Copy *) userdata)->to, nlh);
}

static Ruleset *round_trip(const Ruleset *rs) {
        Copy copy = {};
        RsMsgSink sink = { .buffer = copy_buffer, .push = copy_push, .userdata = &copy };

        CHECK(ruleset_new(&copy.to) == 0, "ruleset_new");
        CHECK(ruleset_emit(rs, &sink) == 0, "round trip");
        return copy.to;
}

static void test_table(void) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL, *back = NULL;
        static const uint16_t both[] = { 22, 2222 };
        struct nftnl_rule *r23;
        RsTable *t;
        void **before;
        size_t n_before;

        CHECK(ruleset_new(&rs) == 0, "ruleset_new");
        add_table(rs, NFPROTO_INET, "filter");
        add_chain(rs, NFPROTO_INET, "filter", "input", NF_INET_LOCAL_IN);
        add_chain(rs, NFPROTO_INET, "filter", "forward", NF_INET_FORWARD);
        add_chain(rs, NFPROTO_INET, "filter", "sub", -1);
        add_chain(rs, NFPROTO_INET, "filter", "output", NF_INET_LOCAL_OUT);
        add_chain(rs, NFPROTO_INET, "filter", "pre", NF_INET_PRE_ROUTING);
        add_user_rule(rs, NFPROTO_INET, "filter", "input", 1);
        add_user_rule(rs, NFPROTO_INET, "filter", "input", 2);
        add_user_rule(rs, NFPROTO_INET, "filter", "forward", 3);
        add_user_rule(rs, NFPROTO_INET, "filter", "sub", 4);
        /* A rule with the guard's comment but port 23: the user's, not a guard. */
        r23 = one_guard(NFPROTO_INET, NF_INET_LOCAL_IN, 23, NULL);
        add_rule_obj(rs, NFPROTO_INET, "filter", "pre", r23);
        add_user_rule(rs, NFPROTO_INET, "filter", "pre", 5);
        t = ruleset_find_table(rs, NFPROTO_INET, "filter");

        CHECK(guard_table(t, port22, 1, NULL) == 1, "first guard changes the table");
        expect_chain(t, "input", "Im1m2");
        expect_chain(t, "forward", "m3");
        expect_chain(t, "sub", "m4");
        expect_chain(t, "output", "O");
        expect_chain(t, "pre", "IXm5");
        CHECK(t->rules.n == 9, "9 rules, got %zu", t->rules.n);

        /* Idempotent: the same objects in the same order. */
        n_before = t->rules.n;
        before = malloc(n_before * sizeof(void *));
        memcpy(before, t->rules.items, n_before * sizeof(void *));
        CHECK(guard_table(t, port22, 1, NULL) == 0, "guarding a guarded table changes nothing");
        CHECK(t->rules.n == n_before && memcmp(before, t->rules.items, n_before * sizeof(void *)) == 0,
              "guarding a guarded table moved rules");

        /* The same after a round trip through messages (a snapshot). */
        back = round_trip(rs);
        CHECK(guard_table(ruleset_find_table(back, NFPROTO_INET, "filter"), port22, 1, NULL) == 0,
              "guarding a guarded table read back changes nothing");

        /* A guard moved to the end of its chain comes back to the head, as the same object
         * (it keeps its counter); a deleted one is made again. */
        {
                void *g = t->rules.items[0];            /* input's guard */
                memmove(&t->rules.items[0], &t->rules.items[1], 2 * sizeof(void *));
                t->rules.items[2] = g;
                expect_chain(t, "input", "m1m2I");
                /* output's guard is rules[5]: input (3), forward (1), sub (1) come first. */
                nftnl_rule_free(t->rules.items[5]);
                memmove(&t->rules.items[5], &t->rules.items[6], (t->rules.n - 6) * sizeof(void *));
                t->rules.n--;
                expect_chain(t, "output", "");
                CHECK(guard_table(t, port22, 1, NULL) == 1, "repair changes the table");
                expect_chain(t, "input", "Im1m2");
                expect_chain(t, "output", "O");
                CHECK(t->rules.items[0] == g, "the moved guard was not reused");
                CHECK(t->rules.n == n_before && memcmp(before, t->rules.items, 5 * sizeof(void *)) == 0,
                      "the order of the other rules changed");
        }
        free(before);

        /* SSH on a second port: a guard per port; the old one is reused. */
        {
                void *g = t->rules.items[0];
                CHECK(guard_table(t, both, 2, NULL) == 1, "new port changes the table");
                expect_chain(t, "input", "Iim1m2");
                expect_chain(t, "output", "Oo");
                expect_chain(t, "pre", "IiXm5");
                CHECK(t->rules.items[0] == g, "the port 22 guard was not reused");
                /* Back to 22 only: the 2222 guards are no guards any more and stay. */
                CHECK(guard_table(t, port22, 1, NULL) == 0, "a guard for a port no longer SSH's is the user's");
        }

        /* With a source restriction the unrestricted guard is replaced. */
        {
                GuardNet nets[] = { net("10.0.0.0", 8), net("2001:db8::", 32) };
                GuardSources src = { nets, 2 };
                CHECK(guard_table(t, port22, 1, &src) == 1, "sources change the table");
                expect_chain(t, "input", "IIim1m2");
                expect_chain(t, "output", "Oo");
                CHECK(guard_table(t, port22, 1, &src) == 0, "idempotent with sources");
        }
}

static void test_families(void) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        RsTable *t;

        CHECK(ruleset_new(&rs) == 0, "ruleset_new");
        add_table(rs, NFPROTO_NETDEV, "nd");
        add_chain(rs, NFPROTO_NETDEV, "nd", "in", NF_NETDEV_INGRESS);
        add_chain(rs, NFPROTO_NETDEV, "nd", "out", NF_NETDEV_EGRESS);
        add_user_rule(rs, NFPROTO_NETDEV, "nd", "out", 1);
        add_table(rs, NFPROTO_BRIDGE, "br");
        for (int h = NF_INET_PRE_ROUTING; h <= NF_INET_POST_ROUTING; h++) {
                char name[8];
                snprintf(name, sizeof(name), "h%d", h);
                add_chain(rs, NFPROTO_BRIDGE, "br", name, h);
        }
        add_table(rs, NFPROTO_ARP, "arp");
        add_chain(rs, NFPROTO_ARP, "arp", "in", 0);
        add_user_rule(rs, NFPROTO_ARP, "arp", "in", 1);

        t = ruleset_find_table(rs, NFPROTO_NETDEV, "nd");
        CHECK(guard_table(t, port22, 1, NULL) == 1, "netdev");
        expect_chain(t, "in", "I");
        expect_chain(t, "out", "Om1");

        t = ruleset_find_table(rs, NFPROTO_BRIDGE, "br");
        CHECK(guard_table(t, port22, 1, NULL) == 1, "bridge");
        expect_chain(t, "h0", "I");
        expect_chain(t, "h1", "I");
        expect_chain(t, "h2", "");
        expect_chain(t, "h3", "O");
        expect_chain(t, "h4", "O");
        /* Chains without rules keep the model's order: each guard sits among its chain's. */
        for (size_t i = 0; i + 1 < t->rules.n; i++)
                CHECK(strcmp(nftnl_rule_get_str(t->rules.items[i], NFTNL_RULE_CHAIN),
                             nftnl_rule_get_str(t->rules.items[i + 1], NFTNL_RULE_CHAIN)) < 0,
                      "rules out of chain order");

        t = ruleset_find_table(rs, NFPROTO_ARP, "arp");
        CHECK(guard_table(t, port22, 1, NULL) == 0, "arp carries no TCP");
        CHECK(guard_chain(t, t->chains.items[0], port22, 1, NULL) == -EOPNOTSUPP, "arp chain");
        expect_chain(t, "in", "m1");
}

static void test_chain_errors(void) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL, *other = NULL;
        RsTable *t;

        CHECK(ruleset_new(&rs) == 0 && ruleset_new(&other) == 0, "ruleset_new");
        add_table(rs, NFPROTO_IPV4, "filter");
        add_chain(rs, NFPROTO_IPV4, "filter", "INPUT", NF_INET_LOCAL_IN);
        add_chain(rs, NFPROTO_IPV4, "filter", "user", -1);
        add_chain(rs, NFPROTO_IPV4, "filter", "FORWARD", NF_INET_FORWARD);
        add_user_rule(rs, NFPROTO_IPV4, "filter", "INPUT", 1);
        add_user_rule(rs, NFPROTO_IPV4, "filter", "user", 2);
        add_user_rule(rs, NFPROTO_IPV4, "filter", "INPUT", 3);
        add_table(other, NFPROTO_IPV4, "filter");
        add_chain(other, NFPROTO_IPV4, "filter", "INPUT", NF_INET_LOCAL_IN);
        t = ruleset_find_table(rs, NFPROTO_IPV4, "filter");

        CHECK(guard_chain(t, t->chains.items[1], port22, 1, NULL) == -EINVAL, "a regular chain");
        CHECK(guard_chain(t, t->chains.items[2], port22, 1, NULL) == -EOPNOTSUPP, "forward");
        CHECK(guard_chain(t, ruleset_find_table(other, NFPROTO_IPV4, "filter")->chains.items[0],
                          port22, 1, NULL) == -EINVAL, "a chain of another table");
        /* The rules of INPUT are not together: the head is unknown. */
        CHECK(guard_chain(t, t->chains.items[0], port22, 1, NULL) == -EINVAL, "scattered rules");
        expect_chain(t, "INPUT", "m1m3");
        t->owned = true;
        CHECK(guard_table(t, port22, 1, NULL) == -EPERM, "owned table");
}

int main(void) {
        test_shapes();
        test_sources();
        test_errors();
        test_is_guard();
        test_table();
        test_families();
        test_chain_errors();
        printf("ok\n");
        return 0;
}

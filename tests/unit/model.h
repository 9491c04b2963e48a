/* SPDX-License-Identifier: GPL-2.0-or-later */
/* model.h — small rulesets for unit tests, written as lines of text
 *
 * Tables of family inet, built from libnftnl objects and fed through
 * ruleset_add_msg() as a dump would be. A line per object, each in the table
 * of the last "table" line:
 *
 *   table NAME [comment TEXT]
 *   chain NAME [hook [prio N] [policy drop]] a base chain (input) with "hook"
 *   counter NAME PACKETS                     a counter object
 *   set NAME [anon] [timeout] [map]          keys are 16-bit ports; "map": verdict map
 *   elem SET PORT [timeout MS] [expires MS] [counter PACKETS] [jump CHAIN]
 *   rule CHAIN TOKENS...                     tcp PORT | udp PORT | @SET | counter PACKETS |
 *                                            accept | drop | jump CHAIN | comment TEXT
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "macro.h"
#include "nlschema.h"
#include "ruleset.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static char model_msg[RS_MSG_BUFSIZE], model_norm[RS_MSG_BUFSIZE];

static struct nlmsghdr *model_hdr(uint16_t type) {
        memset(model_msg, 0, sizeof(model_msg));
        return nftnl_nlmsg_build_hdr(model_msg, type, NFPROTO_INET, NLM_F_CREATE, 0);
}

/* As a dump would hand it over: libnftnl's builders leave some strings
 * without their NUL, which ruleset_add_msg() refuses. */
static void model_feed(Ruleset *rs, struct nlmsghdr *nlh, const char *line) {
        int r = nlschema_normalise(nlh, model_norm, sizeof(model_norm));

        CHECK(r == 0, "normalise '%s': %d", line, r);
        r = ruleset_add_msg(rs, (struct nlmsghdr *) model_norm);
        CHECK(r == 0, "ruleset_add_msg '%s': %d", line, r);
}

static void model_expr(struct nftnl_rule *r, struct nftnl_expr *e) {
        CHECK(e, "nftnl_expr_alloc");
        nftnl_rule_add_expr(r, e);
}

static void model_port(struct nftnl_rule *r, uint8_t proto, uint16_t port) {
        struct nftnl_expr *e = nftnl_expr_alloc("meta");

        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        model_expr(r, e);
        e = nftnl_expr_alloc("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &proto, sizeof(proto));
        model_expr(r, e);
        e = nftnl_expr_alloc("payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        model_expr(r, e);
        if (port == 0)
                return;         /* "@set" follows */
        port = htons(port);
        e = nftnl_expr_alloc("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &port, sizeof(port));
        model_expr(r, e);
}

static void model_verdict(struct nftnl_rule *r, int verdict, const char *chain) {
        struct nftnl_expr *e = nftnl_expr_alloc("immediate");

        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t) verdict);
        if (chain)
                nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
        model_expr(r, e);
}

static void model_rule(Ruleset *rs, const char *table, char *line, char *save) {
        const char *chain = strtok_r(NULL, " ", &save), *tok;
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct nlmsghdr *nlh = model_hdr(NFT_MSG_NEWRULE);

        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        while ((tok = strtok_r(NULL, " ", &save))) {
                if (streq(tok, "tcp") || streq(tok, "udp"))
                        model_port(r, streq(tok, "tcp") ? IPPROTO_TCP : IPPROTO_UDP,
                                   (uint16_t) atoi(strtok_r(NULL, " ", &save)));
                else if (tok[0] == '@') {
                        struct nftnl_expr *e = nftnl_expr_alloc("lookup");
                        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
                        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, tok + 1);
                        model_expr(r, e);
                } else if (streq(tok, "counter")) {
                        struct nftnl_expr *e = nftnl_expr_alloc("counter");
                        uint64_t n = strtoull(strtok_r(NULL, " ", &save), NULL, 10);
                        nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, n);
                        nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, n * 100);
                        model_expr(r, e);
                } else if (streq(tok, "accept"))
                        model_verdict(r, NF_ACCEPT, NULL);
                else if (streq(tok, "drop"))
                        model_verdict(r, NF_DROP, NULL);
                else if (streq(tok, "jump"))
                        model_verdict(r, NFT_JUMP, strtok_r(NULL, " ", &save));
                else if (streq(tok, "comment")) {
                        struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);
                        nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, strtok_r(NULL, " ", &save));
                        nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
                        nftnl_udata_buf_free(u);
                } else
                        CHECK(false, "model: unknown rule token '%s'", tok);
        }
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        model_feed(rs, nlh, line);
}

static void model_elem(Ruleset *rs, const char *table, char *line, char *save) {
        const char *set = strtok_r(NULL, " ", &save), *tok;
        uint16_t port = htons((uint16_t) atoi(strtok_r(NULL, " ", &save)));
        struct nftnl_set *s = nftnl_set_alloc();
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();
        struct nlmsghdr *nlh = model_hdr(NFT_MSG_NEWSETELEM);
        struct nlattr *list, *one;

        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &port, sizeof(port));
        while ((tok = strtok_r(NULL, " ", &save))) {
                const char *arg = strtok_r(NULL, " ", &save);
                if (streq(tok, "timeout"))
                        nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, strtoull(arg, NULL, 10));
                else if (streq(tok, "expires"))
                        nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, strtoull(arg, NULL, 10));
                else if (streq(tok, "jump")) {
                        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_JUMP);
                        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, arg);
                } else if (streq(tok, "counter")) {
                        struct nftnl_expr *c = nftnl_expr_alloc("counter");
                        nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, strtoull(arg, NULL, 10));
                        nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, 0);
                        nftnl_set_elem_add_expr(e, c);
                } else
                        CHECK(false, "model: unknown element token '%s'", tok);
        }
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
        list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        one = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        nftnl_set_elem_nlmsg_build_payload(nlh, e);
        mnl_attr_nest_end(nlh, one);
        mnl_attr_nest_end(nlh, list);
        nftnl_set_elem_free(e);
        nftnl_set_free(s);
        model_feed(rs, nlh, line);
}

static void model_line(Ruleset *rs, const char **table, char *line) {
        char *save = NULL, *copy = strdupa(line);
        const char *what = strtok_r(copy, " ", &save), *name, *tok;
        struct nlmsghdr *nlh;

        if (!what)
                return;
        if (streq(what, "rule")) {
                model_rule(rs, *table, line, save);
                return;
        }
        if (streq(what, "elem")) {
                model_elem(rs, *table, line, save);
                return;
        }
        name = strtok_r(NULL, " ", &save);
        if (streq(what, "table")) {
                struct nftnl_table *t = nftnl_table_alloc();
                nlh = model_hdr(NFT_MSG_NEWTABLE);
                nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
                nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
                if ((tok = strtok_r(NULL, " ", &save)) && streq(tok, "comment"))
                        nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, save, (uint32_t) strlen(save) + 1);
                nftnl_table_nlmsg_build_payload(nlh, t);
                nftnl_table_free(t);
                free((char *) *table);
                *table = strdup(name);
        } else if (streq(what, "chain")) {
                struct nftnl_chain *c = nftnl_chain_alloc();
                nlh = model_hdr(NFT_MSG_NEWCHAIN);
                nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, *table);
                nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
                while ((tok = strtok_r(NULL, " ", &save))) {
                        if (streq(tok, "hook")) {
                                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
                                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
                                nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
                                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
                        } else if (streq(tok, "prio"))
                                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, atoi(strtok_r(NULL, " ", &save)));
                        else if (streq(tok, "policy"))
                                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY,
                                                    streq(strtok_r(NULL, " ", &save), "drop") ? NF_DROP : NF_ACCEPT);
                }
                nftnl_chain_nlmsg_build_payload(nlh, c);
                nftnl_chain_free(c);
        } else if (streq(what, "counter")) {
                struct nftnl_obj *o = nftnl_obj_alloc();
                nlh = model_hdr(NFT_MSG_NEWOBJ);
                nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, *table);
                nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
                nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
                nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, strtoull(strtok_r(NULL, " ", &save), NULL, 10));
                nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, 0);
                nftnl_obj_nlmsg_build_payload(nlh, o);
                nftnl_obj_free(o);
        } else if (streq(what, "set")) {
                struct nftnl_set *s = nftnl_set_alloc();
                uint32_t flags = 0;
                nlh = model_hdr(NFT_MSG_NEWSET);
                nftnl_set_set_str(s, NFTNL_SET_TABLE, *table);
                nftnl_set_set_str(s, NFTNL_SET_NAME, name);
                nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2);
                while ((tok = strtok_r(NULL, " ", &save))) {
                        if (streq(tok, "anon"))
                                flags |= NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
                        else if (streq(tok, "timeout"))
                                flags |= NFT_SET_TIMEOUT;
                        else if (streq(tok, "map")) {
                                flags |= NFT_SET_MAP;
                                nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
                                nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
                        }
                }
                nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
                nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
                nftnl_set_nlmsg_build_payload(nlh, s);
                nftnl_set_free(s);
        } else {
                CHECK(false, "model: unknown line '%s'", line);
                return;
        }
        model_feed(rs, nlh, line);
}

/* A model from @text; the same text gives an equal model. */
static Ruleset *model(const char *text) {
        _cleanup_free_ char *copy = strdup(text);
        const char *table = NULL;
        char *save = NULL;
        Ruleset *rs;

        CHECK(copy && ruleset_new(&rs) == 0, "ruleset_new");
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                while (*line == ' ')
                        line++;
                model_line(rs, &table, line);
        }
        free((char *) table);
        return rs;
}

static RsTable *model_table(const Ruleset *rs) {
        return rs && rs->tables.n > 0 ? ruleset_table(rs, 0) : NULL;
}

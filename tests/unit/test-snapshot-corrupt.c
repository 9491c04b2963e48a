/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-snapshot-corrupt.c — snapshot_parse() on damaged snapshots
 *
 * A small but rich ruleset is built without a kernel, from libnftnl objects
 * turned into messages by libnftnl's own builders and fed to the model with
 * ruleset_add_msg(); snapshot_write() gives the valid file. It must read back
 * and write again to the same bytes. Then every way of damaging it must give
 * -EBADMSG and a message, never a crash, and never libnftnl's exit():
 *   - the file cut at every offset, every single bit flipped;
 *   - a header with a huge payload size, a wrong magic, a wrong version;
 *   - with the CRCs fixed up, so that the records are reached: bad record
 *     lengths, unknown message types, records out of order or dangling,
 *     a duplicate table, every attribute one byte longer or shorter, every
 *     string without its NUL.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <zlib.h>

#include "macro.h"
#include "nlschema.h"
#include "ruleset.h"
#include "snapshot.h"

/* The file format, as snapshot.c documents it. */
#define HEADER_SIZE 56
#define OFF_VERSION 8
#define OFF_RECORDS 24
#define OFF_PAYLOAD_SIZE 40
#define OFF_PAYLOAD_CRC 48
#define OFF_HEADER_CRC 52
#define CREATED_USEC 1700000000000000ULL

static const char *current_case;
static unsigned n_cases;

/* libnftnl's way out is exit(): name the case that took it. */
static void on_exit_report(void) {
        if (current_case)
                fprintf(stderr, "FAIL: exit() during %s\n", current_case);
}

_printf_(1, 2) _Noreturn
static void die(const char *fmt, ...) {
        va_list ap;

        current_case = NULL;
        fputs("FAIL: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(EXIT_FAILURE);
}

#define CHECK(x) do { if (!(x)) die("%s:%d: %s", __FILE__, __LINE__, #x); } while (0)

/* ------------------------------------------------------------------ the valid snapshot */

static char msgbuf[RS_MSG_BUFSIZE];

static struct nlmsghdr *begin(uint16_t type) {
        memset(msgbuf, 0, sizeof(msgbuf));
        return nftnl_nlmsg_build_hdr(msgbuf, type, NFPROTO_INET, NLM_F_CREATE, 0);
}

static void feed(Ruleset *rs, const struct nlmsghdr *nlh) {
        int r = ruleset_add_msg(rs, nlh);

        if (r < 0)
                die("ruleset_add_msg(type %u) of a libnftnl-built message: %s (nlschema_validate(): %d)",
                    nlh->nlmsg_type & 0xff, strerror(-r), nlschema_validate(nlh));
}

/* libnftnl builds objref names, ct helper names and secmark contexts without
 * their NUL; the snapshot writer adds it, and so does this. */
static void feed_normalised(Ruleset *rs, const struct nlmsghdr *nlh) {
        static char buf[RS_MSG_BUFSIZE];

        CHECK(nlschema_validate(nlh) == -EBADMSG);
        CHECK(nlschema_normalise(nlh, buf, sizeof(buf)) == 0);
        feed(rs, (const struct nlmsghdr *) buf);
}

static struct nftnl_expr *expr(const char *name) {
        struct nftnl_expr *e = nftnl_expr_alloc(name);

        CHECK(e);
        return e;
}

static struct nftnl_expr *expr_u32s(const char *name, ...) {
        struct nftnl_expr *e = expr(name);
        va_list ap;
        int type;

        va_start(ap, name);
        while ((type = va_arg(ap, int)) >= 0)
                nftnl_expr_set_u32(e, (uint16_t) type, va_arg(ap, uint32_t));
        va_end(ap);
        return e;
}

static void add_table(Ruleset *rs) {
        struct nftnl_table *t = nftnl_table_alloc();
        struct nlmsghdr *nlh = begin(NFT_MSG_NEWTABLE);

        nftnl_table_set_str(t, NFTNL_TABLE_NAME, "t");
        nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
        nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, "table comment", 13);
        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_table_free(t);
        feed(rs, nlh);
}

static void add_chains(Ruleset *rs) {
        static const char *devs[] = { "lo", "dummy0", NULL };
        struct nftnl_chain *c = nftnl_chain_alloc();
        struct nlmsghdr *nlh = begin(NFT_MSG_NEWCHAIN);

        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "t");
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "in");
        nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
        nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -10);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
        nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);
        nftnl_chain_set_u64(c, NFTNL_CHAIN_PACKETS, 12);
        nftnl_chain_set_u64(c, NFTNL_CHAIN_BYTES, 3400);
        nftnl_chain_set_data(c, NFTNL_CHAIN_USERDATA, "base", 4);
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
        feed(rs, nlh);

        c = nftnl_chain_alloc();
        nlh = begin(NFT_MSG_NEWCHAIN);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "t");
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "sub");
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
        feed(rs, nlh);

        c = nftnl_chain_alloc();
        nlh = begin(NFT_MSG_NEWCHAIN);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "t");
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "ingress");
        nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, 5);
        nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
        nftnl_chain_set_data(c, NFTNL_CHAIN_DEVICES, devs, 0);
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
        feed(rs, nlh);
}

/* The type comes first: libnftnl drops the data set before it. */
static struct nftnl_obj *new_obj(const char *name, uint32_t type) {
        struct nftnl_obj *o = nftnl_obj_alloc();

        CHECK(o);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, type);
        nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, "t");
        nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
        return o;
}

static void add_obj(Ruleset *rs, struct nftnl_obj *o, bool normalise) {
        struct nlmsghdr *nlh = begin(NFT_MSG_NEWOBJ);

        nftnl_obj_nlmsg_build_payload(nlh, o);
        nftnl_obj_free(o);
        if (normalise)
                feed_normalised(rs, nlh);
        else
                feed(rs, nlh);
}

static void add_objects(Ruleset *rs) {
        uint32_t timeouts[NFTNL_CTTIMEOUT_ARRAY_MAX] = { 10, 120, 30, 60, 120, 10, 10, 10, 300 };
        uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
        struct nftnl_obj *o;

        o = new_obj("cnt", NFT_OBJECT_COUNTER);
        nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, 7);
        nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, 700);
        add_obj(rs, o, false);

        o = new_obj("quota", NFT_OBJECT_QUOTA);
        nftnl_obj_set_u64(o, NFTNL_OBJ_QUOTA_BYTES, 1 << 20);
        nftnl_obj_set_u64(o, NFTNL_OBJ_QUOTA_CONSUMED, 4096);
        nftnl_obj_set_u32(o, NFTNL_OBJ_QUOTA_FLAGS, NFT_QUOTA_F_INV);
        add_obj(rs, o, false);

        o = new_obj("helper", NFT_OBJECT_CT_HELPER);
        nftnl_obj_set_str(o, NFTNL_OBJ_CT_HELPER_NAME, "ftp");
        nftnl_obj_set_u16(o, NFTNL_OBJ_CT_HELPER_L3PROTO, NFPROTO_IPV4);
        nftnl_obj_set_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO, 6);
        add_obj(rs, o, true);

        o = new_obj("lim", NFT_OBJECT_LIMIT);
        nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_RATE, 10);
        nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_UNIT, 60);
        nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_BURST, 5);
        nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
        nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_FLAGS, NFT_LIMIT_F_INV);
        add_obj(rs, o, false);

        o = new_obj("tun6", NFT_OBJECT_TUNNEL);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_ID, 42);
        nftnl_obj_set_data(o, NFTNL_OBJ_TUNNEL_IPV6_SRC, v6, sizeof(v6));
        nftnl_obj_set_data(o, NFTNL_OBJ_TUNNEL_IPV6_DST, v6, sizeof(v6));
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_IPV6_FLOWLABEL, 0x12345);
        nftnl_obj_set_u16(o, NFTNL_OBJ_TUNNEL_SPORT, 4789);
        nftnl_obj_set_u16(o, NFTNL_OBJ_TUNNEL_DPORT, 4789);
        nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_TOS, 1);
        nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_TTL, 64);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_FLAGS, 0);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_ERSPAN_VERSION, 2);
        nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_ERSPAN_V2_HWID, 3);
        nftnl_obj_set_u8(o, NFTNL_OBJ_TUNNEL_ERSPAN_V2_DIR, 1);
        add_obj(rs, o, false);

        o = new_obj("tun4", NFT_OBJECT_TUNNEL);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_ID, 43);
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_IPV4_SRC, htonl(0x0a000001));
        nftnl_obj_set_u32(o, NFTNL_OBJ_TUNNEL_IPV4_DST, htonl(0x0a000002));
        add_obj(rs, o, false);

        o = new_obj("tmo", NFT_OBJECT_CT_TIMEOUT);
        nftnl_obj_set_u16(o, NFTNL_OBJ_CT_TIMEOUT_L3PROTO, NFPROTO_IPV4);
        nftnl_obj_set_u8(o, NFTNL_OBJ_CT_TIMEOUT_L4PROTO, 6);
        nftnl_obj_set_data(o, NFTNL_OBJ_CT_TIMEOUT_ARRAY, timeouts, sizeof(timeouts));
        add_obj(rs, o, false);

        o = new_obj("sec", NFT_OBJECT_SECMARK);
        nftnl_obj_set_str(o, NFTNL_OBJ_SECMARK_CTX, "system_u:object_r:ssh_server_packet_t:s0");
        add_obj(rs, o, true);

        o = new_obj("exp", NFT_OBJECT_CT_EXPECT);
        nftnl_obj_set_u16(o, NFTNL_OBJ_CT_EXPECT_L3PROTO, NFPROTO_IPV4);
        nftnl_obj_set_u8(o, NFTNL_OBJ_CT_EXPECT_L4PROTO, 17);
        nftnl_obj_set_u16(o, NFTNL_OBJ_CT_EXPECT_DPORT, 5062);
        nftnl_obj_set_u32(o, NFTNL_OBJ_CT_EXPECT_TIMEOUT, 60000);
        nftnl_obj_set_u8(o, NFTNL_OBJ_CT_EXPECT_SIZE, 12);
        add_obj(rs, o, false);

        o = new_obj("syn", NFT_OBJECT_SYNPROXY);
        nftnl_obj_set_u16(o, NFTNL_OBJ_SYNPROXY_MSS, 1460);
        nftnl_obj_set_u8(o, NFTNL_OBJ_SYNPROXY_WSCALE, 7);
        nftnl_obj_set_u32(o, NFTNL_OBJ_SYNPROXY_FLAGS, 3);
        add_obj(rs, o, false);
}

/* Elements go in one NFTA_LIST_ELEM each, as the kernel and rstable_emit()
 * send them: libnftnl's own list builder numbers them, and its parser then
 * refuses all but the first. */
static void add_set(Ruleset *rs, struct nftnl_set *s, struct nftnl_set_elem **elems, size_t n) {
        struct nlmsghdr *nlh = begin(NFT_MSG_NEWSET);
        struct nlattr *list;

        nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
        nftnl_set_nlmsg_build_payload(nlh, s);
        feed(rs, nlh);

        nlh = begin(NFT_MSG_NEWSETELEM);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "t");
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(s, NFTNL_SET_NAME));
        list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        for (size_t i = 0; i < n; i++) {
                struct nlattr *one = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                nftnl_set_elem_nlmsg_build_payload(nlh, elems[i]);
                mnl_attr_nest_end(nlh, one);
                nftnl_set_elem_free(elems[i]);
        }
        mnl_attr_nest_end(nlh, list);
        nftnl_set_free(s);
        feed(rs, nlh);
}

static struct nftnl_set_elem *elem_key(const void *key, size_t len) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();

        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t) len);
        return e;
}

static void add_sets(Ruleset *rs) {
        struct nftnl_set_elem *e[3];
        struct nftnl_set *s;
        uint32_t a = htonl(0x0a000001), b = htonl(0x0a000002), c = htonl(0x0a0000ff);
        uint8_t ck[8] = { 10, 0, 0, 1, 0, 22 }, cke[8] = { 10, 0, 0, 9, 0, 23 };

        s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
        nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
        nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, 3600000);
        nftnl_set_set_u32(s, NFTNL_SET_GC_INTERVAL, 1000);
        nftnl_set_set_u32(s, NFTNL_SET_POLICY, NFT_SET_POL_MEMORY);
        nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 64);
        nftnl_set_set_data(s, NFTNL_SET_USERDATA, "set comment", 11);
        nftnl_set_add_expr(s, expr("counter"));
        e[0] = elem_key(&a, 4);
        nftnl_set_elem_set_u64(e[0], NFTNL_SET_ELEM_TIMEOUT, 600000);
        nftnl_set_elem_set_u64(e[0], NFTNL_SET_ELEM_EXPIRATION, 599000);
        nftnl_set_elem_set(e[0], NFTNL_SET_ELEM_USERDATA, "elem", 4);
        e[1] = elem_key(&b, 4);
        nftnl_set_elem_add_expr(e[1], expr_u32s("counter", -1));
        e[2] = elem_key(&c, 4);
        nftnl_set_elem_add_expr(e[2], expr_u32s("counter", -1));
        nftnl_set_elem_add_expr(e[2], expr_u32s("limit", NFTNL_EXPR_LIMIT_BURST, 5, -1));
        add_set(rs, s, e, 3);

        s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_NAME, "cc");
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | NFT_SET_CONCAT);
        nftnl_set_set_u32(s, NFTNL_SET_DESC_CONCAT, 4);
        nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, (uint8_t[]) { 4, 2 }, 2);
        e[0] = elem_key(ck, sizeof(ck));
        nftnl_set_elem_set(e[0], NFTNL_SET_ELEM_KEY_END, cke, sizeof(cke));
        add_set(rs, s, e, 1);

        s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_NAME, "vm");
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
        nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
        nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
        e[0] = elem_key(&a, 4);
        nftnl_set_elem_set_u32(e[0], NFTNL_SET_ELEM_VERDICT, NF_ACCEPT);
        e[1] = elem_key(&b, 4);
        nftnl_set_elem_set_u32(e[1], NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_JUMP);
        nftnl_set_elem_set_str(e[1], NFTNL_SET_ELEM_CHAIN, "sub");
        e[2] = elem_key(&c, 4);
        nftnl_set_elem_set_u32(e[2], NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
        nftnl_set_elem_set_u32(e[2], NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_GOTO);
        nftnl_set_elem_set_str(e[2], NFTNL_SET_ELEM_CHAIN, "sub");
        add_set(rs, s, e, 3);

        s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_NAME, "om");
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_OBJECT);
        nftnl_set_set_u32(s, NFTNL_SET_OBJ_TYPE, NFT_OBJECT_COUNTER);
        e[0] = elem_key(&a, 4);
        nftnl_set_elem_set_str(e[0], NFTNL_SET_ELEM_OBJREF, "cnt");
        e[1] = elem_key(&b, 4);
        nftnl_set_elem_set(e[1], NFTNL_SET_ELEM_DATA, &c, 4);
        add_set(rs, s, e, 2);
}

static struct nftnl_expr *with_u8(struct nftnl_expr *e, uint16_t type, uint8_t v) {
        nftnl_expr_set_u8(e, type, v);
        return e;
}

static struct nftnl_expr *with_u16(struct nftnl_expr *e, uint16_t type, uint16_t v) {
        nftnl_expr_set_u16(e, type, v);
        return e;
}

static struct nftnl_expr *with_u64(struct nftnl_expr *e, uint16_t type, uint64_t v) {
        nftnl_expr_set_u64(e, type, v);
        return e;
}

static struct nftnl_expr *with_str(struct nftnl_expr *e, uint16_t type, const char *v) {
        nftnl_expr_set_str(e, type, v);
        return e;
}

static struct nftnl_expr *with_data(struct nftnl_expr *e, uint16_t type, const void *v, size_t len) {
        nftnl_expr_set(e, type, v, (uint32_t) len);
        return e;
}

/* xtables info: libnftnl takes the pointer and frees it with the expression. */
static struct nftnl_expr *with_info(struct nftnl_expr *e, uint16_t type, size_t len) {
        uint8_t *info = calloc(1, len);

        CHECK(info);
        memset(info, 'i', len / 2);
        nftnl_expr_set(e, type, info, (uint32_t) len);
        return e;
}

static void add_rule(Ruleset *rs, struct nftnl_expr **exprs, size_t n, bool normalise) {
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct nlmsghdr *nlh = begin(NFT_MSG_NEWRULE);

        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "in");
        nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, "rule comment", 12);
        for (size_t i = 0; i < n; i++)
                nftnl_rule_add_expr(r, exprs[i]);
        if (normalise) {
                nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_PROTO, 6);
                nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_FLAGS, 0);
        }
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        if (normalise)
                feed_normalised(rs, nlh);
        else
                feed(rs, nlh);
}

/* Every expression libnftnl knows, most with every attribute set. */
static void add_rules(Ruleset *rs) {
        uint32_t v = htonl(0x0a000001), mask = htonl(0xffffff00), zero = 0, shift = htonl(8);
        struct nftnl_expr *dyn, *dyn2;

        struct nftnl_expr *first[] = {
                expr_u32s("payload", NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER,
                          NFTNL_EXPR_PAYLOAD_OFFSET, 12, NFTNL_EXPR_PAYLOAD_LEN, 4, -1),
                with_data(with_data(expr_u32s("bitwise", NFTNL_EXPR_BITWISE_SREG, NFT_REG_1, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1,
                                              NFTNL_EXPR_BITWISE_LEN, 4, -1),
                                    NFTNL_EXPR_BITWISE_MASK, &mask, 4),
                          NFTNL_EXPR_BITWISE_XOR, &zero, 4),
                with_data(expr_u32s("bitwise", NFTNL_EXPR_BITWISE_SREG, NFT_REG_1, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1,
                                    NFTNL_EXPR_BITWISE_LEN, 4, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_RSHIFT, -1),
                          NFTNL_EXPR_BITWISE_DATA, &shift, 4),
                with_data(expr_u32s("cmp", NFTNL_EXPR_CMP_SREG, NFT_REG_1, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ, -1),
                          NFTNL_EXPR_CMP_DATA, &v, 4),
                with_data(with_data(expr_u32s("range", NFTNL_EXPR_RANGE_SREG, NFT_REG_1, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ, -1),
                                    NFTNL_EXPR_RANGE_FROM_DATA, &zero, 4),
                          NFTNL_EXPR_RANGE_TO_DATA, &v, 4),
                expr_u32s("meta", NFTNL_EXPR_META_KEY, NFT_META_L4PROTO, NFTNL_EXPR_META_DREG, NFT_REG_1, -1),
                expr_u32s("meta", NFTNL_EXPR_META_KEY, NFT_META_MARK, NFTNL_EXPR_META_SREG, NFT_REG_1, -1),
                expr_u32s("byteorder", NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1,
                          NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_NTOH, NFTNL_EXPR_BYTEORDER_LEN, 4,
                          NFTNL_EXPR_BYTEORDER_SIZE, 2, -1),
                with_str(expr_u32s("lookup", NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV, -1),
                         NFTNL_EXPR_LOOKUP_SET, "s"),
                with_u8(expr_u32s("ct", NFTNL_EXPR_CT_KEY, NFT_CT_STATE, NFTNL_EXPR_CT_DREG, NFT_REG_1, -1),
                        NFTNL_EXPR_CT_DIR, 1),
                with_u64(with_u64(expr("counter"), NFTNL_EXPR_CTR_PACKETS, 3), NFTNL_EXPR_CTR_BYTES, 180),
                with_u16(with_u16(with_str(expr_u32s("log", NFTNL_EXPR_LOG_SNAPLEN, 64, NFTNL_EXPR_LOG_LEVEL, 4,
                                                     NFTNL_EXPR_LOG_FLAGS, 1, -1),
                                           NFTNL_EXPR_LOG_PREFIX, "drop: "),
                                  NFTNL_EXPR_LOG_GROUP, 2),
                         NFTNL_EXPR_LOG_QTHRESHOLD, 1),
                with_u64(with_u64(expr_u32s("limit", NFTNL_EXPR_LIMIT_BURST, 5, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKT_BYTES,
                                            NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV, -1),
                                  NFTNL_EXPR_LIMIT_RATE, 10),
                         NFTNL_EXPR_LIMIT_UNIT, 1),
                with_data(expr_u32s("immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_1, -1), NFTNL_EXPR_IMM_DATA, &v, 4),
                with_str(expr_u32s("immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT,
                                   NFTNL_EXPR_IMM_VERDICT, (uint32_t) NFT_JUMP, -1),
                         NFTNL_EXPR_IMM_CHAIN, "sub"),
        };
        add_rule(rs, first, ELEMENTSOF(first), false);

        dyn = with_u64(with_str(expr_u32s("dynset", NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1, NFTNL_EXPR_DYNSET_OP,
                                          NFT_DYNSET_OP_UPDATE, NFTNL_EXPR_DYNSET_FLAGS, 0, -1),
                                NFTNL_EXPR_DYNSET_SET_NAME, "s"),
                       NFTNL_EXPR_DYNSET_TIMEOUT, 60000);
        nftnl_expr_set(dyn, NFTNL_EXPR_DYNSET_EXPR, expr("counter"), 0);
        dyn2 = with_str(expr_u32s("dynset", NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD, -1),
                        NFTNL_EXPR_DYNSET_SET_NAME, "s");
        nftnl_expr_add_expr(dyn2, NFTNL_EXPR_DYNSET_EXPRESSIONS, expr("counter"));
        nftnl_expr_add_expr(dyn2, NFTNL_EXPR_DYNSET_EXPRESSIONS,
                            with_u64(expr_u32s("quota", NFTNL_EXPR_QUOTA_FLAGS, 0, -1), NFTNL_EXPR_QUOTA_BYTES, 1000));

        struct nftnl_expr *second[] = {
                dyn, dyn2,
                with_str(expr_u32s("objref", NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER, -1),
                         NFTNL_EXPR_OBJREF_IMM_NAME, "cnt"),
                with_str(expr_u32s("objref", NFTNL_EXPR_OBJREF_SET_SREG, NFT_REG_1, -1), NFTNL_EXPR_OBJREF_SET_NAME, "om"),
                with_info(with_str(expr_u32s("match", NFTNL_EXPR_MT_REV, 0, -1), NFTNL_EXPR_MT_NAME, "multiport"),
                          NFTNL_EXPR_MT_INFO, 8),
                with_info(with_str(expr_u32s("target", NFTNL_EXPR_TG_REV, 1, -1), NFTNL_EXPR_TG_NAME, "LOG"),
                          NFTNL_EXPR_TG_INFO, 6),
                with_u64(with_u64(expr_u32s("quota", NFTNL_EXPR_QUOTA_FLAGS, NFT_QUOTA_F_INV, -1), NFTNL_EXPR_QUOTA_BYTES, 1000),
                         NFTNL_EXPR_QUOTA_CONSUMED, 10),
                with_u8(expr_u32s("reject", NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH, -1), NFTNL_EXPR_REJECT_CODE, 1),
                with_u8(expr_u32s("exthdr", NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1, NFTNL_EXPR_EXTHDR_OFFSET, 2,
                                  NFTNL_EXPR_EXTHDR_LEN, 2, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT,
                                  NFTNL_EXPR_EXTHDR_FLAGS, 0, -1),
                        NFTNL_EXPR_EXTHDR_TYPE, 2),
                expr_u32s("exthdr", NFTNL_EXPR_EXTHDR_SREG, NFT_REG_1, NFTNL_EXPR_EXTHDR_OFFSET, 2, -1),
                expr_u32s("fib", NFTNL_EXPR_FIB_DREG, NFT_REG_1, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE,
                          NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR, -1),
                expr_u32s("hash", NFTNL_EXPR_HASH_SREG, NFT_REG_1, NFTNL_EXPR_HASH_DREG, NFT_REG_1, NFTNL_EXPR_HASH_LEN, 4,
                          NFTNL_EXPR_HASH_MODULUS, 4, NFTNL_EXPR_HASH_SEED, 0xdead, NFTNL_EXPR_HASH_OFFSET, 1,
                          NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS, -1),
                expr_u32s("numgen", NFTNL_EXPR_NG_DREG, NFT_REG_1, NFTNL_EXPR_NG_MODULUS, 2, NFTNL_EXPR_NG_TYPE, NFT_NG_INCREMENTAL,
                          NFTNL_EXPR_NG_OFFSET, 10, -1),
                with_u16(with_u16(with_u16(expr("queue"), NFTNL_EXPR_QUEUE_NUM, 3), NFTNL_EXPR_QUEUE_TOTAL, 2),
                         NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS),
                expr_u32s("queue", NFTNL_EXPR_QUEUE_SREG_QNUM, NFT_REG_1, -1),
                expr_u32s("tproxy", NFTNL_EXPR_TPROXY_FAMILY, NFPROTO_IPV4, NFTNL_EXPR_TPROXY_REG_ADDR, NFT_REG_1,
                          NFTNL_EXPR_TPROXY_REG_PORT, NFT_REG_2, -1),
                expr_u32s("socket", NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1,
                          NFTNL_EXPR_SOCKET_LEVEL, 1, -1),
                with_u8(expr_u32s("osf", NFTNL_EXPR_OSF_DREG, NFT_REG_1, NFTNL_EXPR_OSF_FLAGS, 1, -1), NFTNL_EXPR_OSF_TTL, 1),
                with_u8(with_u16(expr_u32s("synproxy", NFTNL_EXPR_SYNPROXY_FLAGS, 3, -1), NFTNL_EXPR_SYNPROXY_MSS, 1460),
                        NFTNL_EXPR_SYNPROXY_WSCALE, 7),
                with_u8(expr_u32s("xfrm", NFTNL_EXPR_XFRM_DREG, NFT_REG_1, NFTNL_EXPR_XFRM_KEY, NFT_XFRM_KEY_REQID,
                                  NFTNL_EXPR_XFRM_SPNUM, 0, -1),
                        NFTNL_EXPR_XFRM_DIR, 1),
                with_u64(expr_u32s("last", NFTNL_EXPR_LAST_SET, 1, -1), NFTNL_EXPR_LAST_MSECS, 5000),
                expr_u32s("connlimit", NFTNL_EXPR_CONNLIMIT_COUNT, 10, NFTNL_EXPR_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV, -1),
                with_str(expr("flow_offload"), NFTNL_EXPR_FLOW_TABLE_NAME, "ft"),
                expr_u32s("fwd", NFTNL_EXPR_FWD_SREG_DEV, NFT_REG_1, NFTNL_EXPR_FWD_SREG_ADDR, NFT_REG_2,
                          NFTNL_EXPR_FWD_NFPROTO, NFPROTO_IPV4, -1),
                expr_u32s("dup", NFTNL_EXPR_DUP_SREG_ADDR, NFT_REG_1, NFTNL_EXPR_DUP_SREG_DEV, NFT_REG_2, -1),
                expr_u32s("masq", NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_RANDOM, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG_1,
                          NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG_2, -1),
                expr_u32s("redir", NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1, NFTNL_EXPR_REDIR_REG_PROTO_MAX, NFT_REG_2,
                          NFTNL_EXPR_REDIR_FLAGS, 0, -1),
                expr_u32s("nat", NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4,
                          NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_2,
                          NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_3, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_4,
                          NFTNL_EXPR_NAT_FLAGS, 0, -1),
                expr_u32s("rt", NFTNL_EXPR_RT_KEY, NFT_RT_TCPMSS, NFTNL_EXPR_RT_DREG, NFT_REG_1, -1),
                expr_u32s("tunnel", NFTNL_EXPR_TUNNEL_KEY, NFT_TUNNEL_ID, NFTNL_EXPR_TUNNEL_DREG, NFT_REG_1, -1),
                expr("notrack"),
                with_str(expr_u32s("immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT,
                                   NFTNL_EXPR_IMM_VERDICT, (uint32_t) NFT_GOTO, -1),
                         NFTNL_EXPR_IMM_CHAIN, "sub"),
        };
        add_rule(rs, second, ELEMENTSOF(second), true);
}

static Ruleset *build_model(void) {
        Ruleset *rs = NULL;

        CHECK(ruleset_new(&rs) == 0);
        add_table(rs);
        add_chains(rs);
        add_objects(rs);
        add_sets(rs);
        add_rules(rs);
        return rs;
}

typedef struct Buf {
        uint8_t *data;
        size_t len;
} Buf;

static void buf_done(Buf *b) {
        free(b->data);
        *b = (Buf) {};
}

static Buf write_snapshot(const Ruleset *rs) {
        _cleanup_close_ int fd = memfd_create("snapshot", MFD_CLOEXEC);
        Buf b = {};
        off_t len;

        CHECK(fd >= 0);
        CHECK(snapshot_write(fd, rs, CREATED_USEC) == 0);
        len = lseek(fd, 0, SEEK_CUR);
        CHECK(len >= HEADER_SIZE);
        b.len = (size_t) len;
        b.data = malloc(b.len);
        CHECK(b.data && pread(fd, b.data, b.len, 0) == len);
        return b;
}

/* ------------------------------------------------------------------ checking one input */

/* snapshot_parse() must refuse @data with -EBADMSG and say why; @what names
 * the case in a failure, @want (may be NULL) is part of the message. */
_printf_(4, 5)
static void expect_bad(const void *data, size_t len, const char *want, const char *fmt, ...) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        _cleanup_free_ char *what = NULL;
        char err[512] = "";
        va_list ap;
        int r;

        va_start(ap, fmt);
        CHECK(vasprintf(&what, fmt, ap) >= 0);
        va_end(ap);
        current_case = what;
        r = snapshot_parse(data, len, &rs, NULL, err, sizeof(err));
        current_case = NULL;
        n_cases++;
        if (r != -EBADMSG)
                die("%s: snapshot_parse() returned %d (%s), not -EBADMSG", what, r, r < 0 ? strerror(-r) : "success");
        if (!err[0])
                die("%s: no error message", what);
        if (want && !strstr(err, want))
                die("%s: message \"%s\" does not say \"%s\"", what, err, want);
        if (rs)
                die("%s: a ruleset was returned on failure", what);
}

static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

static void fix_header_crc(uint8_t *h) {
        put32(h + OFF_HEADER_CRC, (uint32_t) crc32(0, h, OFF_HEADER_CRC));
}

/* ------------------------------------------------------------------ records */

typedef struct Record {
        uint8_t *data;          /* one netlink message, padded */
        size_t len;
} Record;

typedef struct Records {
        Record *items;
        size_t n;
} Records;

static void records_done(Records *rr) {
        for (size_t i = 0; i < rr->n; i++)
                free(rr->items[i].data);
        free(rr->items);
        *rr = (Records) {};
}

static void records_push(Records *rr, const void *data, size_t len) {
        Record *items = realloc(rr->items, (rr->n + 1) * sizeof(*items));

        CHECK(items);
        rr->items = items;
        rr->items[rr->n].data = malloc(MNL_ALIGN(len));
        CHECK(rr->items[rr->n].data);
        memset(rr->items[rr->n].data, 0, MNL_ALIGN(len));
        memcpy(rr->items[rr->n].data, data, len);
        rr->items[rr->n].len = MNL_ALIGN(len);
        rr->n++;
}

static Records split(const Buf *snap) {
        Records rr = {};

        for (size_t off = HEADER_SIZE; off < snap->len; ) {
                const struct nlmsghdr *nlh = (const void *) (snap->data + off);
                records_push(&rr, nlh, nlh->nlmsg_len);
                off += MNL_ALIGN(nlh->nlmsg_len);
        }
        return rr;
}

/* A snapshot of @rr with the valid file's header, its sizes and CRCs made
 * to match: only the records can be wrong. */
static Buf assemble(const Buf *valid, const Records *rr) {
        Buf b = {};
        size_t off = HEADER_SIZE;

        b.len = HEADER_SIZE;
        for (size_t i = 0; i < rr->n; i++)
                b.len += rr->items[i].len;
        b.data = malloc(b.len);
        CHECK(b.data);
        memcpy(b.data, valid->data, HEADER_SIZE);
        for (size_t i = 0; i < rr->n; i++) {
                memcpy(b.data + off, rr->items[i].data, rr->items[i].len);
                off += rr->items[i].len;
        }
        put32(b.data + OFF_RECORDS, (uint32_t) rr->n);
        put64(b.data + OFF_PAYLOAD_SIZE, b.len - HEADER_SIZE);
        put32(b.data + OFF_PAYLOAD_CRC, (uint32_t) crc32(0, b.data + HEADER_SIZE, (uInt) (b.len - HEADER_SIZE)));
        fix_header_crc(b.data);
        return b;
}

static Records records_copy(const Records *rr) {
        Records c = {};

        for (size_t i = 0; i < rr->n; i++)
                records_push(&c, rr->items[i].data, rr->items[i].len);
        return c;
}

static uint16_t record_type(const Record *r) {
        return ((const struct nlmsghdr *) r->data)->nlmsg_type & 0xff;
}

static size_t find_record(const Records *rr, uint16_t type) {
        for (size_t i = 0; i < rr->n; i++)
                if (record_type(&rr->items[i]) == type)
                        return i;
        die("no record of type %u", type);
}

/* ------------------------------------------------------------------ attribute mutations */

typedef enum MutKind {
        MUT_GROW,               /* one byte more */
        MUT_SHRINK,             /* one byte less */
        MUT_UNTERMINATE,        /* a string's NUL replaced */
        _MUT_MAX,
} MutKind;

static const char *const mut_names[_MUT_MAX] = {
        [MUT_GROW] = "one byte longer",
        [MUT_SHRINK] = "one byte shorter",
        [MUT_UNTERMINATE] = "without its NUL",
};

/* Where the walk is: libnftnl marks every nest it builds NLA_F_NESTED, so
 * the structure is known without a schema; what kind a leaf is follows
 * from where it is. */
typedef struct Ctx {
        uint16_t msg;           /* the record's message type */
        int depth;              /* 0 for the record's own attributes */
        uint16_t path[16];      /* the types of the enclosing nests */
        const char *expr_name;  /* this nest is that expression */
        const char *expr;       /* inside that expression's data... */
        int expr_depth;         /* ...whose attributes are at this depth */
} Ctx;

typedef struct Mutation {
        MutKind kind;
        int target;             /* which leaf, in depth-first order */
        int seen;
        bool applied;
        bool binary;            /* the leaf may have any length */
        char where[160];
} Mutation;

static const char *expr_name_of(const struct nlattr *nest) {
        const struct nlattr *first = mnl_attr_get_payload(nest);
        const char *s = mnl_attr_get_payload(first);
        uint16_t len;

        if (mnl_attr_get_payload_len(nest) < MNL_ATTR_HDRLEN || (first->nla_type & NLA_F_NESTED) ||
            mnl_attr_get_type(first) != NFTA_EXPR_NAME)
                return NULL;
        len = mnl_attr_get_payload_len(first);
        if (len < 2 || s[len - 1] != '\0' || strspn(s, "abcdefghijklmnopqrstuvwxyz_") != (size_t) len - 1)
                return NULL;
        return s;
}

static bool is_one_of(const char *s, const char *const *list) {
        for (; s && *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

/* Data whose length is free: comments, keys and operands, xtables blobs. */
static bool leaf_is_binary(const Ctx *c, uint16_t type) {
        static const char *const with_data[] = { "cmp", "bitwise", "range", "immediate", NULL };
        static const char *const with_info[] = { "match", "target", NULL };
        static const uint16_t userdata[] = {
                [NFT_MSG_NEWTABLE] = NFTA_TABLE_USERDATA, [NFT_MSG_NEWCHAIN] = NFTA_CHAIN_USERDATA,
                [NFT_MSG_NEWRULE] = NFTA_RULE_USERDATA, [NFT_MSG_NEWSET] = NFTA_SET_USERDATA,
                [NFT_MSG_NEWOBJ] = NFTA_OBJ_USERDATA,
        };
        bool in_elem = c->msg == NFT_MSG_NEWSETELEM && c->depth >= 2 && c->path[0] == NFTA_SET_ELEM_LIST_ELEMENTS;

        if (c->depth == 0)
                return c->msg < ELEMENTSOF(userdata) && userdata[c->msg] && type == userdata[c->msg];
        if (in_elem && c->depth == 2)
                return type == NFTA_SET_ELEM_USERDATA;
        if (in_elem && c->depth == 3 && !c->expr &&
            (c->path[2] == NFTA_SET_ELEM_KEY || c->path[2] == NFTA_SET_ELEM_KEY_END || c->path[2] == NFTA_SET_ELEM_DATA))
                return type == NFTA_DATA_VALUE;
        if (is_one_of(c->expr, with_data) && c->depth == c->expr_depth + 1)
                return type == NFTA_DATA_VALUE;
        if (is_one_of(c->expr, with_info) && c->depth == c->expr_depth)
                return type == NFTA_MATCH_INFO;
        return false;
}

static bool leaf_is_string(const struct nlattr *a) {
        const char *s = mnl_attr_get_payload(a);
        uint16_t len = mnl_attr_get_payload_len(a);

        if (len == 0 || s[len - 1] != '\0')
                return false;
        for (uint16_t i = 0; i + 1 < len; i++)
                if (s[i] < 0x20 || s[i] > 0x7e)
                        return false;
        return true;
}

static void mutate_leaf(struct nlmsghdr *out, const Ctx *c, const struct nlattr *a, Mutation *m) {
        uint16_t len = mnl_attr_get_payload_len(a), type = mnl_attr_get_type(a);
        uint8_t payload[UINT16_MAX + 1];
        size_t n = len;

        memcpy(payload, mnl_attr_get_payload(a), len);
        if (m->seen++ == m->target) {
                switch (m->kind) {
                case MUT_GROW:
                        payload[n++] = 'A';
                        m->applied = true;
                        break;
                case MUT_SHRINK:
                        m->applied = n > 0;
                        n -= n > 0;
                        break;
                case MUT_UNTERMINATE:
                        m->applied = leaf_is_string(a);
                        payload[n - 1] = 'X';
                        break;
                default:
                        abort();
                }
                m->binary = leaf_is_binary(c, type);
                int k = snprintf(m->where, sizeof(m->where), "message %u", c->msg);
                for (int i = 0; i < c->depth && k > 0 && (size_t) k < sizeof(m->where); i++)
                        k += snprintf(m->where + k, sizeof(m->where) - (size_t) k, "/%u", c->path[i]);
                if (k > 0 && (size_t) k < sizeof(m->where))
                        snprintf(m->where + k, sizeof(m->where) - (size_t) k, "/%u%s%s", type,
                                 c->expr ? " in " : "", c->expr ? c->expr : "");
        }
        mnl_attr_put(out, a->nla_type, n, payload);
}

static void mutate_attrs(struct nlmsghdr *out, const void *data, size_t len, const Ctx *c, Mutation *m) {
        const struct nlattr *a;
        size_t off = 0;

        while (off + MNL_ATTR_HDRLEN <= len) {
                a = (const struct nlattr *) ((const uint8_t *) data + off);
                off += MNL_ALIGN(a->nla_len);
                if (!(a->nla_type & NLA_F_NESTED)) {
                        mutate_leaf(out, c, a, m);
                        continue;
                }

                struct nlattr *nest = mnl_nlmsg_get_payload_tail(out);
                Ctx inner = *c;
                inner.path[c->depth] = mnl_attr_get_type(a);
                inner.depth = c->depth + 1;
                inner.expr_name = expr_name_of(a);
                if (c->expr_name && mnl_attr_get_type(a) == NFTA_EXPR_DATA) {
                        inner.expr = c->expr_name;
                        inner.expr_depth = inner.depth;
                }
                nest->nla_type = a->nla_type;
                out->nlmsg_len += MNL_ATTR_HDRLEN;
                mutate_attrs(out, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a), &inner, m);
                nest->nla_len = (uint16_t) ((uint8_t *) mnl_nlmsg_get_payload_tail(out) - (uint8_t *) nest);
        }
}

/* The record with leaf @m->target changed; false once there is none. */
static bool mutate_record(const Record *in, Mutation *m, Record *ret) {
        static uint8_t buf[RS_MSG_BUFSIZE];
        const struct nlmsghdr *nlh = (const void *) in->data;
        struct nlmsghdr *out = (struct nlmsghdr *) buf;
        Ctx c = { .msg = nlh->nlmsg_type & 0xff };
        size_t hdr = mnl_nlmsg_size(sizeof(struct nfgenmsg));

        memset(buf, 0, sizeof(buf));
        memcpy(buf, nlh, hdr);
        out->nlmsg_len = (uint32_t) hdr;
        m->seen = 0;
        m->applied = false;
        mutate_attrs(out, (const uint8_t *) nlh + hdr, nlh->nlmsg_len - hdr, &c, m);
        if (m->seen <= m->target)
                return false;
        ret->data = buf;
        ret->len = out->nlmsg_len;
        return true;
}

static void test_attribute_mutations(const Buf *valid, const Records *rr) {
        unsigned rejected = 0, binary = 0;

        for (size_t i = 0; i < rr->n; i++)
                for (MutKind k = 0; k < _MUT_MAX; k++) {
                        Mutation m = { .kind = k };
                        Record changed;

                        for (m.target = 0; mutate_record(&rr->items[i], &m, &changed); m.target++) {
                                Records copy;
                                Buf b;

                                if (!m.applied)
                                        continue;
                                copy = records_copy(rr);
                                free(copy.items[i].data);
                                copy.items[i].data = malloc(changed.len);
                                CHECK(copy.items[i].data);
                                memcpy(copy.items[i].data, changed.data, changed.len);
                                copy.items[i].len = changed.len;
                                b = assemble(valid, &copy);
                                if (m.binary) {
                                        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
                                        char err[256];

                                        current_case = m.where;
                                        int r = snapshot_parse(b.data, b.len, &rs, NULL, err, sizeof(err));
                                        current_case = NULL;
                                        if (r != 0 && r != -EBADMSG)
                                                die("%s %s: snapshot_parse() returned %d", m.where, mut_names[k], r);
                                        binary++;
                                } else {
                                        expect_bad(b.data, b.len, "record", "record %zu, attribute %s %s",
                                                   i + 1, m.where, mut_names[k]);
                                        rejected++;
                                }
                                buf_done(&b);
                                records_done(&copy);
                        }
                }
        printf("attribute mutations: %u refused, %u of free-length data tolerated\n", rejected, binary);
        CHECK(rejected > 500);
}

/* ------------------------------------------------------------------ record-level damage */

static void expect_bad_records(const Buf *valid, const Records *rr, const char *want, const char *what) {
        Buf b = assemble(valid, rr);

        expect_bad(b.data, b.len, want, "%s", what);
        buf_done(&b);
}

static void test_record_lengths(const Buf *valid, const Records *rr) {
        static const uint32_t lens[] = { 0, 1, 15, 16, 19, 0xffffffff, 0x80000000 };

        for (size_t i = 0; i < rr->n; i += rr->n / 4) {
                uint32_t own = ((struct nlmsghdr *) rr->items[i].data)->nlmsg_len;

                for (size_t k = 0; k <= ELEMENTSOF(lens) + 2; k++) {
                        Records copy = records_copy(rr);
                        uint32_t len = k < ELEMENTSOF(lens) ? lens[k] : k == ELEMENTSOF(lens) ? own - 1 :
                                       k == ELEMENTSOF(lens) + 1 ? own + 4 : own - 4;
                        char what[64];

                        ((struct nlmsghdr *) copy.items[i].data)->nlmsg_len = len;
                        snprintf(what, sizeof(what), "record %zu with nlmsg_len %u", i + 1, len);
                        expect_bad_records(valid, &copy, "record", what);
                        records_done(&copy);
                }
        }
}

static void test_message_types(const Buf *valid, const Records *rr) {
        static const uint16_t types[] = {
                NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN,
                NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE,
                NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETRULE,
                NFNL_SUBSYS_NFTABLES << 8 | 0xff,
                NFNL_SUBSYS_IPSET << 8 | NFT_MSG_NEWTABLE,
                NLMSG_ERROR,
                0,
        };

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                Records copy = records_copy(rr);
                char what[64];

                ((struct nlmsghdr *) copy.items[0].data)->nlmsg_type = types[i];
                snprintf(what, sizeof(what), "first record of message type 0x%x", types[i]);
                expect_bad_records(valid, &copy, "record 1", what);
                records_done(&copy);
        }
        for (uint8_t family = 0; family < 16; family++) {
                Records copy;
                struct nfgenmsg *nfg;
                char what[64];

                if (family_name(family))
                        continue;
                copy = records_copy(rr);
                nfg = mnl_nlmsg_get_payload((struct nlmsghdr *) copy.items[0].data);
                nfg->nfgen_family = family;
                snprintf(what, sizeof(what), "table of family %u", family);
                expect_bad_records(valid, &copy, "record 1", what);
                records_done(&copy);
        }
}

/* Move record @from to position @to. */
static void records_move(Records *rr, size_t from, size_t to) {
        Record r = rr->items[from];

        if (from < to)
                memmove(&rr->items[from], &rr->items[from + 1], (to - from) * sizeof(r));
        else
                memmove(&rr->items[to + 1], &rr->items[to], (from - to) * sizeof(r));
        rr->items[to] = r;
}

static void test_order_and_references(const Buf *valid, const Records *rr) {
        static const struct {
                uint16_t type;
                const char *what;
        } dups[] = {
                { NFT_MSG_NEWTABLE, "duplicate table" },
                { NFT_MSG_NEWCHAIN, "duplicate chain" },
                { NFT_MSG_NEWSET, "duplicate set" },
                { NFT_MSG_NEWOBJ, "duplicate object" },
        };
        static const struct {
                uint16_t type;
                const char *what;
        } firsts[] = {
                { NFT_MSG_NEWCHAIN, "chain before its table" },
                { NFT_MSG_NEWOBJ, "object before its table" },
                { NFT_MSG_NEWSET, "set before its table" },
                { NFT_MSG_NEWSETELEM, "elements before their set" },
                { NFT_MSG_NEWRULE, "rule before its chain" },
        };
        struct nftnl_rule *r = nftnl_rule_alloc();
        struct nftnl_set *s = nftnl_set_alloc();
        struct nlmsghdr *nlh;
        Records copy;

        for (size_t i = 0; i < ELEMENTSOF(dups); i++) {
                copy = records_copy(rr);
                size_t at = find_record(&copy, dups[i].type);
                records_push(&copy, copy.items[at].data, copy.items[at].len);
                expect_bad_records(valid, &copy, "invalid", dups[i].what);
                records_done(&copy);
        }
        for (size_t i = 0; i < ELEMENTSOF(firsts); i++) {
                copy = records_copy(rr);
                records_move(&copy, find_record(&copy, firsts[i].type), 0);
                expect_bad_records(valid, &copy, "record 1", firsts[i].what);
                records_done(&copy);
        }

        nlh = begin(NFT_MSG_NEWRULE);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "nosuchchain");
        nftnl_rule_add_expr(r, expr("counter"));
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        copy = records_copy(rr);
        records_push(&copy, nlh, nlh->nlmsg_len);
        expect_bad_records(valid, &copy, "invalid rule", "rule for a missing chain");
        records_done(&copy);

        nlh = begin(NFT_MSG_NEWSETELEM);
        nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
        nftnl_set_set_str(s, NFTNL_SET_NAME, "nosuchset");
        nftnl_set_elem_add(s, elem_key("\x0a\0\0\x01", 4));
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        nftnl_set_free(s);
        copy = records_copy(rr);
        records_push(&copy, nlh, nlh->nlmsg_len);
        expect_bad_records(valid, &copy, "invalid set elements", "elements for a missing set");
        records_done(&copy);
}

static void test_record_count(const Buf *valid, const Records *rr) {
        Buf b = assemble(valid, rr);

        put32(b.data + OFF_RECORDS, (uint32_t) rr->n + 1);
        fix_header_crc(b.data);
        expect_bad(b.data, b.len, "the header says", "one record fewer than the header's count");
        put32(b.data + OFF_RECORDS, (uint32_t) rr->n - 1);
        fix_header_crc(b.data);
        expect_bad(b.data, b.len, "more records", "one record more than the header's count");
        buf_done(&b);
}

/* ------------------------------------------------------------------ the file as a whole */

static void test_truncation(const Buf *valid) {
        for (size_t len = 0; len < valid->len; len++)
                expect_bad(valid->data, len, NULL, "the file cut to %zu bytes", len);
}

static void test_bit_flips(const Buf *valid) {
        uint8_t *b = malloc(valid->len);

        CHECK(b);
        memcpy(b, valid->data, valid->len);
        for (size_t i = 0; i < valid->len * 8; i++) {
                b[i / 8] ^= (uint8_t) (1u << (i % 8));
                expect_bad(b, valid->len, NULL, "bit %zu flipped", i);
                b[i / 8] ^= (uint8_t) (1u << (i % 8));
        }
        free(b);
}

static void test_header_fields(const Buf *valid) {
        static const struct {
                size_t off;
                uint32_t value;
                const char *want;
        } fields[] = {
                { OFF_VERSION, 0, "version 0" },
                { OFF_VERSION, 2, "version 2" },
                { OFF_VERSION, 0xffffffff, "version 4294967295" },
                { 12, 64, "header size" },
                { 16, 0x2, "flags" },
                { 16, __BYTE_ORDER == __LITTLE_ENDIAN ? 1 : 0, "byte order" },
        };
        uint8_t *b = malloc(valid->len);

        CHECK(b);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                memcpy(b, valid->data, valid->len);
                put32(b + fields[i].off, fields[i].value);
                fix_header_crc(b);
                expect_bad(b, valid->len, fields[i].want, "header field at %zu set to %u", fields[i].off, fields[i].value);
        }

        memcpy(b, valid->data, valid->len);
        memcpy(b, "FWGSNAQ", 7);
        expect_bad(b, valid->len, "wrong magic", "wrong magic");
        memcpy(b, "# nft list ruleset\n", 19);
        expect_bad(b, valid->len, "wrong magic", "nft text");

        /* Sizes far past the file: refused from the header alone. */
        static const uint64_t sizes[] = { SNAPSHOT_MAX_PAYLOAD + 1, UINT64_MAX, 1ULL << 40 };
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                memcpy(b, valid->data, valid->len);
                put64(b + OFF_PAYLOAD_SIZE, sizes[i]);
                fix_header_crc(b);
                expect_bad(b, valid->len, "exceeds the limit", "payload size %llu", (unsigned long long) sizes[i]);
        }
        memcpy(b, valid->data, valid->len);
        put64(b + OFF_PAYLOAD_SIZE, SNAPSHOT_MAX_PAYLOAD);
        fix_header_crc(b);
        expect_bad(b, valid->len, "truncated", "payload size at the limit, file small");
        free(b);
}

/* A header that claims the largest payload allowed, then EOF: snapshot_read()
 * must stop at what it read. In a child whose address space cannot hold the
 * claim, so that allocating it would show as -ENOMEM. */
static void test_huge_claim_from_pipe(const Buf *valid) {
        uint8_t h[HEADER_SIZE];
        int fds[2], status;
        pid_t pid;

        memcpy(h, valid->data, HEADER_SIZE);
        put64(h + OFF_PAYLOAD_SIZE, SNAPSHOT_MAX_PAYLOAD);
        fix_header_crc(h);
        CHECK(pipe2(fds, O_CLOEXEC) == 0);
        CHECK(write(fds[1], h, sizeof(h)) == (ssize_t) sizeof(h));
        CHECK(write(fds[1], valid->data + HEADER_SIZE, 100) == 100);
        close(fds[1]);

        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
                unsigned long long vm_kib = 0;
                char line[256], err[256] = "";
                Ruleset *rs = NULL;
                int r;

                while (f && fgets(line, sizeof(line), f))
                        if (sscanf(line, "VmSize: %llu kB", &vm_kib) == 1)
                                break;
                struct rlimit rl = { .rlim_cur = vm_kib * 1024 + 256 * 1024 * 1024ULL, .rlim_max = RLIM_INFINITY };
                if (vm_kib == 0 || setrlimit(RLIMIT_AS, &rl) < 0)
                        _exit(2);
                r = snapshot_read(fds[0], &rs, NULL, err, sizeof(err));
                if (r != -EBADMSG || !strstr(err, "truncated")) {
                        fprintf(stderr, "FAIL: a 1 GiB claim from a pipe: %d (%s) \"%s\"\n", r, strerror(-r), err);
                        _exit(1);
                }
                _exit(0);
        }
        close(fds[0]);
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        n_cases++;
}

/* ------------------------------------------------------------------ */

static void test_valid(const Buf *valid) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        SnapshotInfo info = {};
        char err[256] = "";
        Buf again;

        CHECK(snapshot_parse(valid->data, valid->len, &rs, &info, err, sizeof(err)) == 0);
        CHECK(info.created_usec == CREATED_USEC);
        CHECK(rs->tables.n == 1);
        RsTable *t = ruleset_table(rs, 0);
        CHECK(t->chains.n == 3 && t->objs.n == 10 && t->sets.n == 4 && t->rules.n == 2);
        again = write_snapshot(rs);
        if (again.len != valid->len || memcmp(again.data, valid->data, valid->len) != 0)
                die("the snapshot does not write back to the same bytes (%zu, then %zu bytes)", valid->len, again.len);
        buf_done(&again);
}

int main(void) {
        _cleanup_(ruleset_freep) Ruleset *model = NULL;
        Records rr;
        Buf valid;

        atexit(on_exit_report);
        model = build_model();
        valid = write_snapshot(model);
        rr = split(&valid);
        printf("valid snapshot: %zu bytes, %zu records\n", valid.len, rr.n);

        test_valid(&valid);
        test_truncation(&valid);
        test_bit_flips(&valid);
        test_header_fields(&valid);
        test_huge_claim_from_pipe(&valid);
        test_record_lengths(&valid, &rr);
        test_message_types(&valid, &rr);
        test_order_and_references(&valid, &rr);
        test_record_count(&valid, &rr);
        test_attribute_mutations(&valid, &rr);

        printf("%u damaged snapshots refused\n", n_cases);
        records_done(&rr);
        buf_done(&valid);
        return EXIT_SUCCESS;
}

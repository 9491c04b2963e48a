/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nlschema.c — the nf_tables message schema that libnftnl's parsers rely on
 *
 * libnftnl is written for messages from the kernel, which it trusts. Given an
 * attribute of the wrong length it does not fail, it calls exit() ("nf_tables
 * kernel ABI is broken"); it strdup()s strings that it only checked to be
 * non-empty, so an unterminated one is read past its end; a verdict without a
 * code, an expression without a name or a set element with an attribute type
 * between its own and the set's maximum make it read uninitialised or write
 * past its own arrays. Snapshot files are not from the kernel, so every
 * message is checked here before libnftnl sees it.
 *
 * The schema is data: for each context (a message type, a nest, an
 * expression's or an object's data) a table from attribute type to a policy.
 * Types a table does not list are ignored by libnftnl and so are allowed: a
 * newer kernel may send them. On top of what libnftnl checks, the policies
 * hold everything libnftnl reads unchecked (the object type, element object
 * references, device lists), and attributes must tile their parent exactly,
 * at most once per type, as both the kernel and libmnl write them.
 *
 * The same walk, given an output buffer, copies a message into the form it
 * accepts: the snapshot writer uses it because libnftnl's own builders send
 * some strings without their terminating NUL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>

#include <libmnl/libmnl.h>

#include "macro.h"
#include "nlschema.h"

/* What the kernel sends nests 4 deep at most (a verdict in an immediate in
 * a rule, an expression in a dynset); the bound keeps libnftnl's recursion
 * finite. */
#define MAX_DEPTH 12
/* Longer than the longest table, the set's. */
#define MAX_ATTRS 24
/* Sizes libnftnl 1.2.4 compiled in from its own copy of nf_tables.h: they
 * are arrays in its structures, and a longer string makes it exit. */
#define NFTNL_CT_HELPER_NAME_MAX 15
#define NFTNL_SECMARK_CTX_MAX 255

typedef enum Kind {
        KIND_IGNORED,   /* libnftnl never reads it */
        KIND_REFUSED,   /* libnftnl would write past its own table */
        KIND_BYTES,     /* min..max bytes */
        KIND_STRING,    /* NUL-terminated, min..max bytes with the NUL */
        KIND_NEST,      /* attributes per ->nest */
        KIND_LIST,      /* entries per ->list */
        KIND_SELECTED,  /* attributes per the table its nest's select() picks */
} Kind;

typedef struct Nest Nest;
typedef struct List List;

typedef struct Policy {
        Kind kind;
        uint16_t min, max;
        const Nest *nest;
        const List *list;
} Policy;

struct Nest {
        const Policy *attrs;    /* by attribute type */
        size_t n_attrs;
        Policy other;           /* for types past attrs[] */
        /* The table for KIND_SELECTED attributes, from their siblings; NULL to refuse. */
        const Nest *(*select)(const struct nlattr *const *tb);
        /* Constraints between attributes; false to refuse. */
        bool (*check)(const struct nlattr *const *tb);
};

struct List {
        uint16_t type;          /* every entry's type; 0 for any */
        uint16_t max;           /* most entries; 0 for no limit */
        Policy entry;
};

#define U8              { KIND_BYTES, 1, 1 }
#define U16             { KIND_BYTES, 2, 2 }
#define U32             { KIND_BYTES, 4, 4 }
#define U64             { KIND_BYTES, 8, 8 }
#define BINARY          { KIND_BYTES, 0, UINT16_MAX }
#define STRING          { KIND_STRING, 1, UINT16_MAX }
#define STRING_MAX(n)   { KIND_STRING, 1, (n) }
#define NEST(n)         { KIND_NEST, .nest = &(n) }
#define LIST(l)         { KIND_LIST, .list = &(l) }
#define SELECTED        { KIND_SELECTED }
#define REFUSED         { KIND_REFUSED }

/* A nest from a policy table, checked at compile time to fit the walker's tb[]. */
#define N_ATTRS(a) (ELEMENTSOF(a) + 0 * sizeof(struct { \
        _Static_assert(ELEMENTSOF(a) <= MAX_ATTRS, "raise MAX_ATTRS"); char c; }))
#define NEST_OF(a, ...) { .attrs = (a), .n_attrs = N_ATTRS(a), __VA_ARGS__ }

static const Nest expr_nest;

/* ------------------------------------------------------------------ data and verdicts */

/* Verdict codes libnftnl knows; for any other it fails after allocating. */
static bool verdict_check(const struct nlattr *const *tb) {
        if (!tb[NFTA_VERDICT_CODE])
                return false;   /* libnftnl reads its uninitialised table */
        switch ((int32_t) ntohl(mnl_attr_get_u32(tb[NFTA_VERDICT_CODE]))) {
        case NF_ACCEPT:
        case NF_DROP:
        case NF_QUEUE:
        case NFT_CONTINUE:
        case NFT_BREAK:
        case NFT_RETURN:
                return true;
        case NFT_JUMP:
        case NFT_GOTO:
                return tb[NFTA_VERDICT_CHAIN] != NULL;
        default:
                return false;
        }
}

static const Policy verdict_attrs[] = {
        [NFTA_VERDICT_CODE] = U32,
        [NFTA_VERDICT_CHAIN] = STRING,
        [NFTA_VERDICT_CHAIN_ID] = U32,
};
static const Nest verdict_nest = NEST_OF(verdict_attrs, .check = verdict_check);

/* Immediates and element data leave their type unset unless one is there. */
static bool data_check(const struct nlattr *const *tb) {
        return !tb[NFTA_DATA_VALUE] != !tb[NFTA_DATA_VERDICT];
}

static const Policy data_attrs[] = {
        [NFTA_DATA_VALUE] = { KIND_BYTES, 1, NFT_DATA_VALUE_MAXLEN },
        [NFTA_DATA_VERDICT] = NEST(verdict_nest),
};
static const Nest data_nest = NEST_OF(data_attrs, .check = data_check);

/* Keys and comparison operands: a verdict there would leak its chain name. */
static bool value_check(const struct nlattr *const *tb) {
        return tb[NFTA_DATA_VALUE] != NULL;
}

static const Policy value_attrs[] = {
        [NFTA_DATA_VALUE] = { KIND_BYTES, 1, NFT_DATA_VALUE_MAXLEN },
        [NFTA_DATA_VERDICT] = REFUSED,
};
static const Nest value_nest = NEST_OF(value_attrs, .check = value_check);

static const List expr_list = { NFTA_LIST_ELEM, 0, NEST(expr_nest) };
static const List device_list = { NFTA_DEVICE_NAME, 0, STRING };

/* ------------------------------------------------------------------ expressions */

static const Policy bitwise_attrs[] = {
        [NFTA_BITWISE_SREG] = U32,
        [NFTA_BITWISE_DREG] = U32,
        [NFTA_BITWISE_LEN] = U32,
        [NFTA_BITWISE_MASK] = NEST(value_nest),
        [NFTA_BITWISE_XOR] = NEST(value_nest),
        [NFTA_BITWISE_OP] = U32,
        [NFTA_BITWISE_DATA] = NEST(value_nest),
};

static const Policy byteorder_attrs[] = {
        [NFTA_BYTEORDER_SREG] = U32,
        [NFTA_BYTEORDER_DREG] = U32,
        [NFTA_BYTEORDER_OP] = U32,
        [NFTA_BYTEORDER_LEN] = U32,
        [NFTA_BYTEORDER_SIZE] = U32,
};

static const Policy cmp_attrs[] = {
        [NFTA_CMP_SREG] = U32,
        [NFTA_CMP_OP] = U32,
        [NFTA_CMP_DATA] = NEST(value_nest),
};

static const Policy connlimit_attrs[] = {
        [NFTA_CONNLIMIT_COUNT] = U32,
        [NFTA_CONNLIMIT_FLAGS] = U32,
};

static const Policy counter_attrs[] = {
        [NFTA_COUNTER_BYTES] = U64,
        [NFTA_COUNTER_PACKETS] = U64,
};

static const Policy ct_attrs[] = {
        [NFTA_CT_DREG] = U32,
        [NFTA_CT_KEY] = U32,
        [NFTA_CT_DIRECTION] = U8,
        [NFTA_CT_SREG] = U32,
};

static const Policy dup_attrs[] = {
        [NFTA_DUP_SREG_ADDR] = U32,
        [NFTA_DUP_SREG_DEV] = U32,
};

static const Policy dynset_attrs[] = {
        [NFTA_DYNSET_SET_NAME] = STRING,
        [NFTA_DYNSET_SET_ID] = U32,
        [NFTA_DYNSET_OP] = U32,
        [NFTA_DYNSET_SREG_KEY] = U32,
        [NFTA_DYNSET_SREG_DATA] = U32,
        [NFTA_DYNSET_TIMEOUT] = U64,
        [NFTA_DYNSET_EXPR] = NEST(expr_nest),
        [NFTA_DYNSET_FLAGS] = U32,
        [NFTA_DYNSET_EXPRESSIONS] = LIST(expr_list),
};

static const Policy exthdr_attrs[] = {
        [NFTA_EXTHDR_DREG] = U32,
        [NFTA_EXTHDR_TYPE] = U8,
        [NFTA_EXTHDR_OFFSET] = U32,
        [NFTA_EXTHDR_LEN] = U32,
        [NFTA_EXTHDR_FLAGS] = U32,
        [NFTA_EXTHDR_OP] = U32,
        [NFTA_EXTHDR_SREG] = U32,
};

static const Policy fib_attrs[] = {
        [NFTA_FIB_DREG] = U32,
        [NFTA_FIB_RESULT] = U32,
        [NFTA_FIB_FLAGS] = U32,
};

static const Policy flow_offload_attrs[] = {
        [NFTA_FLOW_TABLE_NAME] = STRING,
};

static const Policy fwd_attrs[] = {
        [NFTA_FWD_SREG_DEV] = U32,
        [NFTA_FWD_SREG_ADDR] = U32,
        [NFTA_FWD_NFPROTO] = U32,
};

static const Policy hash_attrs[] = {
        [NFTA_HASH_SREG] = U32,
        [NFTA_HASH_DREG] = U32,
        [NFTA_HASH_LEN] = U32,
        [NFTA_HASH_MODULUS] = U32,
        [NFTA_HASH_SEED] = U32,
        [NFTA_HASH_OFFSET] = U32,
        [NFTA_HASH_TYPE] = U32,
};

static const Policy immediate_attrs[] = {
        [NFTA_IMMEDIATE_DREG] = U32,
        [NFTA_IMMEDIATE_DATA] = NEST(data_nest),
};

static const Policy last_attrs[] = {
        [NFTA_LAST_SET] = U32,
        [NFTA_LAST_MSECS] = U64,
};

static const Policy limit_attrs[] = {
        [NFTA_LIMIT_RATE] = U64,
        [NFTA_LIMIT_UNIT] = U64,
        [NFTA_LIMIT_BURST] = U32,
        [NFTA_LIMIT_TYPE] = U32,
        [NFTA_LIMIT_FLAGS] = U32,
};

static const Policy log_attrs[] = {
        [NFTA_LOG_GROUP] = U16,
        [NFTA_LOG_PREFIX] = STRING,
        [NFTA_LOG_SNAPLEN] = U32,
        [NFTA_LOG_QTHRESHOLD] = U16,
        [NFTA_LOG_LEVEL] = U32,
        [NFTA_LOG_FLAGS] = U32,
};

static const Policy lookup_attrs[] = {
        [NFTA_LOOKUP_SET] = STRING,
        [NFTA_LOOKUP_SREG] = U32,
        [NFTA_LOOKUP_DREG] = U32,
        [NFTA_LOOKUP_SET_ID] = U32,
        [NFTA_LOOKUP_FLAGS] = U32,
};

static const Policy masq_attrs[] = {
        [NFTA_MASQ_FLAGS] = U32,
        [NFTA_MASQ_REG_PROTO_MIN] = U32,
        [NFTA_MASQ_REG_PROTO_MAX] = U32,
};

static const Policy match_attrs[] = {
        [NFTA_MATCH_NAME] = STRING,
        [NFTA_MATCH_REV] = U32,
        [NFTA_MATCH_INFO] = BINARY,
};

static const Policy meta_attrs[] = {
        [NFTA_META_DREG] = U32,
        [NFTA_META_KEY] = U32,
        [NFTA_META_SREG] = U32,
};

static const Policy nat_attrs[] = {
        [NFTA_NAT_TYPE] = U32,
        [NFTA_NAT_FAMILY] = U32,
        [NFTA_NAT_REG_ADDR_MIN] = U32,
        [NFTA_NAT_REG_ADDR_MAX] = U32,
        [NFTA_NAT_REG_PROTO_MIN] = U32,
        [NFTA_NAT_REG_PROTO_MAX] = U32,
        [NFTA_NAT_FLAGS] = U32,
};

static const Policy numgen_attrs[] = {
        [NFTA_NG_DREG] = U32,
        [NFTA_NG_MODULUS] = U32,
        [NFTA_NG_TYPE] = U32,
        [NFTA_NG_OFFSET] = U32,
};

static const Policy objref_attrs[] = {
        [NFTA_OBJREF_IMM_TYPE] = U32,
        [NFTA_OBJREF_IMM_NAME] = STRING,
        [NFTA_OBJREF_SET_SREG] = U32,
        [NFTA_OBJREF_SET_NAME] = STRING,
        [NFTA_OBJREF_SET_ID] = U32,
};

static const Policy osf_attrs[] = {
        [NFTA_OSF_DREG] = U32,
        [NFTA_OSF_TTL] = U8,
        [NFTA_OSF_FLAGS] = U32,
};

static const Policy payload_attrs[] = {
        [NFTA_PAYLOAD_DREG] = U32,
        [NFTA_PAYLOAD_BASE] = U32,
        [NFTA_PAYLOAD_OFFSET] = U32,
        [NFTA_PAYLOAD_LEN] = U32,
        [NFTA_PAYLOAD_SREG] = U32,
        [NFTA_PAYLOAD_CSUM_TYPE] = U32,
        [NFTA_PAYLOAD_CSUM_OFFSET] = U32,
        [NFTA_PAYLOAD_CSUM_FLAGS] = U32,
};

static const Policy queue_attrs[] = {
        [NFTA_QUEUE_NUM] = U16,
        [NFTA_QUEUE_TOTAL] = U16,
        [NFTA_QUEUE_FLAGS] = U16,
        [NFTA_QUEUE_SREG_QNUM] = U32,
};

static const Policy quota_attrs[] = {
        [NFTA_QUOTA_BYTES] = U64,
        [NFTA_QUOTA_FLAGS] = U32,
        [NFTA_QUOTA_CONSUMED] = U64,
};

static const Policy range_attrs[] = {
        [NFTA_RANGE_SREG] = U32,
        [NFTA_RANGE_OP] = U32,
        [NFTA_RANGE_FROM_DATA] = NEST(value_nest),
        [NFTA_RANGE_TO_DATA] = NEST(value_nest),
};

static const Policy redir_attrs[] = {
        [NFTA_REDIR_REG_PROTO_MIN] = U32,
        [NFTA_REDIR_REG_PROTO_MAX] = U32,
        [NFTA_REDIR_FLAGS] = U32,
};

static const Policy reject_attrs[] = {
        [NFTA_REJECT_TYPE] = U32,
        [NFTA_REJECT_ICMP_CODE] = U8,
};

static const Policy rt_attrs[] = {
        [NFTA_RT_DREG] = U32,
        [NFTA_RT_KEY] = U32,
};

static const Policy socket_attrs[] = {
        [NFTA_SOCKET_KEY] = U32,
        [NFTA_SOCKET_DREG] = U32,
        [NFTA_SOCKET_LEVEL] = U32,
};

static const Policy synproxy_attrs[] = {
        [NFTA_SYNPROXY_MSS] = U16,
        [NFTA_SYNPROXY_WSCALE] = U8,
        [NFTA_SYNPROXY_FLAGS] = U32,
};

static const Policy target_attrs[] = {
        [NFTA_TARGET_NAME] = STRING,
        [NFTA_TARGET_REV] = U32,
        [NFTA_TARGET_INFO] = BINARY,
};

static const Policy tproxy_attrs[] = {
        [NFTA_TPROXY_FAMILY] = U32,
        [NFTA_TPROXY_REG_ADDR] = U32,
        [NFTA_TPROXY_REG_PORT] = U32,
};

static const Policy tunnel_attrs[] = {
        [NFTA_TUNNEL_KEY] = U32,
        [NFTA_TUNNEL_DREG] = U32,
};

static const Policy xfrm_attrs[] = {
        [NFTA_XFRM_DREG] = U32,
        [NFTA_XFRM_KEY] = U32,
        [NFTA_XFRM_DIR] = U8,
        [NFTA_XFRM_SPNUM] = U32,
};

/* Every expression libnftnl 1.2.4 knows, by the name it looks up. */
static const struct {
        const char *name;
        Nest data;
} expressions[] = {
        { "bitwise", NEST_OF(bitwise_attrs) },
        { "byteorder", NEST_OF(byteorder_attrs) },
        { "cmp", NEST_OF(cmp_attrs) },
        { "connlimit", NEST_OF(connlimit_attrs) },
        { "counter", NEST_OF(counter_attrs) },
        { "ct", NEST_OF(ct_attrs) },
        { "dup", NEST_OF(dup_attrs) },
        { "dynset", NEST_OF(dynset_attrs) },
        { "exthdr", NEST_OF(exthdr_attrs) },
        { "fib", NEST_OF(fib_attrs) },
        { "flow_offload", NEST_OF(flow_offload_attrs) },
        { "fwd", NEST_OF(fwd_attrs) },
        { "hash", NEST_OF(hash_attrs) },
        { "immediate", NEST_OF(immediate_attrs) },
        { "last", NEST_OF(last_attrs) },
        { "limit", NEST_OF(limit_attrs) },
        { "log", NEST_OF(log_attrs) },
        { "lookup", NEST_OF(lookup_attrs) },
        { "masq", NEST_OF(masq_attrs) },
        { "match", NEST_OF(match_attrs) },
        { "meta", NEST_OF(meta_attrs) },
        { "nat", NEST_OF(nat_attrs) },
        { "notrack", {} },
        { "numgen", NEST_OF(numgen_attrs) },
        { "objref", NEST_OF(objref_attrs) },
        { "osf", NEST_OF(osf_attrs) },
        { "payload", NEST_OF(payload_attrs) },
        { "queue", NEST_OF(queue_attrs) },
        { "quota", NEST_OF(quota_attrs) },
        { "range", NEST_OF(range_attrs) },
        { "redir", NEST_OF(redir_attrs) },
        { "reject", NEST_OF(reject_attrs) },
        { "rt", NEST_OF(rt_attrs) },
        { "socket", NEST_OF(socket_attrs) },
        { "synproxy", NEST_OF(synproxy_attrs) },
        { "target", NEST_OF(target_attrs) },
        { "tproxy", NEST_OF(tproxy_attrs) },
        { "tunnel", NEST_OF(tunnel_attrs) },
        { "xfrm", NEST_OF(xfrm_attrs) },
};

static const char *attr_string(const struct nlattr *a) {
        uint16_t len = a ? mnl_attr_get_payload_len(a) : 0;
        const char *s = a ? mnl_attr_get_payload(a) : NULL;

        return len > 0 && s[len - 1] == '\0' ? s : NULL;
}

/* libnftnl dereferences a missing name, and fails on an unknown one only
 * after it allocated: both are refused. */
static const Nest *expr_select(const struct nlattr *const *tb) {
        const char *name = attr_string(tb[NFTA_EXPR_NAME]);

        for (size_t i = 0; name && i < ELEMENTSOF(expressions); i++)
                if (streq(expressions[i].name, name))
                        return &expressions[i].data;
        return NULL;
}

static const Policy expr_attrs[] = {
        [NFTA_EXPR_NAME] = STRING,
        [NFTA_EXPR_DATA] = SELECTED,
};
static const Nest expr_nest = NEST_OF(expr_attrs, .select = expr_select);

/* ------------------------------------------------------------------ objects */

static const Policy obj_quota_attrs[] = {
        [NFTA_QUOTA_BYTES] = U64,
        [NFTA_QUOTA_FLAGS] = U32,
        [NFTA_QUOTA_CONSUMED] = U64,
};

static const Policy obj_ct_helper_attrs[] = {
        [NFTA_CT_HELPER_NAME] = STRING_MAX(NFTNL_CT_HELPER_NAME_MAX),
        [NFTA_CT_HELPER_L3PROTO] = U16,
        [NFTA_CT_HELPER_L4PROTO] = U8,
};

/* libnftnl files these into a table of ip attributes (three entries) but
 * accepts types up to the tunnel key's maximum: anything more is refused. */
static const Policy tunnel_ip_attrs[] = {
        [NFTA_TUNNEL_KEY_IP_SRC] = U32,
        [NFTA_TUNNEL_KEY_IP_DST] = U32,
};
static const Nest tunnel_ip_nest = NEST_OF(tunnel_ip_attrs, .other = REFUSED);

static const Policy tunnel_ip6_attrs[] = {
        [NFTA_TUNNEL_KEY_IP6_SRC] = { KIND_BYTES, 16, 16 },
        [NFTA_TUNNEL_KEY_IP6_DST] = { KIND_BYTES, 16, 16 },
        [NFTA_TUNNEL_KEY_IP6_FLOWLABEL] = U32,
};
static const Nest tunnel_ip6_nest = NEST_OF(tunnel_ip6_attrs, .other = REFUSED);

static const Policy tunnel_vxlan_attrs[] = {
        [NFTA_TUNNEL_KEY_VXLAN_GBP] = U32,
};
static const Nest tunnel_vxlan_nest = NEST_OF(tunnel_vxlan_attrs);

static const Policy tunnel_erspan_attrs[] = {
        [NFTA_TUNNEL_KEY_ERSPAN_VERSION] = U32,
        [NFTA_TUNNEL_KEY_ERSPAN_V1_INDEX] = U32,
        [NFTA_TUNNEL_KEY_ERSPAN_V2_HWID] = U8,
        [NFTA_TUNNEL_KEY_ERSPAN_V2_DIR] = U8,
};
static const Nest tunnel_erspan_nest = NEST_OF(tunnel_erspan_attrs);

/* libnftnl 1.2.4 builds VXLAN options without their nest (the GBP straight
 * under the options), which the kernel refuses: so does this. */
static const Policy tunnel_opts_attrs[] = {
        [NFTA_TUNNEL_KEY_OPTS_VXLAN] = NEST(tunnel_vxlan_nest),
        [NFTA_TUNNEL_KEY_OPTS_ERSPAN] = NEST(tunnel_erspan_nest),
};
static const Nest tunnel_opts_nest = NEST_OF(tunnel_opts_attrs);

static const Policy obj_tunnel_attrs[] = {
        [NFTA_TUNNEL_KEY_ID] = U32,
        [NFTA_TUNNEL_KEY_IP] = NEST(tunnel_ip_nest),
        [NFTA_TUNNEL_KEY_IP6] = NEST(tunnel_ip6_nest),
        [NFTA_TUNNEL_KEY_FLAGS] = U32,
        [NFTA_TUNNEL_KEY_TOS] = U8,
        [NFTA_TUNNEL_KEY_TTL] = U8,
        [NFTA_TUNNEL_KEY_SPORT] = U16,
        [NFTA_TUNNEL_KEY_DPORT] = U16,
        [NFTA_TUNNEL_KEY_OPTS] = NEST(tunnel_opts_nest),
};

/* Per-state timeouts: libnftnl reads the first few as u32 (how many depends
 * on the protocol), and the kernel sends nothing else. */
static const Nest ct_timeout_data_nest = { .other = U32 };

static const Policy obj_ct_timeout_attrs[] = {
        [NFTA_CT_TIMEOUT_L3PROTO] = U16,
        [NFTA_CT_TIMEOUT_L4PROTO] = U8,
        [NFTA_CT_TIMEOUT_DATA] = NEST(ct_timeout_data_nest),
};

static const Policy obj_secmark_attrs[] = {
        [NFTA_SECMARK_CTX] = STRING_MAX(NFTNL_SECMARK_CTX_MAX),
};

static const Policy obj_ct_expect_attrs[] = {
        [NFTA_CT_EXPECT_L3PROTO] = U16,
        [NFTA_CT_EXPECT_L4PROTO] = U8,
        [NFTA_CT_EXPECT_DPORT] = U16,
        [NFTA_CT_EXPECT_TIMEOUT] = U32,
        [NFTA_CT_EXPECT_SIZE] = U8,
};

/* Every object type libnftnl 1.2.4 knows (it has no connlimit objects). */
static const Nest objects[] = {
        [NFT_OBJECT_COUNTER] = NEST_OF(counter_attrs),
        [NFT_OBJECT_QUOTA] = NEST_OF(obj_quota_attrs),
        [NFT_OBJECT_CT_HELPER] = NEST_OF(obj_ct_helper_attrs),
        [NFT_OBJECT_LIMIT] = NEST_OF(limit_attrs),
        [NFT_OBJECT_TUNNEL] = NEST_OF(obj_tunnel_attrs),
        [NFT_OBJECT_CT_TIMEOUT] = NEST_OF(obj_ct_timeout_attrs),
        [NFT_OBJECT_SECMARK] = NEST_OF(obj_secmark_attrs),
        [NFT_OBJECT_CT_EXPECT] = NEST_OF(obj_ct_expect_attrs),
        [NFT_OBJECT_SYNPROXY] = NEST_OF(synproxy_attrs),
};

/* libnftnl ignores the data of a type it does not know, and the model
 * cannot hold such an object: refused, like unknown expressions. */
static const Nest *obj_select(const struct nlattr *const *tb) {
        uint32_t type;

        if (!tb[NFTA_OBJ_TYPE] || mnl_attr_get_payload_len(tb[NFTA_OBJ_TYPE]) != sizeof(uint32_t))
                return NULL;
        type = ntohl(mnl_attr_get_u32(tb[NFTA_OBJ_TYPE]));
        return type < ELEMENTSOF(objects) && objects[type].attrs ? &objects[type] : NULL;
}

/* ------------------------------------------------------------------ messages */

static const Policy table_attrs[] = {
        [NFTA_TABLE_NAME] = STRING,
        [NFTA_TABLE_FLAGS] = U32,
        [NFTA_TABLE_USE] = U32,
        [NFTA_TABLE_HANDLE] = U64,
        [NFTA_TABLE_USERDATA] = BINARY,
        [NFTA_TABLE_OWNER] = U32,
};

static const Policy hook_attrs[] = {
        [NFTA_HOOK_HOOKNUM] = U32,
        [NFTA_HOOK_PRIORITY] = U32,
        [NFTA_HOOK_DEV] = STRING,
        [NFTA_HOOK_DEVS] = LIST(device_list),
};
static const Nest hook_nest = NEST_OF(hook_attrs);
static const Nest counters_nest = NEST_OF(counter_attrs);

static const Policy chain_attrs[] = {
        [NFTA_CHAIN_TABLE] = STRING,
        [NFTA_CHAIN_HANDLE] = U64,
        [NFTA_CHAIN_NAME] = STRING,
        [NFTA_CHAIN_HOOK] = NEST(hook_nest),
        [NFTA_CHAIN_POLICY] = U32,
        [NFTA_CHAIN_USE] = U32,
        [NFTA_CHAIN_TYPE] = STRING,
        [NFTA_CHAIN_COUNTERS] = NEST(counters_nest),
        [NFTA_CHAIN_FLAGS] = U32,
        [NFTA_CHAIN_ID] = U32,
        [NFTA_CHAIN_USERDATA] = BINARY,
};

/* libnftnl builds the compat hint only from both attributes, and the kernel
 * refuses it without both: half a hint would be lost on the next save. */
static bool compat_check(const struct nlattr *const *tb) {
        return tb[NFTA_RULE_COMPAT_PROTO] && tb[NFTA_RULE_COMPAT_FLAGS];
}

static const Policy compat_attrs[] = {
        [NFTA_RULE_COMPAT_PROTO] = U32,
        [NFTA_RULE_COMPAT_FLAGS] = U32,
};
static const Nest compat_nest = NEST_OF(compat_attrs, .check = compat_check);

static const Policy rule_attrs[] = {
        [NFTA_RULE_TABLE] = STRING,
        [NFTA_RULE_CHAIN] = STRING,
        [NFTA_RULE_HANDLE] = U64,
        [NFTA_RULE_EXPRESSIONS] = LIST(expr_list),
        [NFTA_RULE_COMPAT] = NEST(compat_nest),
        [NFTA_RULE_POSITION] = U64,
        [NFTA_RULE_USERDATA] = BINARY,
        [NFTA_RULE_ID] = U32,
        [NFTA_RULE_POSITION_ID] = U32,
};

static const Policy field_attrs[] = {
        [NFTA_SET_FIELD_LEN] = U32,
};
static const Nest field_nest = NEST_OF(field_attrs);
/* libnftnl counts fields into an array of NFT_REG32_COUNT. */
static const List concat_list = { NFTA_LIST_ELEM, NFT_REG32_COUNT, NEST(field_nest) };

static const Policy desc_attrs[] = {
        [NFTA_SET_DESC_SIZE] = U32,
        [NFTA_SET_DESC_CONCAT] = LIST(concat_list),
};
static const Nest desc_nest = NEST_OF(desc_attrs);

static const Policy set_attrs[] = {
        [NFTA_SET_TABLE] = STRING,
        [NFTA_SET_NAME] = STRING,
        [NFTA_SET_FLAGS] = U32,
        [NFTA_SET_KEY_TYPE] = U32,
        [NFTA_SET_KEY_LEN] = U32,
        [NFTA_SET_DATA_TYPE] = U32,
        [NFTA_SET_DATA_LEN] = U32,
        [NFTA_SET_POLICY] = U32,
        [NFTA_SET_DESC] = NEST(desc_nest),
        [NFTA_SET_ID] = U32,
        [NFTA_SET_TIMEOUT] = U64,
        [NFTA_SET_GC_INTERVAL] = U32,
        [NFTA_SET_USERDATA] = BINARY,
        [NFTA_SET_OBJ_TYPE] = U32,
        [NFTA_SET_HANDLE] = U64,
        [NFTA_SET_EXPR] = NEST(expr_nest),
        [NFTA_SET_EXPRESSIONS] = LIST(expr_list),
};

/* libnftnl accepts element attribute types up to the set's maximum into a
 * table sized for elements: anything past the element's own is refused. */
static const Policy elem_attrs[] = {
        [NFTA_SET_ELEM_KEY] = NEST(value_nest),
        [NFTA_SET_ELEM_DATA] = NEST(data_nest),
        [NFTA_SET_ELEM_FLAGS] = U32,
        [NFTA_SET_ELEM_TIMEOUT] = U64,
        [NFTA_SET_ELEM_EXPIRATION] = U64,
        [NFTA_SET_ELEM_USERDATA] = BINARY,
        [NFTA_SET_ELEM_EXPR] = NEST(expr_nest),
        [NFTA_SET_ELEM_PAD] = {},
        [NFTA_SET_ELEM_OBJREF] = STRING,
        [NFTA_SET_ELEM_KEY_END] = NEST(value_nest),
        [NFTA_SET_ELEM_EXPRESSIONS] = LIST(expr_list),
};
static const Nest elem_nest = NEST_OF(elem_attrs, .other = REFUSED);
/* libnftnl's own builder numbers the entries 1, 2, 3...; the kernel uses
 * NFTA_LIST_ELEM. Any type is checked as an element. */
static const List elem_list = { 0, 0, NEST(elem_nest) };

static const Policy elems_attrs[] = {
        [NFTA_SET_ELEM_LIST_TABLE] = STRING,
        [NFTA_SET_ELEM_LIST_SET] = STRING,
        [NFTA_SET_ELEM_LIST_ELEMENTS] = LIST(elem_list),
        [NFTA_SET_ELEM_LIST_SET_ID] = U32,
};

static const Policy obj_attrs[] = {
        [NFTA_OBJ_TABLE] = STRING,
        [NFTA_OBJ_NAME] = STRING,
        [NFTA_OBJ_TYPE] = U32,
        [NFTA_OBJ_DATA] = SELECTED,
        [NFTA_OBJ_USE] = U32,
        [NFTA_OBJ_HANDLE] = U64,
        [NFTA_OBJ_USERDATA] = BINARY,
};

static const Policy ft_hook_attrs[] = {
        [NFTA_FLOWTABLE_HOOK_NUM] = U32,
        [NFTA_FLOWTABLE_HOOK_PRIORITY] = U32,
        [NFTA_FLOWTABLE_HOOK_DEVS] = LIST(device_list),
};
static const Nest ft_hook_nest = NEST_OF(ft_hook_attrs);

static const Policy flowtable_attrs[] = {
        [NFTA_FLOWTABLE_TABLE] = STRING,
        [NFTA_FLOWTABLE_NAME] = STRING,
        [NFTA_FLOWTABLE_HOOK] = NEST(ft_hook_nest),
        [NFTA_FLOWTABLE_USE] = U32,
        [NFTA_FLOWTABLE_HANDLE] = U64,
        [NFTA_FLOWTABLE_FLAGS] = U32,
};

static const Nest messages[] = {
        [NFT_MSG_NEWTABLE] = NEST_OF(table_attrs),
        [NFT_MSG_NEWCHAIN] = NEST_OF(chain_attrs),
        [NFT_MSG_NEWRULE] = NEST_OF(rule_attrs),
        [NFT_MSG_NEWSET] = NEST_OF(set_attrs),
        [NFT_MSG_NEWSETELEM] = NEST_OF(elems_attrs),
        [NFT_MSG_NEWOBJ] = NEST_OF(obj_attrs, .select = obj_select),
        [NFT_MSG_NEWFLOWTABLE] = NEST_OF(flowtable_attrs),
};

/* ------------------------------------------------------------------ the walk */

typedef struct Walk {
        struct nlmsghdr *out;   /* the copy being written; NULL to only check */
        size_t size;            /* room at ->out */
        unsigned depth;
} Walk;

static int walk_nest(Walk *w, const Nest *n, const void *data, size_t len);

/* The next attribute of @data at *@off, or NULL at the end. Attributes must
 * tile their parent exactly, each padded to 4 bytes. */
static int next_attr(const void *data, size_t len, size_t *off, const struct nlattr **ret) {
        const struct nlattr *a = (const struct nlattr *) ((const uint8_t *) data + *off);

        if (*off == len) {
                *ret = NULL;
                return 0;
        }
        if (len - *off < sizeof(*a) || a->nla_len < sizeof(*a) || (size_t) MNL_ALIGN(a->nla_len) > len - *off)
                return -EBADMSG;
        *off += MNL_ALIGN(a->nla_len);
        *ret = a;
        return 0;
}

/* Append an attribute of @len payload bytes to the copy: @copy of them from
 * @data, the rest and the padding zero. Returns its offset in the message. */
static int out_attr(Walk *w, uint16_t type, const void *data, size_t copy, size_t len, size_t *ret_off) {
        struct nlattr *a;
        char *p;

        if (!w->out)
                return 0;
        if (MNL_ATTR_HDRLEN + len > UINT16_MAX ||
            w->size - w->out->nlmsg_len < MNL_ALIGN(MNL_ATTR_HDRLEN + len))
                return -ENOBUFS;
        a = mnl_nlmsg_get_payload_tail(w->out);
        a->nla_type = type;
        a->nla_len = (uint16_t) (MNL_ATTR_HDRLEN + len);
        p = mnl_attr_get_payload(a);
        if (copy > 0)
                memcpy(p, data, copy);
        memset(p + copy, 0, MNL_ALIGN(len) - copy);
        if (ret_off)
                *ret_off = w->out->nlmsg_len;
        w->out->nlmsg_len += MNL_ALIGN(a->nla_len);
        return 0;
}

static int out_nest_end(Walk *w, size_t off) {
        struct nlattr *a;

        if (!w->out)
                return 0;
        if (w->out->nlmsg_len - off > UINT16_MAX)
                return -ENOBUFS;
        a = (struct nlattr *) ((uint8_t *) w->out + off);
        a->nla_len = (uint16_t) (w->out->nlmsg_len - off);
        return 0;
}

static int walk_nested(Walk *w, const Nest *n, const struct nlattr *a) {
        size_t off = 0;
        int r;

        r = out_attr(w, a->nla_type, NULL, 0, 0, &off);
        if (r < 0)
                return r;
        if (w->depth >= MAX_DEPTH)
                return -EBADMSG;
        w->depth++;
        r = walk_nest(w, n, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
        w->depth--;
        if (r < 0)
                return r;
        return out_nest_end(w, off);
}

static int walk_attr(Walk *w, const Policy *p, const Nest *selected, const struct nlattr *a);

static int walk_list(Walk *w, const List *l, const struct nlattr *list) {
        const void *data = mnl_attr_get_payload(list);
        size_t len = mnl_attr_get_payload_len(list), off = 0, n = 0, start = 0;
        const struct nlattr *a;
        int r;

        r = out_attr(w, list->nla_type, NULL, 0, 0, &start);
        if (r < 0)
                return r;
        for (;;) {
                r = next_attr(data, len, &off, &a);
                if (r < 0)
                        return r;
                if (!a)
                        return out_nest_end(w, start);
                if ((l->type && mnl_attr_get_type(a) != l->type) || (l->max && ++n > l->max))
                        return -EBADMSG;
                r = walk_attr(w, &l->entry, NULL, a);
                if (r < 0)
                        return r;
        }
}

static int walk_string(Walk *w, const Policy *p, const struct nlattr *a) {
        uint16_t len = mnl_attr_get_payload_len(a);
        bool terminated = attr_string(a) != NULL;

        /* Only a copy may add the missing NUL. */
        if (!terminated && !w->out)
                return -EBADMSG;
        if (len + !terminated < p->min || len + !terminated > p->max)
                return -EBADMSG;
        return out_attr(w, a->nla_type, mnl_attr_get_payload(a), len, len + !terminated, NULL);
}

static int walk_attr(Walk *w, const Policy *p, const Nest *selected, const struct nlattr *a) {
        uint16_t len = mnl_attr_get_payload_len(a);

        switch (p->kind) {
        case KIND_IGNORED:
                return out_attr(w, a->nla_type, mnl_attr_get_payload(a), len, len, NULL);
        case KIND_BYTES:
                if (len < p->min || len > p->max)
                        return -EBADMSG;
                return out_attr(w, a->nla_type, mnl_attr_get_payload(a), len, len, NULL);
        case KIND_STRING:
                return walk_string(w, p, a);
        case KIND_NEST:
                return walk_nested(w, p->nest, a);
        case KIND_LIST:
                return walk_list(w, p->list, a);
        case KIND_SELECTED:
                return walk_nested(w, selected, a);
        case KIND_REFUSED:
        default:
                return -EBADMSG;
        }
}

static const Policy *policy_of(const Nest *n, uint16_t type) {
        return type < n->n_attrs ? &n->attrs[type] : &n->other;
}

/* First the framing, duplicates and the selected table; then each attribute
 * in order, so that a copy keeps the order; then the constraints. */
static int walk_nest(Walk *w, const Nest *n, const void *data, size_t len) {
        const struct nlattr *tb[MAX_ATTRS] = {}, *a;
        const Nest *selected = NULL;
        size_t off = 0;
        int r;

        for (;;) {
                r = next_attr(data, len, &off, &a);
                if (r < 0)
                        return r;
                if (!a)
                        break;
                uint16_t type = mnl_attr_get_type(a);
                if (policy_of(n, type)->kind == KIND_REFUSED)
                        return -EBADMSG;
                if (type < n->n_attrs) {
                        if (tb[type])
                                return -EBADMSG;
                        tb[type] = a;
                }
        }
        if (n->select) {
                selected = n->select(tb);
                if (!selected)
                        return -EBADMSG;
        }
        /* The framing is known to be good by now. */
        for (off = 0; next_attr(data, len, &off, &a) == 0 && a; ) {
                r = walk_attr(w, policy_of(n, mnl_attr_get_type(a)), selected, a);
                if (r < 0)
                        return r;
        }
        return n->check && !n->check(tb) ? -EBADMSG : 0;
}

static int walk_msg(Walk *w, const struct nlmsghdr *nlh) {
        size_t hdrlen = mnl_nlmsg_size(sizeof(struct nfgenmsg));
        uint16_t type = nlh->nlmsg_type & 0xff;

        if (nlh->nlmsg_len < hdrlen || (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES ||
            type >= ELEMENTSOF(messages) || !messages[type].attrs)
                return -EBADMSG;
        if (w->out) {
                if (w->size < hdrlen)
                        return -ENOBUFS;
                memcpy(w->out, nlh, hdrlen);
                w->out->nlmsg_len = (uint32_t) hdrlen;
        }
        return walk_nest(w, &messages[type], mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg)),
                         nlh->nlmsg_len - hdrlen);
}

int nlschema_validate(const struct nlmsghdr *nlh) {
        Walk w = {};

        return walk_msg(&w, nlh);
}

int nlschema_normalise(const struct nlmsghdr *nlh, void *buf, size_t size) {
        Walk w = { .out = buf, .size = size };

        return walk_msg(&w, nlh);
}

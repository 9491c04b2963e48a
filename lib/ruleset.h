/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ruleset.h — the in-memory model of a complete nftables ruleset */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "ptrvec.h"

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;
struct nftnl_obj;
struct nftnl_flowtable;
struct nftnl_rule;
typedef struct Nl Nl;

/* One table and everything in it, each as libnftnl objects in kernel order.
 * Sets hold their elements. Rules of one chain are contiguous and ordered, in
 * the order of the chains. Identity that only makes sense inside one kernel
 * (handles, positions, use counts, owner port ids) is stripped when an object
 * enters the model; state (counters, quotas, element expirations) is kept. */
typedef struct RsTable {
        struct nftnl_table *table;
        uint32_t family;
        const char *name;       /* owned by ->table */
        bool owned;             /* NFT_TABLE_F_OWNER: readable, never writable by us */
        PtrVec chains;          /* struct nftnl_chain * */
        PtrVec objs;            /* struct nftnl_obj * */
        PtrVec flowtables;      /* struct nftnl_flowtable * */
        PtrVec sets;            /* struct nftnl_set * (with elements) */
        PtrVec rules;           /* struct nftnl_rule * */
} RsTable;

typedef struct Ruleset {
        PtrVec tables;          /* RsTable * */
        uint32_t genid;         /* kernel generation the ruleset was read at, 0 if unknown */
} Ruleset;

int ruleset_new(Ruleset **ret);
Ruleset *ruleset_free(Ruleset *rs);
static inline void ruleset_freep(Ruleset **rs) { if (*rs) ruleset_free(*rs); }

static inline RsTable *ruleset_table(const Ruleset *rs, size_t i) { return rs->tables.items[i]; }
RsTable *ruleset_find_table(const Ruleset *rs, uint32_t family, const char *name);
struct nftnl_chain *rstable_find_chain(const RsTable *t, const char *name);
struct nftnl_set *rstable_find_set(const RsTable *t, const char *name);

/* Add one NFT_MSG_NEW* message (table, chain, set, set elements, object,
 * flowtable or rule) to the model. Objects must come after the table (and
 * rules after their chain, elements after their set) they belong to. Used
 * for kernel dumps and for snapshot files alike, so it validates everything:
 * -EBADMSG for a malformed or inconsistent message. */
int ruleset_add_msg(Ruleset *rs, const struct nlmsghdr *nlh);

/* Dump the complete ruleset of the current network namespace. The dump is
 * consistent: it is retried if the generation id moved during it. */
int ruleset_dump(Nl *nl, Ruleset **ret);

/* A deep copy, made by emitting @src and reading it back: exact, and through
 * the same validated path as everything else. */
int ruleset_copy(const Ruleset *src, Ruleset **ret);

/* Remove table @t from @rs and free it. */
int ruleset_drop_table(Ruleset *rs, RsTable *t);

/* Move table @t out of @from into @to (both models lose/gain ownership). */
int ruleset_take_table(Ruleset *to, Ruleset *from, RsTable *t);

/* Serialisation into NFT_MSG_NEW* messages, in an order that the kernel
 * accepts in one batch: table, chains, objects, flowtables, sets, elements,
 * rules. Element lists are split into messages that fit the netlink attribute
 * limit. The sink says where each message goes and takes it when done. */
typedef enum RsMsgKind {
        RS_MSG_TABLE,
        RS_MSG_CHAIN,
        RS_MSG_OBJ,
        RS_MSG_FLOWTABLE,
        RS_MSG_SET,
        RS_MSG_ELEMS,
        RS_MSG_RULE,
        _RS_MSG_MAX,
} RsMsgKind;

/* Room a sink must offer for one message. */
#define RS_MSG_BUFSIZE (160 * 1024)

typedef struct RsMsgSink {
        char *(*buffer)(void *userdata);
        int (*push)(struct nlmsghdr *nlh, RsMsgKind kind, const void *obj, void *userdata);
        uint32_t (*seq)(void *userdata);
        uint16_t extra_flags;   /* NLM_F_ACK for batches */
        bool for_kernel;        /* drop what another kernel must not see (the owner flag) */
        void *userdata;
} RsMsgSink;

int rstable_emit(const RsTable *t, const RsMsgSink *sink);
int ruleset_emit(const Ruleset *rs, const RsMsgSink *sink);
const char *rs_msg_kind_name(RsMsgKind k);

/* "inet filter", "ip nat", ... */
const char *family_name(uint32_t family);
int family_from_name(const char *s, uint32_t *ret);

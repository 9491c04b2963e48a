/* SPDX-License-Identifier: GPL-2.0-or-later */
/* batch.c — one kernel transaction that replaces whole tables, or a few rules
 *
 * Replacing is "delete the table, create it again with its contents" inside
 * one batch: the kernel applies all of it or none of it, and a deleted and
 * re-created table is exactly the target, whatever the live one held. Tables
 * outside the selection are not named in the batch at all, so their objects,
 * counters and set elements stay as they are.
 *
 * The guard monitor needs less: a few rules deleted and inserted in place
 * (batch_rules), in a table that may hold 100,000 set elements that must not
 * be rewritten for it.
 *
 * Every message carries NLM_F_ACK, and each one's description is kept by
 * sequence number so that the kernel's refusal can name the object.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "batch.h"
#include "macro.h"
#include "nl.h"

#define BATCH_PAGE_SIZE (512 * 1024)

typedef struct MsgDesc {
        RsMsgKind kind;
        const RsTable *table;
        const void *obj;        /* NULL for a table deletion */
} MsgDesc;

typedef struct Builder {
        Nl *nl;
        struct nftnl_batch *batch;
        uint32_t begin_seq, first_seq, next_seq;
        PtrVec descs;           /* MsgDesc *, one per message */
        const RsTable *current;
        uintptr_t zeroed_from, zeroed_to;
} Builder;

static void desc_destroy(void *p) { free(p); }

int table_refs_parse(const char *s, TableRef **ret, size_t *ret_n, char *err, size_t errlen) {
        _cleanup_free_ char *copy = strdup(s);
        TableRef *refs = NULL;
        size_t n = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(tok, ':');
                uint32_t family;
                TableRef *nr;

                if (!colon || colon == tok || !colon[1] || family_from_name(strndupa(tok, (size_t) (colon - tok)), &family) < 0 ||
                    strlen(colon + 1) >= NFT_NAME_MAXLEN) {
                        snprintf(err, errlen, "'%s' is not FAMILY:NAME (family: ip, ip6, inet, arp, bridge, netdev)", tok);
                        table_refs_free(refs, n);
                        return -EINVAL;
                }
                nr = realloc(refs, (n + 1) * sizeof(*refs));
                if (!nr) {
                        table_refs_free(refs, n);
                        return -ENOMEM;
                }
                refs = nr;
                refs[n].family = family;
                refs[n].name = strdup(colon + 1);
                if (!refs[n++].name) {
                        table_refs_free(refs, n);
                        return -ENOMEM;
                }
        }
        if (n == 0) {
                snprintf(err, errlen, "no table named");
                return -EINVAL;
        }
        *ret = refs;
        *ret_n = n;
        return 0;
}

void table_refs_free(TableRef *refs, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(refs[i].name);
        free(refs);
}

static bool chain_ref_is(const ChainRef *c, uint32_t family, const char *table, const char *chain) {
        return c->family == family && streq(c->table, table) && (!chain || streq(c->chain, chain));
}

int chain_refs_add(ChainRefs *refs, uint32_t family, const char *table, const char *chain) {
        ChainRef *n;

        for (size_t i = 0; i < refs->n; i++)
                if (chain_ref_is(&refs->items[i], family, table, chain))
                        return 0;
        n = reallocarray(refs->items, refs->n + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        refs->items = n;
        n[refs->n] = (ChainRef) { .family = family, .table = strdup(table), .chain = strdup(chain) };
        if (!n[refs->n].table || !n[refs->n].chain) {
                free(n[refs->n].table);
                free(n[refs->n].chain);
                return -ENOMEM;
        }
        refs->n++;
        return 1;
}

void chain_refs_remove(ChainRefs *refs, uint32_t family, const char *table, const char *chain) {
        size_t k = 0;

        for (size_t i = 0; i < refs->n; i++) {
                if (chain_ref_is(&refs->items[i], family, table, chain)) {
                        free(refs->items[i].table);
                        free(refs->items[i].chain);
                } else
                        refs->items[k++] = refs->items[i];
        }
        refs->n = k;
}

void chain_refs_clear(ChainRefs *refs) {
        for (size_t i = 0; i < refs->n; i++) {
                free(refs->items[i].table);
                free(refs->items[i].chain);
        }
        free(refs->items);
        *refs = (ChainRefs) {};
}

/* Where the next message goes. Batch pages come from malloc() and libmnl
 * 1.0.4 leaves attribute padding as it finds it: zero the room ahead of the
 * writer, each byte once per page, so no stale memory reaches the kernel.
 * A page always has RS_MSG_BUFSIZE of room past its last message start. */
static char *builder_buffer(Builder *b) {
        char *p = nftnl_batch_buffer(b->batch);
        uintptr_t at = (uintptr_t) p, end = at + RS_MSG_BUFSIZE;

        if (at < b->zeroed_from || at > b->zeroed_to)
                b->zeroed_from = b->zeroed_to = at;     /* a new page */
        if (end > b->zeroed_to) {
                memset((char *) b->zeroed_to, 0, end - b->zeroed_to);
                b->zeroed_to = end;
        }
        return p;
}

static char *sink_buffer(void *userdata) {
        return builder_buffer(userdata);
}

static uint32_t builder_seq(void *userdata) {
        Builder *b = userdata;
        return b->next_seq++;
}

static int builder_record(Builder *b, RsMsgKind kind, const void *obj) {
        MsgDesc *d = malloc(sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        *d = (MsgDesc) { .kind = kind, .table = b->current, .obj = obj };
        r = ptrvec_push(&b->descs, d);
        if (r < 0) {
                free(d);
                return r;
        }
        nftnl_batch_update(b->batch);
        return 0;
}

static int builder_push(struct nlmsghdr *nlh, RsMsgKind kind, const void *obj, void *userdata) {
        return builder_record(userdata, kind, obj);
}

static int add_delete(Builder *b, const RsTable *t) {
        struct nlmsghdr *nlh;

        nlh = nftnl_nlmsg_build_hdr(builder_buffer(b), NFT_MSG_DELTABLE, (uint16_t) t->family,
                                    NLM_F_ACK, b->next_seq++);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, t->name);
        b->current = t;
        return builder_record(b, RS_MSG_TABLE, NULL);
}

static bool selected(const RsTable *t, const TableRef *refs, size_t n_refs) {
        if (!refs)
                return true;
        for (size_t i = 0; i < n_refs; i++)
                if (refs[i].family == t->family && streq(refs[i].name, t->name))
                        return true;
        return false;
}

/* Which rule of its chain, counting from 1: how users find it in a listing. */
static size_t rule_index(const RsTable *t, const struct nftnl_rule *r) {
        const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
        size_t k = 0;

        for (size_t i = 0; i < t->rules.n; i++) {
                if (!streq(nftnl_rule_get_str(t->rules.items[i], NFTNL_RULE_CHAIN), chain))
                        continue;
                k++;
                if (t->rules.items[i] == r)
                        break;
        }
        return k;
}

static void describe(const MsgDesc *d, char *buf, size_t len) {
        const char *fam;

        if (!d->table) {        /* batch_rules(): a rule on its own */
                snprintf(buf, len, "a rule for chain %s in table %s %s",
                         nftnl_rule_get_str(d->obj, NFTNL_RULE_CHAIN),
                         family_name(nftnl_rule_get_u32(d->obj, NFTNL_RULE_FAMILY)),
                         nftnl_rule_get_str(d->obj, NFTNL_RULE_TABLE));
                return;
        }
        fam = family_name(d->table->family);
        if (!d->obj) {
                snprintf(buf, len, "deleting table %s %s", fam, d->table->name);
                return;
        }
        switch (d->kind) {
        case RS_MSG_TABLE:
                snprintf(buf, len, "table %s %s", fam, d->table->name);
                break;
        case RS_MSG_CHAIN:
                snprintf(buf, len, "chain %s in table %s %s",
                         nftnl_chain_get_str(d->obj, NFTNL_CHAIN_NAME), fam, d->table->name);
                break;
        case RS_MSG_OBJ:
                snprintf(buf, len, "object %s in table %s %s",
                         nftnl_obj_get_str((struct nftnl_obj *) d->obj, NFTNL_OBJ_NAME), fam, d->table->name);
                break;
        case RS_MSG_FLOWTABLE:
                snprintf(buf, len, "flowtable %s in table %s %s",
                         nftnl_flowtable_get_str(d->obj, NFTNL_FLOWTABLE_NAME), fam, d->table->name);
                break;
        case RS_MSG_SET:
        case RS_MSG_ELEMS:
                snprintf(buf, len, "%s %s in table %s %s", d->kind == RS_MSG_SET ? "set" : "elements of set",
                         nftnl_set_get_str(d->obj, NFTNL_SET_NAME), fam, d->table->name);
                break;
        case RS_MSG_RULE:
                snprintf(buf, len, "rule %zu of chain %s in table %s %s", rule_index(d->table, d->obj),
                         nftnl_rule_get_str(d->obj, NFTNL_RULE_CHAIN), fam, d->table->name);
                break;
        default:
                snprintf(buf, len, "object in table %s %s", fam, d->table->name);
        }
}

static int build(Builder *b, const Ruleset *target, const Ruleset *live,
                 const TableRef *refs, size_t n_refs) {
        RsMsgSink sink = {
                .buffer = sink_buffer, .push = builder_push, .seq = builder_seq,
                .extra_flags = NLM_F_ACK, .for_kernel = true, .userdata = b,
        };
        int r;

        for (size_t i = 0; i < live->tables.n; i++) {
                const RsTable *t = live->tables.items[i];
                if (t->owned || !selected(t, refs, n_refs))
                        continue;
                r = add_delete(b, t);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < target->tables.n; i++) {
                const RsTable *t = target->tables.items[i];
                const RsTable *l = ruleset_find_table(live, t->family, t->name);
                if (t->owned || !selected(t, refs, n_refs))
                        continue;
                if (l && l->owned)
                        return -EPERM;  /* another process owns that name here */
                b->current = t;
                r = rstable_emit(t, &sink);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The batch begins: conditioned on @genid, unless 0. */
static int builder_begin(Builder *b, Nl *nl, uint32_t genid) {
        struct nlmsghdr *nlh;

        *b = (Builder) { .nl = nl };
        b->batch = nftnl_batch_alloc(BATCH_PAGE_SIZE, RS_MSG_BUFSIZE);
        if (!b->batch)
                return -ENOMEM;
        b->begin_seq = nl_next_seq(nl);
        nlh = nftnl_batch_begin(builder_buffer(b), b->begin_seq);
        if (genid != 0)
                mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
        nftnl_batch_update(b->batch);
        b->first_seq = b->next_seq = b->begin_seq + 1;
        return 0;
}

static void builder_done(Builder *b) {
        ptrvec_clear(&b->descs, desc_destroy);
        if (b->batch)
                nftnl_batch_free(b->batch);
}

/* End the batch and send it; what the kernel said, in words, in @err. */
static int builder_commit(Builder *b, uint32_t genid, char *err, size_t errlen) {
        NlBatchError be = {};
        int r;

        if (b->descs.n == 0)
                return 0;       /* nothing to do is not a transaction */
        nftnl_batch_end(builder_buffer(b), b->next_seq);
        nftnl_batch_update(b->batch);
        /* Later seq numbers must not collide with ours. */
        for (uint32_t s = b->begin_seq; s != b->next_seq; s = nl_next_seq(b->nl))
                ;

        r = nl_batch_send(b->nl, b->batch, b->begin_seq, b->first_seq, (uint32_t) b->descs.n, &be);
        if (r == -ERESTART) {
                snprintf(err, errlen, "the ruleset changed since it was read (generation %u); nothing was changed", genid);
        } else if (r == -EPROTO && be.seq == 0) {
                snprintf(err, errlen, "the kernel's answers to the batch were lost: the outcome is unknown, list the ruleset to see it");
        } else if (r < 0) {
                char what[256] = "the batch";
                if (be.seq >= b->first_seq && be.seq - b->first_seq < b->descs.n)
                        describe(b->descs.items[be.seq - b->first_seq], what, sizeof(what));
                snprintf(err, errlen, "the kernel rejected %s: %s%s%s; nothing was changed", what, strerror(-r),
                         be.message[0] ? ": " : "", be.message);
        }
        return r;
}

int batch_replace_tables(Nl *nl, const Ruleset *target, const Ruleset *live,
                         const TableRef *refs, size_t n_refs, uint32_t genid,
                         char *err, size_t errlen) {
        Builder b;
        int r;

        r = builder_begin(&b, nl, genid);
        if (r >= 0) {
                r = build(&b, target, live, refs, n_refs);
                if (r == -EPERM)
                        snprintf(err, errlen, "a table of the same name is owned by another process here");
        }
        if (r >= 0)
                r = builder_commit(&b, genid, err, errlen);
        builder_done(&b);
        return r;
}

/* One rule message: @rule as it is (NEWRULE: without a position or
 * NLM_F_APPEND it goes to the head of its chain), or only its identity
 * (DELRULE: table, chain and handle name the rule). */
static int add_rule_msg(Builder *b, uint16_t type, const struct nftnl_rule *rule) {
        uint32_t family = nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY);
        struct nlmsghdr *nlh;

        nlh = nftnl_nlmsg_build_hdr(builder_buffer(b), type, (uint16_t) family,
                                    NLM_F_ACK | (type == NFT_MSG_NEWRULE ? NLM_F_CREATE : 0), b->next_seq++);
        if (type == NFT_MSG_NEWRULE)
                nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *) rule);
        else {
                mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, nftnl_rule_get_str(rule, NFTNL_RULE_TABLE));
                mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN));
                mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE)));
        }
        b->current = NULL;
        return builder_record(b, RS_MSG_RULE, rule);
}

int batch_rules(Nl *nl, const PtrVec *del, const PtrVec *add, uint32_t genid, char *err, size_t errlen) {
        Builder b;
        int r;

        r = builder_begin(&b, nl, genid);
        for (size_t i = 0; r >= 0 && i < del->n; i++)
                r = add_rule_msg(&b, NFT_MSG_DELRULE, del->items[i]);
        /* Each goes to the head: the last of a chain's rules first. */
        for (size_t i = add->n; r >= 0 && i > 0; i--)
                r = add_rule_msg(&b, NFT_MSG_NEWRULE, add->items[i - 1]);
        if (r >= 0)
                r = builder_commit(&b, genid, err, errlen);
        builder_done(&b);
        return r;
}

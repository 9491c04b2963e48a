/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reguard.c — the guard put back at the head of live base chains, in one small batch
 *
 * The guard monitor must put a removed guard back within milliseconds, in a
 * ruleset that may hold 100,000 set elements: dumping the whole ruleset and
 * replacing tables (lib/batch's way for a trial) is far too slow for that
 * and would rewrite what is not ours. So only the chains in question are
 * read, each by three small requests (its table's flags, the chain's hook,
 * its rules with their handles), and the batch names single rules: the
 * chain's guard rules deleted by handle, the wanted guard inserted at its
 * head. The result is exactly what guard_chain() makes of the chain in a
 * model (the guard in its order at the head, no other guard rule), so a
 * trial's three-way merge sees a chain that the monitor guarded again as
 * the one the trial committed.
 *
 * Nothing is conditioned on what was read but the generation the caller
 * planned from: if the ruleset moved, the kernel refuses the batch
 * (-ERESTART), and the reads (a dump interrupted by a commit among them)
 * never need to be consistent on their own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "macro.h"
#include "reguard.h"

typedef struct LiveChain {
        bool owned;             /* its table is another process's */
        bool base;
        uint32_t hooknum;
        PtrVec rules;           /* struct nftnl_rule *, in order, with handles */
} LiveChain;

static void rule_destroy(void *p) { nftnl_rule_free(p); }

static void live_chain_done(LiveChain *c) {
        ptrvec_clear(&c->rules, rule_destroy);
}

/* The kernel's own answers: trusted, as in ruleset_dump(). */
static int table_cb(const struct nlmsghdr *nlh, void *userdata) {
        LiveChain *c = userdata;
        struct nftnl_table *t = nftnl_table_alloc();
        int r = 0;

        if (!t)
                return -ENOMEM;
        if (nftnl_table_nlmsg_parse(nlh, t) < 0)
                r = -EBADMSG;
        else
                c->owned = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) &&
                           (nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_OWNER);
        nftnl_table_free(t);
        return r;
}

static int chain_cb(const struct nlmsghdr *nlh, void *userdata) {
        LiveChain *c = userdata;
        struct nftnl_chain *ch = nftnl_chain_alloc();
        int r = 0;

        if (!ch)
                return -ENOMEM;
        if (nftnl_chain_nlmsg_parse(nlh, ch) < 0)
                r = -EBADMSG;
        else if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
                c->base = true;
                c->hooknum = nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM);
        }
        nftnl_chain_free(ch);
        return r;
}

static int rule_cb(const struct nlmsghdr *nlh, void *userdata) {
        LiveChain *c = userdata;
        struct nftnl_rule *rule = nftnl_rule_alloc();
        int r;

        if (!rule)
                return -ENOMEM;
        if (nftnl_rule_nlmsg_parse(nlh, rule) < 0) {
                nftnl_rule_free(rule);
                return -EBADMSG;
        }
        r = ptrvec_push(&c->rules, rule);
        if (r < 0)
                nftnl_rule_free(rule);
        return r;
}

/* Read @ref as it is live. -ENOENT: its table or the chain is gone. */
static int live_chain_read(Nl *nl, const ChainRef *ref, LiveChain *ret) {
        char buf[1024];
        struct nlmsghdr *nlh;
        int r;

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t) ref->family, 0, 0);
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, ref->table);
        r = nl_request(nl, nlh, table_cb, ret);
        if (r < 0 || ret->owned)
                return r;

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, (uint16_t) ref->family, 0, 0);
        mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, ref->table);
        mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, ref->chain);
        r = nl_request(nl, nlh, chain_cb, ret);
        if (r < 0 || !ret->base)
                return r;

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t) ref->family, 0, 0);
        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, ref->table);
        mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, ref->chain);
        r = nl_dump(nl, nlh, rule_cb, ret);
        /* A commit during the dump: the batch would be refused anyway. */
        return r == -EINTR ? -ERESTART : r;
}

int reguard_chains(Nl *nl, const ReguardRequest *req, ChainRefs *ret_done, char *err, size_t errlen) {
        PtrVec add = {}, del = {};      /* @del points into @live */
        ChainRefs done = {};
        LiveChain *live;
        int r = 0;

        live = calloc(MAX(req->chains->n, (size_t) 1), sizeof(*live));
        if (!live)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < req->chains->n; i++) {
                const ChainRef *ref = &req->chains->items[i];
                size_t n_add = add.n;

                r = live_chain_read(nl, ref, &live[i]);
                if (r == -ENOENT || (r >= 0 && (live[i].owned || !live[i].base))) {
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        if (r != -ERESTART)
                                snprintf(err, errlen, "cannot read chain %s in table %s %s: %s", ref->chain,
                                         family_name(ref->family), ref->table, strerror(-r));
                        break;
                }
                r = guard_rules_new(ref->family, ref->table, ref->chain, live[i].hooknum, req->ports,
                                    req->n_ports, req->sources, &add);
                if (r == -EOPNOTSUPP) {
                        r = 0;          /* forward: SSH to this host never crosses it */
                        continue;
                }
                if (r >= 0)
                        r = guard_chain_plan((struct nftnl_rule *const *) live[i].rules.items, live[i].rules.n,
                                             &(PtrVec) { .items = add.items + n_add, .n = add.n - n_add },
                                             &del);
                if (r == 0)
                        while (add.n > n_add)   /* guarded exactly already */
                                nftnl_rule_free(add.items[--add.n]);
                if (r > 0)
                        r = chain_refs_add(&done, ref->family, ref->table, ref->chain);
                if (r < 0)
                        snprintf(err, errlen, "cannot plan the guard of chain %s in table %s %s: %s", ref->chain,
                                 family_name(ref->family), ref->table, strerror(-r));
        }
        if (r >= 0 && (del.n > 0 || add.n > 0))
                r = batch_rules(nl, &del, &add, req->genid, err, errlen);
        ptrvec_clear(&add, rule_destroy);
        ptrvec_clear(&del, NULL);
        for (size_t i = 0; i < req->chains->n; i++)
                live_chain_done(&live[i]);
        free(live);
        if (r >= 0 && ret_done)
                *ret_done = done;
        else
                chain_refs_clear(&done);
        return r;
}

int reguard_sites(const Ruleset *rs, ChainRefs *ret) {
        for (size_t i = 0; i < rs->tables.n; i++) {
                const RsTable *t = ruleset_table(rs, i);

                for (size_t j = 0; j < t->rules.n; j++) {
                        const struct nftnl_rule *rule = t->rules.items[j];
                        int r;

                        if (!guard_rule_is_guard(rule, NULL, 0))
                                continue;
                        r = chain_refs_add(ret, t->family, t->name, nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

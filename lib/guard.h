/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard.h — the SSH guard rule: build it, recognise it, put it at the head of base chains */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "ipnet.h"
#include "ptrvec.h"
#include "ruleset.h"

struct nftnl_chain;
struct nftnl_rule;

/* The rule comment (udata) that, with the exact expressions, marks a guard. */
#define GUARD_COMMENT "fwguard ssh guard"

/* A network the guard accepts SSH from. Host bits past the prefix are ignored. */
typedef IpNet GuardNet;

/* Where SSH may come from. NULL or n == 0: anywhere. */
typedef struct GuardSources {
        const GuardNet *items;
        size_t n;
} GuardSources;

/* Which way SSH packets cross a hook of a family: to the SSH ports
 * (prerouting, input, ingress), from them (output, postrouting, egress), or
 * not at all for this host (forward, and families that carry no TCP). */
typedef enum GuardSide {
        GUARD_SIDE_NONE,
        GUARD_SIDE_IN,
        GUARD_SIDE_OUT,
} GuardSide;

GuardSide guard_side(uint32_t family, uint32_t hooknum);

/* Append to @ret the guard rules for one base chain on @hooknum, in their
 * order: one rule per port (and, on the input side with @src, per source
 * network of a family the chain sees), each
 *   [meta nfproto|protocol] [saddr] meta l4proto tcp, th dport|sport PORT,
 *   counter, accept, comment GUARD_COMMENT.
 * The caller owns the new rules. An input-side chain that sees none of the
 * families of @src gets no rule. -EINVAL for no ports or port 0,
 * -EOPNOTSUPP for a hook that SSH packets of this host do not cross. On
 * failure @ret is as it was. */
int guard_rules_new(uint32_t family, const char *table, const char *chain, uint32_t hooknum,
                    const uint16_t *ports, size_t n_ports, const GuardSources *src, PtrVec *ret);

/* Is @r a guard rule for one of @ports: exactly the expressions that
 * guard_rules_new() builds for that port (either side, any source network,
 * counter values aside) and exactly the comment? @r must carry its family. */
bool guard_rule_is_guard(const struct nftnl_rule *r, const uint16_t *ports, size_t n_ports);

/* Remove every guard rule, for any port, from @t (fwguard unguard). Returns
 * how many went, -EPERM for a table owned by another process, -ENOMEM (then
 * @t is unchanged). */
int guard_table_strip(RsTable *t);

/* Put the guard at the head of base chain @c of @t, after removing every
 * guard rule (for @ports) from @c. Guard rules that are already wanted keep
 * their counters. Returns 1 if the model changed, 0 if @c was guarded
 * exactly so already. -EINVAL if @c is not a base chain of @t, -EOPNOTSUPP
 * for a hook without guard, -EPERM for a table owned by another process. */
int guard_chain(RsTable *t, struct nftnl_chain *c, const uint16_t *ports, size_t n_ports,
                const GuardSources *src);

/* guard_chain() on every base chain of @t on a hook that SSH crosses; other
 * chains are left alone. Returns 1 if the model changed, 0 if not. On
 * failure some chains may be guarded already, each of them completely. */
int guard_table(RsTable *t, const uint16_t *ports, size_t n_ports, const GuardSources *src);

/* Does a base chain whose rules are @rules, in order, start with exactly
 * @want (its guard, from guard_rules_new()) and hold no other guard rule,
 * for any port? 0 if so. 1 if not, with every guard rule of @rules, for any
 * port, added to @ret_guards (unless NULL): deleting those and putting @want
 * at the head guards the chain exactly. -ENOMEM. */
int guard_chain_plan(struct nftnl_rule *const *rules, size_t n_rules, const PtrVec *want, PtrVec *ret_guards);

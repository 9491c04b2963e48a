/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifindex.c — the interface indexes that a table's rules and sets hold
 *
 * nft turns `iif "eth0"`, `oif { "eth0", "eth1" }` and `fwd to "eth1"` into
 * the interface's index at load time: the kernel only ever sees a number.
 * A snapshot keeps that number, which names another interface (or none)
 * after a reboot that created the links in another order. To replay a
 * snapshot by name, fwguard must find every place that holds an index.
 *
 * The kernel does not say which bytes are indexes; the rules do. So a rule
 * is read as the register machine it is: `meta load iif => reg R` makes R
 * an index; a `cmp` of R compares with an index; a `lookup`/`dynset` whose
 * key spans R holds indexes at that field of the set's keys; `immediate`
 * into R then `fwd`/`dup sreg_dev R` is a device index. Any other
 * expression that writes a register forgets what it held. Sets and maps
 * typed iface_index (key or data: nft types every map whose data `fwd`
 * takes) hold indexes whether a rule uses them or not; a concatenation's
 * type says nothing of where its fields lie, which only the rules show.
 *
 * Registers: the four 16-byte ones (NFT_REG_1..4) overlap the sixteen 4-byte
 * ones (NFT_REG32_00..15); everything here counts in 4-byte registers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "ifindex.h"
#include "macro.h"

/* nft's datatype number of iface_index (nftables' enum datatypes). */
#define TYPE_IFINDEX 20
#define REGS32 NFT_REG32_COUNT
/* Most fields of a concatenated key that we follow: 16 4-byte registers. */
#define KEY_FIELDS 16

typedef enum RegKind {
        REG_OTHER,
        REG_IFINDEX,            /* meta iif/oif */
        REG_IMMEDIATE,          /* a constant: .imm */
} RegKind;

typedef struct Reg {
        RegKind kind;
        struct nftnl_expr *imm;
} Reg;

/* What a set holds indexes in. */
typedef struct SetMarks {
        const char *name;
        uint32_t key_offsets;   /* bit i: bytes 4i..4i+3 of the key */
        bool data;
} SetMarks;

typedef struct Walk {
        RsTable *t;
        SetMarks *sets;         /* one per set of the table, in its order */
        const char *chain;
        Reg regs[REGS32];
        ifindex_fn fn;
        void *userdata;
} Walk;

/* A register number as its first 4-byte register, or -1. */
static int reg32(uint32_t reg) {
        if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
                return (int) (reg - NFT_REG_1) * 4;
        if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
                return (int) (reg - NFT_REG32_00);
        return -1;
}

static SetMarks *set_marks(Walk *w, const char *name) {
        for (size_t i = 0; name && i < w->t->sets.n; i++)
                if (streq(w->sets[i].name, name))
                        return &w->sets[i];
        return NULL;
}

/* The expressions that write a register, and the attribute naming it. */
static const struct {
        const char *name;
        uint16_t dreg;
        int len_attr;           /* the attribute holding the length written, or -1 */
} writers[] = {
        { "payload",   NFTNL_EXPR_PAYLOAD_DREG, NFTNL_EXPR_PAYLOAD_LEN },
        { "meta",      NFTNL_EXPR_META_DREG, -1 },
        { "immediate", NFTNL_EXPR_IMM_DREG, -1 },
        { "lookup",    NFTNL_EXPR_LOOKUP_DREG, -1 },
        { "bitwise",   NFTNL_EXPR_BITWISE_DREG, NFTNL_EXPR_BITWISE_LEN },
        { "byteorder", NFTNL_EXPR_BYTEORDER_DREG, NFTNL_EXPR_BYTEORDER_LEN },
        { "exthdr",    NFTNL_EXPR_EXTHDR_DREG, NFTNL_EXPR_EXTHDR_LEN },
        { "ct",        NFTNL_EXPR_CT_DREG, -1 },
        { "fib",       NFTNL_EXPR_FIB_DREG, -1 },
        { "rt",        NFTNL_EXPR_RT_DREG, -1 },
        { "socket",    NFTNL_EXPR_SOCKET_DREG, -1 },
        { "osf",       NFTNL_EXPR_OSF_DREG, -1 },
        { "numgen",    NFTNL_EXPR_NG_DREG, -1 },
        { "hash",      NFTNL_EXPR_HASH_DREG, -1 },
        { "xfrm",      NFTNL_EXPR_XFRM_DREG, -1 },
        { "tunnel",    NFTNL_EXPR_TUNNEL_DREG, -1 },
};

/* Forget what the registers that @e writes held; returns the first one, or -1. */
static int forget_written(Walk *w, struct nftnl_expr *e, const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(writers); i++) {
                uint32_t n = 4;         /* a length we do not know: the widest register */
                int r;

                if (!streq(writers[i].name, name) || !nftnl_expr_is_set(e, writers[i].dreg))
                        continue;
                r = reg32(nftnl_expr_get_u32(e, writers[i].dreg));
                if (r < 0)
                        return -1;      /* the verdict register */
                if (writers[i].len_attr >= 0 && nftnl_expr_is_set(e, (uint16_t) writers[i].len_attr))
                        n = (nftnl_expr_get_u32(e, (uint16_t) writers[i].len_attr) + 3) / 4;
                for (uint32_t j = 0; j < n && r + (int) j < REGS32; j++)
                        w->regs[r + j] = (Reg) {};
                return r;
        }
        return -1;
}

/* A key read from @sreg into set @set: mark the fields that hold indexes. */
static void mark_key(Walk *w, uint32_t sreg, const char *set) {
        SetMarks *m = set_marks(w, set);
        int r = reg32(sreg);

        for (int i = 0; m && r >= 0 && i < KEY_FIELDS && r + i < REGS32; i++)
                if (w->regs[r + i].kind == REG_IFINDEX)
                        m->key_offsets |= 1u << i;
}

static int call(Walk *w, uint32_t *index, const char *where) {
        return w->fn(index, where, w->userdata);
}

/* @e's 4-byte data attribute @attr as an index, written back if changed. */
static int call_expr(Walk *w, struct nftnl_expr *e, uint16_t attr) {
        char where[256];
        const void *d;
        uint32_t len = 0, v, old;
        int r;

        d = nftnl_expr_get(e, attr, &len);
        if (!d || len != sizeof(uint32_t))
                return 0;
        memcpy(&v, d, sizeof(v));
        old = v;
        snprintf(where, sizeof(where), "chain %s", w->chain);
        r = call(w, &v, where);
        if (r < 0)
                return r;
        if (v != old && nftnl_expr_set(e, attr, &v, sizeof(v)) < 0)
                return -ENOMEM;
        return 0;
}

static int on_expr(struct nftnl_expr *e, void *userdata) {
        Walk *w = userdata;
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
        int dst;

        if (streq(name, "cmp")) {
                int s = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));

                if (s >= 0 && w->regs[s].kind == REG_IFINDEX)
                        return call_expr(w, e, NFTNL_EXPR_CMP_DATA);
                return 0;
        }
        if (streq(name, "lookup"))
                mark_key(w, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG),
                         nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
        else if (streq(name, "dynset"))
                mark_key(w, nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY),
                         nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME));
        else if (streq(name, "fwd") || streq(name, "dup")) {
                uint16_t attr = streq(name, "fwd") ? NFTNL_EXPR_FWD_SREG_DEV : NFTNL_EXPR_DUP_SREG_DEV;
                int s = nftnl_expr_is_set(e, attr) ? reg32(nftnl_expr_get_u32(e, attr)) : -1;

                if (s >= 0 && w->regs[s].kind == REG_IMMEDIATE)
                        return call_expr(w, w->regs[s].imm, NFTNL_EXPR_IMM_DATA);
                return 0;
        }

        dst = forget_written(w, e, name);
        if (dst < 0)
                return 0;
        if (streq(name, "meta")) {
                uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);

                if (key == NFT_META_IIF || key == NFT_META_OIF)
                        w->regs[dst].kind = REG_IFINDEX;
        } else if (streq(name, "immediate"))
                w->regs[dst] = (Reg) { .kind = REG_IMMEDIATE, .imm = e };
        return 0;
}

/* The 4 bytes at @off of @attr of element @e as an index. */
static int call_elem(Walk *w, struct nftnl_set_elem *e, uint16_t attr, uint32_t off, const char *where,
                     bool write) {
        uint8_t buf[NFT_DATA_VALUE_MAXLEN];
        const void *d;
        uint32_t len = 0, v, old;
        int r;

        d = nftnl_set_elem_get(e, attr, &len);
        if (!d || len > sizeof(buf) || off + sizeof(v) > len)
                return 0;
        memcpy(buf, d, len);
        memcpy(&v, buf + off, sizeof(v));
        old = v;
        r = call(w, &v, where);
        if (r < 0 || !write || v == old)
                return r;
        memcpy(buf + off, &v, sizeof(v));
        return nftnl_set_elem_set(e, attr, buf, len) < 0 ? -ENOMEM : 0;
}

static int walk_set(Walk *w, struct nftnl_set *s, const SetMarks *m) {
        bool interval = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL;
        struct nftnl_set_elems_iter *it;
        struct nftnl_set_elem *e;
        char where[256];
        int r = 0;

        if (!m->key_offsets && !m->data)
                return 0;
        it = nftnl_set_elems_iter_create(s);
        if (!it)
                return -ENOMEM;
        while (r >= 0 && (e = nftnl_set_elems_iter_next(it))) {
                for (uint32_t i = 0; r >= 0 && i < KEY_FIELDS; i++) {
                        if (!(m->key_offsets & (1u << i)))
                                continue;
                        snprintf(where, sizeof(where), "set %s%s", m->name, interval ? " (interval)" : "");
                        r = call_elem(w, e, NFTNL_SET_ELEM_KEY, i * 4, where, !interval);
                        if (r >= 0 && interval)
                                r = call_elem(w, e, NFTNL_SET_ELEM_KEY_END, i * 4, where, false);
                }
                if (r >= 0 && m->data) {
                        snprintf(where, sizeof(where), "map %s (data)", m->name);
                        r = call_elem(w, e, NFTNL_SET_ELEM_DATA, 0, where, true);
                }
        }
        nftnl_set_elems_iter_destroy(it);
        return r;
}

int ifindex_foreach(RsTable *t, ifindex_fn fn, void *userdata) {
        _cleanup_free_ SetMarks *sets = calloc(t->sets.n + 1, sizeof(SetMarks));
        Walk w = { .t = t, .sets = sets, .fn = fn, .userdata = userdata };
        int r;

        if (!sets)
                return -ENOMEM;
        for (size_t i = 0; i < t->sets.n; i++) {
                struct nftnl_set *s = t->sets.items[i];

                sets[i].name = nftnl_set_get_str(s, NFTNL_SET_NAME);
                if (nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == TYPE_IFINDEX)
                        sets[i].key_offsets |= 1;
                if ((nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_MAP) &&
                    nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == TYPE_IFINDEX)
                        sets[i].data = true;
        }
        for (size_t i = 0; i < t->rules.n; i++) {
                struct nftnl_rule *rule = t->rules.items[i];

                memset(w.regs, 0, sizeof(w.regs));
                w.chain = nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
                r = nftnl_expr_foreach(rule, on_expr, &w);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < t->sets.n; i++) {
                r = walk_set(&w, t->sets.items[i], &sets[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* canon.c — canonical byte keys of nftables objects, and a table indexed by them
 *
 * Comparing libnftnl objects field by field would mean one comparator per
 * object kind and per expression type, and each new kernel attribute would
 * be a silent hole. Instead an object is compared by the netlink payload that
 * libnftnl builds for it: that payload is, by construction, everything the
 * kernel is told about the object. The model has already dropped identity
 * (handles, positions, ids, use counts), so what remains is content.
 *
 * Only a few attributes need care, and the payload is walked to handle them:
 *  - state: counter packets and bytes (rules, counter objects, set elements,
 *    the templates of sets and dynsets), quota consumption and its
 *    "depleted" flag, the `last` expression's time, the remaining time of set
 *    elements, base chain counters. Unless CANON_COUNTERS is given, they are
 *    written as zeros (or left out: expirations, chain counters), so that
 *    traffic does not make two rulesets differ. libnftnl cannot unset
 *    expression attributes, and the objects are shared and const, so this
 *    is done on the built bytes.
 *  - anonymous sets: a rule that says `tcp dport { 22, 80 }` refers to a set
 *    the kernel named __set0, and another kernel may name it __set3. The
 *    reference is replaced by the set's own canonical content (definition
 *    without its name, elements sorted by key), so equal rules have equal
 *    keys wherever they were loaded.
 *
 * The output is a private encoding (16-bit type, 32-bit length, payload), not
 * netlink: a folded set can be larger than a netlink attribute. Elements are
 * compared as a set (sorted by key): a hash set's dump order depends on a
 * per-set random seed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "canon.h"
#include "macro.h"

/* Types of our own, outside the 14 bits netlink types can have. */
#define CANON_ATTR_ANON_SET     0xffff
#define CANON_ATTR_ELEM_FLAGS   0xfffe
#define CANON_ATTR_SET_DEF      0xfffd
#define CANON_ATTR_ELEM         0xfffc

typedef struct Buf {
        uint8_t *data;
        size_t len, cap;
        int error;              /* the first failure; later writes are dropped */
} Buf;

typedef struct Canon {
        const RsTable *table;   /* whose anonymous sets a rule may use; NULL: none */
        unsigned flags;
        char *scratch;          /* RS_MSG_BUFSIZE, all zero between uses: the object's built message */
        char *spare;            /* the same, for the anonymous sets of a rule */
        Buf out;
} Canon;

static void canon_done(Canon *c) {
        free(c->scratch);
        free(c->spare);
        free(c->out.data);
}

static int canon_init(Canon *c, const RsTable *t, unsigned flags) {
        *c = (Canon) { .table = t, .flags = flags, .scratch = calloc(1, RS_MSG_BUFSIZE) };
        return c->scratch ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------ keys */

void canon_key_done(CanonKey *k) {
        free(k->data);
        *k = (CanonKey) {};
}

int canon_key_cmp(const CanonKey *a, const CanonKey *b) {
        int r = memcmp(a->data, b->data, MIN(a->len, b->len));

        if (r != 0)
                return r;
        return a->len < b->len ? -1 : a->len > b->len;
}

bool canon_key_equal(const CanonKey *a, const CanonKey *b) {
        if (!a || !b)
                return a == b;
        return a->len == b->len && memcmp_safe(a->data, b->data, a->len) == 0;
}

static void *buf_grow(Buf *b, size_t n) {
        if (b->error)
                return NULL;
        if (b->len + n > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + n + 256);
                uint8_t *d = realloc(b->data, cap);
                if (!d) {
                        b->error = -ENOMEM;
                        return NULL;
                }
                b->data = d;
                b->cap = cap;
        }
        b->len += n;
        return b->data + b->len - n;
}

static void put_bytes(Buf *b, const void *p, size_t n) {
        void *d = buf_grow(b, n);

        if (d && n > 0)
                memcpy(d, p, n);
}

static size_t nest_begin(Buf *b, uint16_t type) {
        uint32_t len = 0;

        put_bytes(b, &type, sizeof(type));
        put_bytes(b, &len, sizeof(len));
        return b->len;
}

static void nest_end(Buf *b, size_t at) {
        uint32_t len = (uint32_t) (b->len - at);

        if (!b->error)
                memcpy(b->data + at - sizeof(len), &len, sizeof(len));
}

static void put_attr(Buf *b, uint16_t type, const void *p, size_t n) {
        size_t at = nest_begin(b, type);

        put_bytes(b, p, n);
        nest_end(b, at);
}

static void copy_attr(Canon *c, const struct nlattr *a) {
        put_attr(&c->out, mnl_attr_get_type(a), mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
}

/* Hand the bytes written so far over as a key, and start again. */
static int take_key(Canon *c, CanonKey *ret) {
        int r = c->out.error;

        if (r < 0) {
                free(c->out.data);
                c->out = (Buf) {};
                return r;
        }
        *ret = (CanonKey) { .data = c->out.data, .len = c->out.len };
        c->out = (Buf) {};
        return 0;
}

/* ------------------------------------------------------------------ walking the payload */

typedef enum Action {
        ACT_STATE,              /* zero unless CANON_COUNTERS */
        ACT_QUOTA_FLAGS,        /* "depleted" is state */
        ACT_SET_NAME,           /* fold an anonymous set */
        ACT_EXPR,
        ACT_EXPR_LIST,
} Action;

/* Counter and quota objects carry the same attributes as the expressions. */
static const struct {
        const char *expr;
        uint16_t attr;
        Action action;
} expr_attrs[] = {
        { "counter", NFTA_COUNTER_BYTES, ACT_STATE },
        { "counter", NFTA_COUNTER_PACKETS, ACT_STATE },
        { "quota", NFTA_QUOTA_CONSUMED, ACT_STATE },
        { "quota", NFTA_QUOTA_FLAGS, ACT_QUOTA_FLAGS },
        { "last", NFTA_LAST_SET, ACT_STATE },
        { "last", NFTA_LAST_MSECS, ACT_STATE },
        { "lookup", NFTA_LOOKUP_SET, ACT_SET_NAME },
        { "dynset", NFTA_DYNSET_SET_NAME, ACT_SET_NAME },
        { "objref", NFTA_OBJREF_SET_NAME, ACT_SET_NAME },
        { "dynset", NFTA_DYNSET_EXPR, ACT_EXPR },
        { "dynset", NFTA_DYNSET_EXPRESSIONS, ACT_EXPR_LIST },
};

static void walk_expr(Canon *c, const struct nlattr *nest);
static void fold_set_ref(Canon *c, const struct nlattr *a);

static void put_state(Canon *c, const struct nlattr *a) {
        uint16_t len = mnl_attr_get_payload_len(a);
        size_t at;
        void *d;

        if (c->flags & CANON_COUNTERS) {
                copy_attr(c, a);
                return;
        }
        at = nest_begin(&c->out, mnl_attr_get_type(a));
        d = buf_grow(&c->out, len);
        if (d)
                memset(d, 0, len);
        nest_end(&c->out, at);
}

static void walk_expr_list(Canon *c, const struct nlattr *list) {
        size_t at = nest_begin(&c->out, mnl_attr_get_type(list));
        const struct nlattr *e;

        mnl_attr_for_each_nested(e, list)
                walk_expr(c, e);
        nest_end(&c->out, at);
}

/* The data of expression (or object kind) @expr. */
static void walk_data(Canon *c, const char *expr, const struct nlattr *data) {
        size_t at = nest_begin(&c->out, mnl_attr_get_type(data));
        const struct nlattr *a;

        mnl_attr_for_each_nested(a, data) {
                uint16_t type = mnl_attr_get_type(a);
                size_t i;

                for (i = 0; i < ELEMENTSOF(expr_attrs); i++)
                        if (expr_attrs[i].attr == type && streq(expr_attrs[i].expr, expr))
                                break;
                if (i == ELEMENTSOF(expr_attrs)) {
                        copy_attr(c, a);
                        continue;
                }
                switch (expr_attrs[i].action) {
                case ACT_STATE:
                        put_state(c, a);
                        break;
                case ACT_QUOTA_FLAGS:
                        if (!(c->flags & CANON_COUNTERS) && mnl_attr_get_payload_len(a) == sizeof(uint32_t)) {
                                uint32_t flags = htonl(ntohl(mnl_attr_get_u32(a)) & ~(uint32_t) NFT_QUOTA_F_DEPLETED);
                                put_attr(&c->out, type, &flags, sizeof(flags));
                        } else
                                copy_attr(c, a);
                        break;
                case ACT_SET_NAME:
                        fold_set_ref(c, a);
                        break;
                case ACT_EXPR:
                        walk_expr(c, a);
                        break;
                case ACT_EXPR_LIST:
                        walk_expr_list(c, a);
                        break;
                }
        }
        nest_end(&c->out, at);
}

static void walk_expr(Canon *c, const struct nlattr *nest) {
        const struct nlattr *a;
        const char *name = "";
        size_t at;

        mnl_attr_for_each_nested(a, nest)
                if (mnl_attr_get_type(a) == NFTA_EXPR_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                        name = mnl_attr_get_str(a);
        at = nest_begin(&c->out, mnl_attr_get_type(nest));
        mnl_attr_for_each_nested(a, nest) {
                if (mnl_attr_get_type(a) == NFTA_EXPR_DATA)
                        walk_data(c, name, a);
                else
                        copy_attr(c, a);
        }
        nest_end(&c->out, at);
}

static struct nlmsghdr *scratch_msg(char *scratch, uint16_t type) {
        return nftnl_nlmsg_build_hdr(scratch, type, NFPROTO_UNSPEC, 0, 0);
}

/* libmnl 1.0.4 does not clear the padding after an attribute, and nested
 * payloads are copied with their inner padding: whatever an earlier message
 * left there would end up in the key. The scratch buffer starts zeroed and is
 * zeroed again after each use, so padding is always zero. */
static int scratch_done(Canon *c, struct nlmsghdr *nlh, CanonKey *ret) {
        memset(nlh, 0, MIN(nlh->nlmsg_len, RS_MSG_BUFSIZE));
        return take_key(c, ret);
}

/* ------------------------------------------------------------------ one key per kind */

static int key_table(Canon *c, const struct nftnl_table *t, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWTABLE);
        const struct nlattr *a;

        nftnl_table_nlmsg_build_payload(nlh, t);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                copy_attr(c, a);
        return scratch_done(c, nlh, ret);
}

static int key_chain(Canon *c, const struct nftnl_chain *ch, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWCHAIN);
        const struct nlattr *a;

        nftnl_chain_nlmsg_build_payload(nlh, ch);
        /* A base chain's counters are all state: whether the kernel keeps
         * them at all depends on who created the chain (iptables-nft asks
         * for them, nft does not). */
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                if (mnl_attr_get_type(a) != NFTA_CHAIN_COUNTERS || (c->flags & CANON_COUNTERS))
                        copy_attr(c, a);
        return scratch_done(c, nlh, ret);
}

static const char *obj_kind(uint32_t type) {
        switch (type) {
        case NFT_OBJECT_COUNTER:
                return "counter";
        case NFT_OBJECT_QUOTA:
                return "quota";
        default:
                return "";
        }
}

static int key_obj(Canon *c, const struct nftnl_obj *o, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWOBJ);
        const char *kind = obj_kind(nftnl_obj_get_u32((struct nftnl_obj *) o, NFTNL_OBJ_TYPE));
        const struct nlattr *a;

        nftnl_obj_nlmsg_build_payload(nlh, (struct nftnl_obj *) o);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                if (mnl_attr_get_type(a) == NFTA_OBJ_DATA)
                        walk_data(c, kind, a);
                else
                        copy_attr(c, a);
        }
        return scratch_done(c, nlh, ret);
}

static int key_flowtable(Canon *c, const struct nftnl_flowtable *f, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWFLOWTABLE);
        const struct nlattr *a;

        nftnl_flowtable_nlmsg_build_payload(nlh, f);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
                copy_attr(c, a);
        return scratch_done(c, nlh, ret);
}

/* An anonymous set's name and table say nothing about it. */
static int key_set(Canon *c, const struct nftnl_set *s, bool anonymous, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWSET);
        const struct nlattr *a;

        nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *) s);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                uint16_t type = mnl_attr_get_type(a);

                if (anonymous && (type == NFTA_SET_NAME || type == NFTA_SET_TABLE))
                        continue;
                if (type == NFTA_SET_EXPR)
                        walk_expr(c, a);
                else if (type == NFTA_SET_EXPRESSIONS)
                        walk_expr_list(c, a);
                else
                        copy_attr(c, a);
        }
        return scratch_done(c, nlh, ret);
}

static int key_elem(Canon *c, const struct nftnl_set_elem *e, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWSETELEM);
        const struct nlattr *a;

        nftnl_set_elem_nlmsg_build_payload(nlh, (struct nftnl_set_elem *) e);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                uint16_t type = mnl_attr_get_type(a);

                if (type == NFTA_SET_ELEM_KEY || type == NFTA_SET_ELEM_KEY_END)
                        copy_attr(c, a);
                else if (type == NFTA_SET_ELEM_FLAGS && mnl_attr_get_payload_len(a) == sizeof(uint32_t)) {
                        uint32_t id = ntohl(mnl_attr_get_u32(a)) & (NFT_SET_ELEM_INTERVAL_END | NFT_SET_ELEM_CATCHALL);
                        put_attr(&c->out, CANON_ATTR_ELEM_FLAGS, &id, sizeof(id));
                }
        }
        return scratch_done(c, nlh, ret);
}

static int key_elem_content(Canon *c, const struct nftnl_set_elem *e, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWSETELEM);
        const struct nlattr *a;

        nftnl_set_elem_nlmsg_build_payload(nlh, (struct nftnl_set_elem *) e);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                uint16_t type = mnl_attr_get_type(a);

                if (type == NFTA_SET_ELEM_KEY || type == NFTA_SET_ELEM_KEY_END)
                        continue;
                if (type == NFTA_SET_ELEM_EXPIRATION && !(c->flags & CANON_COUNTERS))
                        continue;
                if (type == NFTA_SET_ELEM_EXPR)
                        walk_expr(c, a);
                else if (type == NFTA_SET_ELEM_EXPRESSIONS)
                        walk_expr_list(c, a);
                else
                        copy_attr(c, a);
        }
        return scratch_done(c, nlh, ret);
}

static int key_rule(Canon *c, const struct nftnl_rule *r, CanonKey *ret) {
        struct nlmsghdr *nlh = scratch_msg(c->scratch, NFT_MSG_NEWRULE);
        const struct nlattr *a;

        nftnl_rule_nlmsg_build_payload(nlh, (struct nftnl_rule *) r);
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                if (mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS)
                        walk_expr_list(c, a);
                else
                        copy_attr(c, a);
        }
        return scratch_done(c, nlh, ret);
}

/* ------------------------------------------------------------------ anonymous sets */

bool canon_set_is_anonymous(const struct nftnl_set *s) {
        return nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
               (nftnl_set_get_u32((struct nftnl_set *) s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS);
}

static int elem_by_key(const void *a, const void *b) {
        const CanonElem *x = *(const CanonElem *const *) a, *y = *(const CanonElem *const *) b;

        return canon_key_cmp(&x->key, &y->key);
}

static void elems_free(CanonElem *elems, size_t n) {
        for (size_t i = 0; elems && i < n; i++) {
                canon_key_done(&elems[i].key);
                canon_key_done(&elems[i].content);
        }
        free(elems);
}

static size_t set_elem_count(const struct nftnl_set *s) {
        struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
        size_t n = 0;

        if (!it)
                return 0;
        while (nftnl_set_elems_iter_next(it))
                n++;
        nftnl_set_elems_iter_destroy(it);
        return n;
}

/* The elements of @s with their keys, in the set's order, and sorted by key. */
static int build_elems(Canon *c, const struct nftnl_set *s, CanonElem **ret, CanonElem ***ret_by_key, size_t *ret_n) {
        size_t n = set_elem_count(s), i = 0;
        CanonElem *elems = calloc(n + 1, sizeof(*elems));
        _cleanup_free_ CanonElem **by_key = calloc(n + 1, sizeof(*by_key));
        struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
        struct nftnl_set_elem *e;
        int r = 0;

        if (!elems || !by_key || !it) {
                r = -ENOMEM;
                goto out;
        }
        while (r >= 0 && i < n && (e = nftnl_set_elems_iter_next(it))) {
                elems[i].elem = e;
                r = key_elem(c, e, &elems[i].key);
                if (r >= 0)
                        r = key_elem_content(c, e, &elems[i].content);
                by_key[i] = &elems[i];
                i++;
        }
        if (r < 0)
                goto out;
        qsort(by_key, n, sizeof(*by_key), elem_by_key);
        for (i = 1; i < n; i++)
                if (canon_key_equal(&by_key[i - 1]->key, &by_key[i]->key)) {
                        r = -EBADMSG;
                        goto out;
                }
        *ret = TAKE_PTR(elems);
        *ret_by_key = TAKE_PTR(by_key);
        *ret_n = n;
out:
        if (it)
                nftnl_set_elems_iter_destroy(it);
        elems_free(elems, n);
        return r;
}

/* Replace the name of an anonymous set by what it is: definition and
 * elements in key order. */
static void fold_set_ref(Canon *c, const struct nlattr *a) {
        const struct nftnl_set *s = NULL;
        _cleanup_free_ CanonElem **by_key = NULL;
        CanonElem *elems = NULL;
        CanonKey def = {};
        Canon sub;
        size_t n = 0, at;
        int r;

        if (c->table && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                s = rstable_find_set(c->table, mnl_attr_get_str(a));
        if (!s || !canon_set_is_anonymous(s)) {
                copy_attr(c, a);
                return;
        }
        if (!c->spare && !(c->spare = calloc(1, RS_MSG_BUFSIZE))) {
                c->out.error = -ENOMEM;
                return;
        }
        sub = (Canon) { .flags = c->flags, .scratch = c->spare };
        r = key_set(&sub, s, true, &def);
        if (r >= 0)
                r = build_elems(&sub, s, &elems, &by_key, &n);
        if (r < 0) {
                c->out.error = r;
                canon_key_done(&def);
                return;
        }
        at = nest_begin(&c->out, CANON_ATTR_ANON_SET);
        put_attr(&c->out, CANON_ATTR_SET_DEF, def.data, def.len);
        for (size_t i = 0; i < n; i++) {
                size_t e = nest_begin(&c->out, CANON_ATTR_ELEM);
                put_attr(&c->out, NFTA_SET_ELEM_KEY, by_key[i]->key.data, by_key[i]->key.len);
                put_attr(&c->out, NFTA_SET_ELEM_DATA, by_key[i]->content.data, by_key[i]->content.len);
                nest_end(&c->out, e);
        }
        nest_end(&c->out, at);
        canon_key_done(&def);
        elems_free(elems, n);
}

/* ------------------------------------------------------------------ public single keys */

#define DEFINE_KEY_FUNC(fn, type, build, table)                                        \
        int fn(type obj, unsigned flags, CanonKey *ret) {                              \
                Canon c;                                                               \
                int r = canon_init(&c, table, flags);                                  \
                if (r >= 0)                                                            \
                        r = build(&c, obj, ret);                                       \
                canon_done(&c);                                                        \
                return r;                                                              \
        }

DEFINE_KEY_FUNC(canon_key_table, const struct nftnl_table *, key_table, NULL)
DEFINE_KEY_FUNC(canon_key_chain, const struct nftnl_chain *, key_chain, NULL)
DEFINE_KEY_FUNC(canon_key_obj, const struct nftnl_obj *, key_obj, NULL)
DEFINE_KEY_FUNC(canon_key_flowtable, const struct nftnl_flowtable *, key_flowtable, NULL)
DEFINE_KEY_FUNC(canon_key_elem_content, const struct nftnl_set_elem *, key_elem_content, NULL)

int canon_key_set(const struct nftnl_set *s, unsigned flags, CanonKey *ret) {
        Canon c;
        int r = canon_init(&c, NULL, flags);

        if (r >= 0)
                r = key_set(&c, s, false, ret);
        canon_done(&c);
        return r;
}

int canon_key_elem(const struct nftnl_set_elem *e, CanonKey *ret) {
        Canon c;
        int r = canon_init(&c, NULL, 0);

        if (r >= 0)
                r = key_elem(&c, e, ret);
        canon_done(&c);
        return r;
}

int canon_key_rule(const RsTable *t, const struct nftnl_rule *rule, unsigned flags, CanonKey *ret) {
        Canon c;
        int r = canon_init(&c, t, flags);

        if (r >= 0)
                r = key_rule(&c, rule, ret);
        canon_done(&c);
        return r;
}

/* ------------------------------------------------------------------ the indexed table */

static int item_by_name(const void *a, const void *b) {
        const CanonItem *x = a, *y = b;

        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* CanonChain and CanonSet start with their CanonItem. */
static int chain_by_name(const void *a, const void *b) { return item_by_name(&((const CanonChain *) a)->item, &((const CanonChain *) b)->item); }
static int set_by_name(const void *a, const void *b) { return item_by_name(&((const CanonSet *) a)->item, &((const CanonSet *) b)->item); }

CanonTable *canon_table_free(CanonTable *ct) {
        if (!ct)
                return NULL;
        canon_key_done(&ct->key);
        for (size_t i = 0; i < ct->n_chains; i++) {
                canon_key_done(&ct->chains[i].item.key);
                for (size_t j = 0; j < ct->chains[i].n_rules; j++)
                        canon_key_done(&ct->chains[i].rules[j].key);
                free(ct->chains[i].rules);
        }
        free(ct->chains);
        for (size_t i = 0; i < ct->n_sets; i++) {
                canon_key_done(&ct->sets[i].item.key);
                elems_free(ct->sets[i].elems, ct->sets[i].n_elems);
                free(ct->sets[i].by_key);
        }
        free(ct->sets);
        for (size_t i = 0; i < ct->n_objs; i++)
                canon_key_done(&ct->objs[i].key);
        free(ct->objs);
        for (size_t i = 0; i < ct->n_flowtables; i++)
                canon_key_done(&ct->flowtables[i].key);
        free(ct->flowtables);
        free(ct);
        return NULL;
}

static int index_chains(Canon *c, CanonTable *ct) {
        const RsTable *t = ct->table;
        int r;

        ct->chains = calloc(t->chains.n + 1, sizeof(*ct->chains));
        if (!ct->chains)
                return -ENOMEM;
        for (size_t i = 0; i < t->chains.n; i++) {
                CanonChain *ch = &ct->chains[ct->n_chains++];

                ch->item.obj = t->chains.items[i];
                ch->item.name = nftnl_chain_get_str(ch->item.obj, NFTNL_CHAIN_NAME);
                r = key_chain(c, ch->item.obj, &ch->item.key);
                if (r < 0)
                        return r;
        }
        qsort(ct->chains, ct->n_chains, sizeof(*ct->chains), chain_by_name);

        /* Rules of one chain keep their order, wherever they are in the table's list. */
        _cleanup_free_ CanonChain **owner = calloc(t->rules.n + 1, sizeof(*owner));
        if (!owner)
                return -ENOMEM;
        for (size_t i = 0; i < t->rules.n; i++) {
                owner[i] = (CanonChain *) canon_table_chain(ct, nftnl_rule_get_str(t->rules.items[i], NFTNL_RULE_CHAIN));
                if (!owner[i])
                        return -EBADMSG;
                owner[i]->n_rules++;
        }
        for (size_t i = 0; i < ct->n_chains; i++) {
                ct->chains[i].rules = calloc(ct->chains[i].n_rules + 1, sizeof(CanonRule));
                if (!ct->chains[i].rules)
                        return -ENOMEM;
                ct->chains[i].n_rules = 0;
        }
        for (size_t i = 0; i < t->rules.n; i++) {
                CanonRule *cr = &owner[i]->rules[owner[i]->n_rules];

                cr->rule = t->rules.items[i];
                cr->pos = owner[i]->n_rules++;
                r = key_rule(c, cr->rule, &cr->key);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int index_sets(Canon *c, CanonTable *ct) {
        const RsTable *t = ct->table;
        int r;

        ct->sets = calloc(t->sets.n + 1, sizeof(*ct->sets));
        if (!ct->sets)
                return -ENOMEM;
        for (size_t i = 0; i < t->sets.n; i++) {
                CanonSet *cs;

                if (canon_set_is_anonymous(t->sets.items[i]))
                        continue;
                cs = &ct->sets[ct->n_sets++];
                cs->item.obj = t->sets.items[i];
                cs->item.name = nftnl_set_get_str(cs->item.obj, NFTNL_SET_NAME);
                r = key_set(c, cs->item.obj, false, &cs->item.key);
                if (r < 0)
                        return r;
                r = build_elems(c, cs->item.obj, &cs->elems, &cs->by_key, &cs->n_elems);
                if (r < 0)
                        return r;
        }
        qsort(ct->sets, ct->n_sets, sizeof(*ct->sets), set_by_name);
        return 0;
}

static int index_objs(Canon *c, CanonTable *ct) {
        const RsTable *t = ct->table;
        int r;

        ct->objs = calloc(t->objs.n + 1, sizeof(*ct->objs));
        if (!ct->objs)
                return -ENOMEM;
        for (size_t i = 0; i < t->objs.n; i++) {
                CanonItem *it = &ct->objs[ct->n_objs++];

                it->obj = t->objs.items[i];
                it->name = nftnl_obj_get_str(it->obj, NFTNL_OBJ_NAME);
                it->type = nftnl_obj_get_u32(it->obj, NFTNL_OBJ_TYPE);
                r = key_obj(c, it->obj, &it->key);
                if (r < 0)
                        return r;
        }
        qsort(ct->objs, ct->n_objs, sizeof(*ct->objs), item_by_name);

        ct->flowtables = calloc(t->flowtables.n + 1, sizeof(*ct->flowtables));
        if (!ct->flowtables)
                return -ENOMEM;
        for (size_t i = 0; i < t->flowtables.n; i++) {
                CanonItem *it = &ct->flowtables[ct->n_flowtables++];

                it->obj = t->flowtables.items[i];
                it->name = nftnl_flowtable_get_str(it->obj, NFTNL_FLOWTABLE_NAME);
                r = key_flowtable(c, it->obj, &it->key);
                if (r < 0)
                        return r;
        }
        qsort(ct->flowtables, ct->n_flowtables, sizeof(*ct->flowtables), item_by_name);
        return 0;
}

int canon_table_new(const RsTable *t, unsigned flags, CanonTable **ret) {
        _cleanup_(canon_table_freep) CanonTable *ct = NULL;
        Canon c;
        int r;

        ct = calloc(1, sizeof(*ct));
        if (!ct)
                return -ENOMEM;
        ct->table = t;
        ct->flags = flags;
        r = canon_init(&c, t, flags);
        if (r >= 0)
                r = key_table(&c, t->table, &ct->key);
        if (r >= 0)
                r = index_chains(&c, ct);
        if (r >= 0)
                r = index_sets(&c, ct);
        if (r >= 0)
                r = index_objs(&c, ct);
        canon_done(&c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ct);
        return 0;
}

/* ------------------------------------------------------------------ lookups and equality */

const CanonChain *canon_table_chain(const CanonTable *ct, const char *name) {
        CanonChain k = { .item.name = name };

        return ct ? bsearch(&k, ct->chains, ct->n_chains, sizeof(k), chain_by_name) : NULL;
}

const CanonSet *canon_table_set(const CanonTable *ct, const char *name) {
        CanonSet k = { .item.name = name };

        return ct ? bsearch(&k, ct->sets, ct->n_sets, sizeof(k), set_by_name) : NULL;
}

const CanonItem *canon_table_obj(const CanonTable *ct, uint32_t type, const char *name) {
        CanonItem k = { .name = name, .type = type };

        return ct ? bsearch(&k, ct->objs, ct->n_objs, sizeof(k), item_by_name) : NULL;
}

const CanonItem *canon_table_flowtable(const CanonTable *ct, const char *name) {
        CanonItem k = { .name = name };

        return ct ? bsearch(&k, ct->flowtables, ct->n_flowtables, sizeof(k), item_by_name) : NULL;
}

const CanonElem *canon_set_elem(const CanonSet *cs, const CanonKey *key) {
        CanonElem k = { .key = *key }, *kp = &k, **found;

        if (!cs)
                return NULL;
        found = bsearch(&kp, cs->by_key, cs->n_elems, sizeof(kp), elem_by_key);
        return found ? *found : NULL;
}

static bool items_equal(const CanonItem *a, const CanonItem *b) {
        return a->type == b->type && streq(a->name, b->name) && canon_key_equal(&a->key, &b->key);
}

bool canon_chain_equal(const CanonChain *a, const CanonChain *b) {
        if (!a || !b)
                return a == b;
        if (!items_equal(&a->item, &b->item) || a->n_rules != b->n_rules)
                return false;
        for (size_t i = 0; i < a->n_rules; i++)
                if (!canon_key_equal(&a->rules[i].key, &b->rules[i].key))
                        return false;
        return true;
}

bool canon_set_equal(const CanonSet *a, const CanonSet *b) {
        if (!a || !b)
                return a == b;
        if (!items_equal(&a->item, &b->item) || a->n_elems != b->n_elems)
                return false;
        for (size_t i = 0; i < a->n_elems; i++)
                if (!canon_key_equal(&a->by_key[i]->key, &b->by_key[i]->key) ||
                    !canon_key_equal(&a->by_key[i]->content, &b->by_key[i]->content))
                        return false;
        return true;
}

bool canon_table_equal(const CanonTable *a, const CanonTable *b) {
        if (!a || !b)
                return a == b;
        if (!canon_key_equal(&a->key, &b->key) ||
            a->n_chains != b->n_chains || a->n_sets != b->n_sets ||
            a->n_objs != b->n_objs || a->n_flowtables != b->n_flowtables)
                return false;
        for (size_t i = 0; i < a->n_chains; i++)
                if (!canon_chain_equal(&a->chains[i], &b->chains[i]))
                        return false;
        for (size_t i = 0; i < a->n_sets; i++)
                if (!canon_set_equal(&a->sets[i], &b->sets[i]))
                        return false;
        for (size_t i = 0; i < a->n_objs; i++)
                if (!items_equal(&a->objs[i], &b->objs[i]))
                        return false;
        for (size_t i = 0; i < a->n_flowtables; i++)
                if (!items_equal(&a->flowtables[i], &b->flowtables[i]))
                        return false;
        return true;
}

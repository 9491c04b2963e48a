/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-merge.c — the three-way merge on constructed tables: where theirs'
 * rules go, what conflicts, containers created or deleted on one side,
 * elements by key, references, anonymous sets, absent tables and errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "merge.h"
#include "model.h"

#define GUARD "rule in tcp 22 accept comment guard\n"

static Ruleset *maybe_model(const char *text) {
        return text ? model(text) : NULL;
}

static void print_diff(const RsTable *got, const RsTable *want) {
        _cleanup_(diff_freep) Diff *d = NULL;

        if (diff_tables(want, got, 0, &d) < 0)
                return;
        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *s = NULL;
                if (diff_entry_describe(&d->entries[i], &s) == 0)
                        fprintf(stderr, "  want → got: %s\n", s);
        }
}

/* Merge and compare with @want (NULL: the table must be absent); @kinds are
 * the kinds of the conflicts, in order, ending with -1. */
static void expect(const char *name, const char *base, const char *ours, const char *theirs,
                   const char *want, unsigned flags, const int *kinds) {
        _cleanup_(ruleset_freep) Ruleset *b = maybe_model(base), *o = maybe_model(ours), *t = maybe_model(theirs);
        _cleanup_(ruleset_freep) Ruleset *w = maybe_model(want), *into = NULL;
        MergeConflicts c = {};
        RsTable *target = (RsTable *) 1;
        size_t n = 0;
        int r;

        CHECK(ruleset_new(&into) == 0, "ruleset_new");
        r = merge_three_way(model_table(b), model_table(o), model_table(t), into, &target, &c);
        CHECK(r == 0, "%s: merge: %d", name, r);
        for (size_t i = 0; i < c.n; i++)
                fprintf(stderr, "# %s: %s %s: %s\n", name, merge_conflict_kind_to_string(c.items[i].kind),
                        diff_object_to_string(c.items[i].object), c.items[i].text);
        if (!want)
                CHECK(!target && into->tables.n == 0, "%s: the target should be absent", name);
        else {
                CHECK(target && into->tables.n == 1 && ruleset_table(into, 0) == target, "%s: no target", name);
                r = diff_tables_equal(target, model_table(w), flags);
                if (r != 1)
                        print_diff(target, model_table(w));
                CHECK(r == 1, "%s: the target is not as expected", name);
        }
        while (kinds[n] >= 0)
                n++;
        CHECK(c.n == n, "%s: %zu conflicts, expected %zu", name, c.n, n);
        for (size_t i = 0; i < n; i++) {
                CHECK((int) c.items[i].kind == kinds[i], "%s: conflict %zu is %s", name, i,
                      merge_conflict_kind_to_string(c.items[i].kind));
                /* "inet t chain x": the text names the table and the object. */
                const char *object = strchr(c.items[i].where + strlen("inet t"), ' ');
                CHECK(strncmp(c.items[i].where, "inet t", 6) == 0 && strncmp(c.items[i].text, "table inet t: ", 14) == 0 &&
                      (!object || strstr(c.items[i].text, object + 1)),
                      "%s: conflict %zu: where '%s' does not fit '%s'", name, i, c.items[i].where, c.items[i].text);
        }
        merge_conflicts_clear(&c);
}

static const int none[] = { -1 };
static const int both[] = { MERGE_CONFLICT_BOTH_CHANGED, -1 };
static const int in_created[] = { MERGE_CONFLICT_IN_CREATED, -1 };
static const int in_deleted[] = { MERGE_CONFLICT_IN_DELETED, -1 };
static const int deleted_changed[] = { MERGE_CONFLICT_DELETED_CHANGED, -1 };
static const int reference[] = { MERGE_CONFLICT_REFERENCE, -1 };

/* ------------------------------------------------------------------ rules */

static void test_rules(void) {
        const char *t = "table t\nchain in hook\n";
        char b[512], o[512], th[512], w[512];

#define T4(B, O, TH, W) (snprintf(b, sizeof(b), "%s%s", t, B), snprintf(o, sizeof(o), "%s%s", t, O), \
                         snprintf(th, sizeof(th), "%s%s", t, TH), snprintf(w, sizeof(w), "%s%s", t, W))

        /* Nobody else: base, counters and all. */
        T4("rule in tcp 1 counter 5 accept\n",
           GUARD "rule in tcp 1 counter 9 accept\n",
           GUARD "rule in tcp 1 counter 12 accept\n",
           "rule in tcp 1 counter 5 accept\n");
        expect("nobody else", b, o, th, w, CANON_COUNTERS, none);

        /* Docker inserts at the head, before our guard, and appends. */
        T4("rule in tcp 1 accept\nrule in tcp 2 accept\n",
           GUARD "rule in tcp 1 accept\nrule in tcp 2 accept\n",
           "rule in jump in comment docker-user\n" GUARD "rule in tcp 1 accept\nrule in tcp 2 accept\nrule in tcp 9 drop\n",
           "rule in jump in comment docker-user\nrule in tcp 1 accept\nrule in tcp 2 accept\nrule in tcp 9 drop\n");
        expect("head and tail", b, o, th, w, 0, none);

        /* After the rule they followed, even if the trial deleted what came next. */
        T4("rule in tcp 1 accept\nrule in tcp 5 accept\n",
           "rule in tcp 1 accept\n",
           "rule in tcp 1 accept\nrule in tcp 9 drop\n",
           "rule in tcp 1 accept\nrule in tcp 9 drop\nrule in tcp 5 accept\n");
        expect("after the predecessor", b, o, th, w, 0, none);

        /* Their predecessor is the trial's own rule: at the tail, as in theirs. */
        T4("rule in tcp 5 accept\n",
           GUARD,
           GUARD "rule in tcp 9 drop\n",
           "rule in tcp 5 accept\nrule in tcp 9 drop\n");
        expect("tail as in theirs", b, o, th, w, 0, none);

        /* Theirs deletes a rule the trial left alone, and one the trial added. */
        T4("rule in tcp 1 accept\nrule in tcp 2 accept\nrule in tcp 3 accept\n",
           GUARD "rule in tcp 1 accept\nrule in tcp 2 accept\nrule in tcp 3 accept\nrule in tcp 4 accept\n",
           GUARD "rule in tcp 1 accept\nrule in tcp 3 accept\n",
           "rule in tcp 1 accept\nrule in tcp 3 accept\n");
        expect("deletions", b, o, th, w, 0, none);

        /* Theirs edits the rule the trial edited: base stays there, a
         * conflict; its append further down is carried. */
        T4("rule in tcp 1 accept\nrule in tcp 2 accept\nrule in tcp 3 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 drop\nrule in tcp 3 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 drop comment theirs\nrule in tcp 3 accept\nrule in tcp 4 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 accept\nrule in tcp 3 accept\nrule in tcp 4 accept\n");
        expect("edit of an edit", b, o, th, w, 0, both);

        /* Theirs deletes the rule the trial put in place of another. */
        T4("rule in tcp 1 accept\nrule in tcp 2 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 drop\n",
           "rule in tcp 1 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 accept\n");
        expect("deleted replacement", b, o, th, w, 0, both);

        /* Theirs re-adds what the trial deleted: already there, once. */
        T4("rule in tcp 1 accept\nrule in tcp 2 accept\n",
           "rule in tcp 1 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 accept\n",
           "rule in tcp 1 accept\nrule in tcp 2 accept\n");
        expect("converging", b, o, th, w, 0, none);

        /* The chain's definition: theirs' change is kept unless the trial's conflicts. */
        snprintf(b, sizeof(b), "table t\nchain in hook\nrule in tcp 1 accept\n");
        snprintf(o, sizeof(o), "table t\nchain in hook\n" GUARD "rule in tcp 1 accept\n");
        snprintf(th, sizeof(th), "table t\nchain in hook policy drop\n" GUARD "rule in tcp 1 accept\n");
        expect("chain policy", b, o, th, "table t\nchain in hook policy drop\nrule in tcp 1 accept\n", 0, none);
        snprintf(o, sizeof(o), "table t\nchain in hook prio 5\n" GUARD "rule in tcp 1 accept\n");
        snprintf(th, sizeof(th), "table t\nchain in hook prio 10\n" GUARD "rule in tcp 1 accept\n");
        expect("both change the priority", b, o, th, b, 0, both);
#undef T4
}

/* ------------------------------------------------------------------ containers */

static void test_chains(void) {
        const char *base = "table t\nchain in hook\nchain x\nrule x tcp 1 accept\nrule in jump x\n";

        expect("in a chain the trial created",
               "table t\nchain in hook\n",
               "table t\nchain in hook\nchain x\nrule x tcp 1 accept\nrule in jump x\n",
               "table t\nchain in hook\nchain x\nrule x tcp 1 accept\nrule x tcp 2 drop\nrule in jump x\n",
               "table t\nchain in hook\n", 0, in_created);
        expect("a chain the trial deleted, re-created with more",
               base,
               "table t\nchain in hook\n",
               "table t\nchain in hook\nchain x\nrule x tcp 1 accept\nrule x tcp 3 drop\n",
               base, 0, in_deleted);
        /* Theirs removed the jump too (the trial left it): only the chain stays. */
        expect("a chain the trial changed, deleted by theirs",
               base,
               "table t\nchain in hook\nchain x\nrule x tcp 1 accept\nrule x tcp 2 accept\nrule in jump x\n",
               "table t\nchain in hook\n",
               "table t\nchain in hook\nchain x\nrule x tcp 1 accept\n", 0, deleted_changed);
        expect("a chain only theirs deleted",
               base,
               "table t\nchain in hook\nchain x\nrule x tcp 1 accept\nrule in jump x\n" GUARD,
               "table t\nchain in hook\n" GUARD,
               "table t\nchain in hook\n", 0, none);
        expect("a chain only theirs created",
               "table t\nchain in hook\n",
               "table t\nchain in hook\n" GUARD,
               "table t\nchain in hook\nchain new\nrule new tcp 8 accept\n" GUARD "rule in jump new\n",
               "table t\nchain in hook\nchain new\nrule new tcp 8 accept\nrule in jump new\n", 0, none);
}

static void test_elements(void) {
        expect("bans and unbans",
               "table t\nset s\nelem s 1\nelem s 2\n",
               "table t\nset s\nelem s 1\nelem s 2\nelem s 3\n",
               "table t\nset s\nelem s 1\nelem s 3\nelem s 4\n",
               "table t\nset s\nelem s 1\nelem s 4\n", 0, none);
        expect("an element both changed",
               "table t\nset s timeout\nelem s 1 timeout 10000\n",
               "table t\nset s timeout\nelem s 1 timeout 20000\n",
               "table t\nset s timeout\nelem s 1 timeout 30000\n",
               "table t\nset s timeout\nelem s 1 timeout 10000\n", 0, both);
        expect("an element the trial deleted, changed by theirs",
               "table t\nset s timeout\nelem s 1 timeout 10000\n",
               "table t\nset s timeout\n",
               "table t\nset s timeout\nelem s 1 timeout 30000\n",
               "table t\nset s timeout\nelem s 1 timeout 10000\n", 0, in_deleted);
        expect("state of untouched elements is base's",
               "table t\nset s timeout\nelem s 1 timeout 10000 expires 9000 counter 3\nelem s 2\n",
               "table t\nset s timeout\nelem s 1 timeout 10000 expires 5000 counter 8\n",
               "table t\nset s timeout\nelem s 1 timeout 10000 expires 4000 counter 9\nelem s 5 expires 7\n",
               "table t\nset s timeout\nelem s 1 timeout 10000 expires 9000 counter 3\nelem s 2\nelem s 5 expires 7\n",
               CANON_COUNTERS, none);
        expect("elements of a set the trial redefined",
               "table t\nset s\nelem s 1\n",
               "table t\nset s timeout\nelem s 1\n",
               "table t\nset s timeout\nelem s 1\nelem s 2\n",
               "table t\nset s\nelem s 1\n", 0, both);
        expect("objects",
               "table t\ncounter a 1\ncounter b 1\n",
               "table t\ncounter a 1\ncounter b 1\ncounter c 1\n",
               "table t\ncounter b 1\ncounter c 1\ncounter d 1\n",
               "table t\ncounter b 1\ncounter d 1\n", 0, none);
}

/* ------------------------------------------------------------------ references and anonymous sets */

static void test_references(void) {
        expect("an element jumping to a chain the trial created",
               "table t\nchain in hook\nset m map\n",
               "table t\nchain in hook\nchain j\nset m map\n",
               "table t\nchain in hook\nchain j\nset m map\nelem m 1 jump j\n",
               "table t\nchain in hook\nset m map\n", 0, reference);
        expect("a set base's rule needs, deleted by theirs",
               "table t\nchain in hook\nset s\nelem s 1\nrule in tcp 0 @s accept\n",
               "table t\nchain in hook\nset s\nelem s 1\n",
               "table t\nchain in hook\n",
               "table t\nchain in hook\nset s\nelem s 1\nrule in tcp 0 @s accept\n", 0, reference);
        expect("a rule of theirs using a set of the trial",
               "table t\nchain in hook\n",
               "table t\nchain in hook\nset s\n",
               "table t\nchain in hook\nset s\nrule in tcp 0 @s drop\n",
               "table t\nchain in hook\n", 0, reference);
}

static void test_anonymous(void) {
        _cleanup_(ruleset_freep) Ruleset *b = model(
                "table t\nchain in hook\nset __set0 anon\nelem __set0 1\nrule in tcp 0 @__set0 accept\n");
        _cleanup_(ruleset_freep) Ruleset *o = model("table t\nchain in hook\n" GUARD);
        /* The kernel handed the freed name to theirs' new set. */
        _cleanup_(ruleset_freep) Ruleset *t = model(
                "table t\nchain in hook\nset __set0 anon\nelem __set0 2\n" GUARD "rule in udp 0 @__set0 accept\n");
        _cleanup_(ruleset_freep) Ruleset *w = model(
                "table t\nchain in hook\nset __set0 anon\nelem __set0 1\nset __set9 anon\nelem __set9 2\n"
                "rule in tcp 0 @__set0 accept\nrule in udp 0 @__set9 accept\n");
        _cleanup_(ruleset_freep) Ruleset *into = NULL;
        MergeConflicts c = {};
        RsTable *target;

        CHECK(ruleset_new(&into) == 0, "ruleset_new");
        CHECK(merge_three_way(model_table(b), model_table(o), model_table(t), into, &target, &c) == 0, "merge");
        CHECK(c.n == 0, "anonymous sets: %zu conflicts", c.n);
        CHECK(target->sets.n == 2, "anonymous sets: %zu sets", target->sets.n);
        CHECK(streq(nftnl_set_get_str(target->sets.items[0], NFTNL_SET_NAME), "__set0") &&
              streq(nftnl_set_get_str(target->sets.items[1], NFTNL_SET_NAME), "__set1"),
              "anonymous sets: base's keeps its name, theirs' gets a free one");
        CHECK(diff_tables_equal(target, model_table(w), 0) == 1, "anonymous sets: not the expected rules");
}

/* ------------------------------------------------------------------ tables */

static void test_tables(void) {
        const char *base = "table t\nchain in hook\nrule in tcp 1 accept\n";
        const char *ours = "table t\nchain in hook\n" GUARD "rule in tcp 1 accept\n";
        const char *more = "table t\nchain in hook\n" GUARD "rule in tcp 1 accept\nrule in tcp 2 accept\n";

        expect("absent everywhere", NULL, NULL, NULL, NULL, 0, none);
        expect("created by the trial", NULL, ours, ours, NULL, 0, none);
        expect("created by the trial, used by theirs", NULL, ours, more, NULL, 0, in_created);
        expect("created by the trial, deleted by theirs", NULL, ours, NULL, NULL, 0, none);
        expect("deleted by the trial", base, NULL, NULL, base, 0, none);
        expect("deleted by the trial, re-created by theirs", base, NULL, "table t\nchain in hook\nrule in tcp 1 accept\nrule in tcp 5 drop\n",
               base, 0, in_deleted);
        expect("deleted by theirs, untouched by the trial", base, base, NULL, NULL, 0, none);
        expect("deleted by theirs, changed by the trial", base, ours, NULL, base, 0, deleted_changed);
        expect("created by theirs", NULL, NULL, base, base, 0, none);
        expect("comment changed by theirs", base, ours, "table t comment x\nchain in hook\n" GUARD "rule in tcp 1 accept\n",
               "table t comment x\nchain in hook\nrule in tcp 1 accept\n", 0, none);
}

static void test_errors(void) {
        _cleanup_(ruleset_freep) Ruleset *a = model("table a\n"), *b = model("table b\n"), *into = NULL;
        MergeConflicts c = {};
        RsTable *target = NULL;

        CHECK(ruleset_new(&into) == 0, "ruleset_new");
        CHECK(merge_three_way(model_table(a), model_table(b), NULL, into, &target, &c) == -EINVAL,
              "two tables merged");
        CHECK(merge_three_way(model_table(a), model_table(a), model_table(a), into, &target, &c) == 0 && target,
              "merge");
        CHECK(merge_three_way(model_table(a), model_table(a), model_table(a), into, &target, &c) == -EEXIST &&
              into->tables.n == 1, "a table merged twice into one ruleset");

        /* Conflicts of several tables accumulate. */
        _cleanup_(ruleset_freep) Ruleset *o = model("table b\nchain x\n"), *t = model("table b\nchain x\nrule x tcp 1 accept\n");
        _cleanup_(ruleset_freep) Ruleset *o2 = model("table c\nchain y\n"), *t2 = model("table c\nchain y\nrule y tcp 1 accept\n");
        CHECK(merge_three_way(NULL, model_table(o), model_table(t), into, &target, &c) == 0 && !target && c.n == 1,
              "first conflicts");
        CHECK(merge_three_way(NULL, model_table(o2), model_table(t2), into, &target, &c) == 0 && !target && c.n == 2,
              "conflicts accumulate");
        CHECK(strstr(c.items[0].where, "inet b") && strstr(c.items[1].where, "inet c"), "where: %s, %s",
              c.items[0].where, c.items[1].where);
        merge_conflicts_clear(&c);
        CHECK(c.n == 0 && !c.items, "merge_conflicts_clear");
        CHECK(streq(merge_conflict_kind_to_string(MERGE_CONFLICT_REFERENCE), "reference") &&
              !merge_conflict_kind_to_string(_MERGE_CONFLICT_KIND_MAX), "kind names");
}

int main(void) {
        test_rules();
        test_chains();
        test_elements();
        test_references();
        test_anonymous();
        test_tables();
        test_errors();
        printf("ok\n");
        return 0;
}

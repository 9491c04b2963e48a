/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-diff.c — the rule LCS against a textbook one, equality with and without
 * state, and the object-level difference, on models built from messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "diff.h"
#include "model.h"

/* ------------------------------------------------------------------ LCS */

static size_t lcs_length(const uint32_t *a, size_t n, const uint32_t *b, size_t m) {
        _cleanup_free_ size_t *t = calloc((n + 1) * (m + 1), sizeof(size_t));

        CHECK(t, "calloc");
        for (size_t i = n; i-- > 0;)
                for (size_t j = m; j-- > 0;)
                        t[i * (m + 1) + j] = a[i] == b[j] ? t[(i + 1) * (m + 1) + j + 1] + 1 :
                                             MAX(t[(i + 1) * (m + 1) + j], t[i * (m + 1) + j + 1]);
        return t[0];
}

/* The matching is a common subsequence, both maps agree, and it is longest. */
static void check_lcs(const uint32_t *a, size_t n, const uint32_t *b, size_t m) {
        size_t am[64], bm[64], count = 0, next = 0;
        int r = diff_lcs(a, n, b, m, am, bm);

        CHECK(r >= 0, "diff_lcs: %d", r);
        for (size_t i = 0; i < n; i++) {
                if (am[i] == DIFF_NONE)
                        continue;
                CHECK(am[i] < m && am[i] >= next, "a[%zu] matched out of order", i);
                CHECK(a[i] == b[am[i]] && bm[am[i]] == i, "a[%zu] matched with a different b", i);
                next = am[i] + 1;
                count++;
        }
        for (size_t j = 0; j < m; j++)
                CHECK(bm[j] == DIFF_NONE || am[bm[j]] == j, "b[%zu]: maps disagree", j);
        CHECK(count == (size_t) r && count == lcs_length(a, n, b, m),
              "n=%zu m=%zu: %zu matches, the LCS has %zu", n, m, count, lcs_length(a, n, b, m));
}

static void test_lcs(void) {
        static const uint32_t head[] = { 9, 1, 2, 3 }, base[] = { 1, 2, 3 }, tail[] = { 1, 2, 3, 9 };
        static const uint32_t swapped[] = { 2, 1, 3 }, other[] = { 7, 8 };
        uint32_t a[40], b[40];
        size_t am[8], bm[8];

        check_lcs(base, 3, base, 3);
        check_lcs(base, 3, head, 4);
        check_lcs(head, 4, tail, 4);
        check_lcs(base, 3, swapped, 3);
        check_lcs(base, 3, other, 2);
        check_lcs(base, 0, base, 3);
        check_lcs(base, 3, base, 0);
        check_lcs(base, 0, base, 0);

        /* An insertion at the head leaves every old rule matched to itself. */
        CHECK(diff_lcs(base, 3, head, 4, am, bm) == 3 && bm[0] == DIFF_NONE && am[0] == 1 && am[2] == 3,
              "insertion at the head");

        /* Random sequences over small alphabets: many equal keys, many ties. */
        srand(7);
        for (int it = 0; it < 20000; it++) {
                size_t n = (size_t) rand() % 40, m = (size_t) rand() % 40;
                uint32_t k = 1 + (uint32_t) rand() % 5;

                for (size_t i = 0; i < n; i++)
                        a[i] = (uint32_t) rand() % k;
                for (size_t j = 0; j < m; j++)
                        b[j] = (uint32_t) rand() % k;
                check_lcs(a, n, b, m);
        }
}

/* A long chain with a few edits: linear space, and the edits found exactly. */
static void test_lcs_long(void) {
        enum { N = 20000 };
        _cleanup_free_ uint32_t *a = malloc(N * sizeof(uint32_t)), *b = malloc((N + 1) * sizeof(uint32_t));
        _cleanup_free_ size_t *am = malloc(N * sizeof(size_t)), *bm = malloc((N + 1) * sizeof(size_t));
        int r;

        CHECK(a && b && am && bm, "malloc");
        for (uint32_t i = 0; i < N; i++)
                a[i] = i;
        memcpy(b, a, N * sizeof(uint32_t));
        b[5000] = N + 1;        /* an edit */
        memmove(b + 10001, b + 10000, (N - 10000) * sizeof(uint32_t));
        b[10000] = N + 2;       /* an insertion */
        r = diff_lcs(a, N, b, N + 1, am, bm);
        CHECK(r == N - 1, "long chain: %d matches", r);
        CHECK(am[5000] == DIFF_NONE && bm[5000] == DIFF_NONE && bm[10000] == DIFF_NONE && am[10000] == 10001,
              "long chain: the wrong rules differ");
}

/* ------------------------------------------------------------------ equality */

static int equal(const char *x, const char *y, unsigned flags) {
        _cleanup_(ruleset_freep) Ruleset *a = model(x), *b = model(y);
        int r = diff_tables_equal(model_table(a), model_table(b), flags);

        CHECK(r >= 0, "diff_tables_equal: %d", r);
        return r;
}

static void test_equal(void) {
        const char *base =
                "table t\n"
                "counter hits 5\n"
                "chain in hook\n"
                "chain extra\n"
                "set s timeout\n"
                "elem s 22 timeout 3600000 expires 3500000 counter 4\n"
                "elem s 80\n"
                "set __set0 anon\n"
                "elem __set0 443\n"
                "elem __set0 8443\n"
                "rule in tcp 22 counter 10 accept\n"
                "rule in tcp 0 @__set0 accept\n"
                "rule in tcp 0 @s drop\n"
                "rule in jump extra\n";

        CHECK(equal(base, base, 0) == 1, "a model differs from itself");
        CHECK(equal(base, base, CANON_COUNTERS) == 1, "a model differs from itself with counters");

        /* State: counters of rules, objects and elements, and expirations. */
        const char *state =
                "table t\n"
                "counter hits 9\n"
                "chain in hook\n"
                "chain extra\n"
                "set s timeout\n"
                "elem s 22 timeout 3600000 expires 1200000 counter 7\n"
                "elem s 80\n"
                "set __set0 anon\n"
                "elem __set0 443\n"
                "elem __set0 8443\n"
                "rule in tcp 22 counter 99 accept\n"
                "rule in tcp 0 @__set0 accept\n"
                "rule in tcp 0 @s drop\n"
                "rule in jump extra\n";
        CHECK(equal(base, state, 0) == 1, "state made two models differ");
        CHECK(equal(base, state, CANON_COUNTERS) == 0, "state went unnoticed with CANON_COUNTERS");

        /* Another kernel: other names for anonymous sets, another order of
         * chains and elements (hash order): the same ruleset. */
        const char *elsewhere =
                "table t\n"
                "counter hits 5\n"
                "chain extra\n"
                "chain in hook\n"
                "set __set7 anon\n"
                "elem __set7 8443\n"
                "elem __set7 443\n"
                "set s timeout\n"
                "elem s 80\n"
                "elem s 22 timeout 3600000 expires 3500000 counter 4\n"
                "rule in tcp 22 counter 10 accept\n"
                "rule in tcp 0 @__set7 accept\n"
                "rule in tcp 0 @s drop\n"
                "rule in jump extra\n";
        CHECK(equal(base, elsewhere, CANON_COUNTERS) == 1, "anonymous set names or orders made a difference");

        /* What is not state does count. */
        static const struct { const char *from, *to, *what; } changes[] = {
                { "elem __set0 8443\n", "elem __set0 8080\n", "an anonymous set's element" },
                { "rule in tcp 22 counter 10 accept\n", "rule in tcp 23 counter 10 accept\n", "a rule" },
                { "elem s 80\n", "elem s 81\n", "a named set's element" },
                { "elem s 22 timeout 3600000", "elem s 22 timeout 60000", "an element's timeout" },
                { "chain in hook\n", "chain in hook policy drop\n", "a chain's policy" },
                { "rule in jump extra\n", "rule in jump extra comment x\n", "a rule's comment" },
                { "table t\n", "table t comment hello\n", "the table's comment" },
        };
        for (size_t i = 0; i < ELEMENTSOF(changes); i++) {
                _cleanup_free_ char *changed = NULL;
                const char *at = strstr(base, changes[i].from);

                CHECK(at, "no '%s' in the model", changes[i].from);
                CHECK(asprintf(&changed, "%.*s%s%s", (int) (at - base), base, changes[i].to,
                               at + strlen(changes[i].from)) > 0, "asprintf");
                CHECK(equal(base, changed, 0) == 0, "%s changed and nobody noticed", changes[i].what);
        }

        /* Rule order is meaning. */
        CHECK(equal("table t\nchain c\nrule c tcp 1 accept\nrule c tcp 2 drop\n",
                    "table t\nchain c\nrule c tcp 2 drop\nrule c tcp 1 accept\n", 0) == 0, "rule order ignored");

        /* Absent tables. */
        _cleanup_(ruleset_freep) Ruleset *a = model(base);
        CHECK(diff_tables_equal(NULL, NULL, 0) == 1, "two absent tables differ");
        CHECK(diff_tables_equal(model_table(a), NULL, 0) == 0, "an absent table equals a present one");
}

/* ------------------------------------------------------------------ difference */

static void test_changed_tables(void) {
        _cleanup_(ruleset_freep) Ruleset *a = model("table one\nchain c\ntable two\nchain c\ntable same\n");
        _cleanup_(ruleset_freep) Ruleset *b = model("table same\ntable one\nchain c\nrule c tcp 1 accept\ntable three\n");
        TableRef *refs = NULL;
        size_t n = 0;

        CHECK(diff_changed_tables(a, a, 0, &refs, &n) == 0 && n == 0, "a ruleset differs from itself");
        table_refs_free(refs, n);
        /* Changed and deleted in a's order, then the created ones. */
        CHECK(diff_changed_tables(a, b, 0, &refs, &n) == 0 && n == 3, "changed tables: %zu", n);
        CHECK(streq(refs[0].name, "one") && streq(refs[1].name, "two") && streq(refs[2].name, "three") &&
              refs[0].family == NFPROTO_INET, "changed, deleted and created tables");
        table_refs_free(refs, n);
}

static void expect_entry(const Diff *d, size_t i, DiffChange change, DiffObject object, const char *text) {
        _cleanup_free_ char *s = NULL;

        CHECK(i < d->n, "only %zu entries", d->n);
        CHECK(d->entries[i].change == change && d->entries[i].object == object, "entry %zu: %s %s", i,
              diff_change_to_string(d->entries[i].change), diff_object_to_string(d->entries[i].object));
        CHECK(diff_entry_describe(&d->entries[i], &s) == 0, "describe");
        CHECK(strstr(s, text), "entry %zu: '%s' lacks '%s'", i, s, text);
}

static void test_diff(void) {
        _cleanup_(ruleset_freep) Ruleset *a = model(
                "table t\n"
                "chain in hook\n"
                "chain gone\n"
                "set s\n"
                "elem s 22\n"
                "elem s 80\n"
                "set m map\n"
                "elem m 22 jump gone\n"
                "rule in tcp 22 accept\n"
                "rule in tcp 25 drop\n"
                "rule in tcp 80 counter 3 accept\n");
        _cleanup_(ruleset_freep) Ruleset *b = model(
                "table t\n"
                "chain in hook policy drop\n"
                "chain new\n"
                "set s\n"
                "elem s 22\n"
                "elem s 443\n"
                "set m map\n"
                "elem m 22 jump new\n"
                "rule in tcp 21 accept comment ftp\n"
                "rule in tcp 22 accept\n"
                "rule in tcp 80 counter 7 accept\n");
        _cleanup_(diff_freep) Diff *d = NULL;

        CHECK(diff_tables(model_table(a), model_table(b), 0, &d) == 0, "diff_tables");
        /* Chains by name, then sets, each with its rules or elements. */
        expect_entry(d, 0, DIFF_REMOVED, DIFF_CHAIN, "chain gone");
        expect_entry(d, 1, DIFF_CHANGED, DIFF_CHAIN, "chain in");
        expect_entry(d, 2, DIFF_REMOVED, DIFF_RULE, "rule #2 of chain in");
        expect_entry(d, 3, DIFF_ADDED, DIFF_RULE, "rule #1 of chain in (comment \"ftp\")");
        expect_entry(d, 4, DIFF_ADDED, DIFF_CHAIN, "chain new");
        expect_entry(d, 5, DIFF_CHANGED, DIFF_ELEM, "element 0016 : jump new of set m");
        expect_entry(d, 6, DIFF_REMOVED, DIFF_ELEM, "element 0050 of set s");
        expect_entry(d, 7, DIFF_ADDED, DIFF_ELEM, "element 01bb of set s");
        CHECK(d->n == 8, "%zu entries, expected 8", d->n);
        CHECK(d->entries[2].a_pos == 1 && d->entries[3].b_pos == 0, "rule positions");
        d = diff_free(d);

        /* With counters, the counted rule differs too. */
        CHECK(diff_tables(model_table(a), model_table(b), CANON_COUNTERS, &d) == 0 && d->n == 10,
              "with counters: %zu entries", d ? d->n : 0);
        d = diff_free(d);

        /* An absent side: everything added. */
        CHECK(diff_tables(NULL, model_table(b), 0, &d) == 0, "diff_tables from nothing");
        expect_entry(d, 0, DIFF_ADDED, DIFF_TABLE, "table t");
        /* The table, 2 chains, 3 rules, 2 sets, 3 elements. */
        CHECK(d->n == 11, "from nothing: %zu entries", d->n);
}

int main(void) {
        test_lcs();
        test_lcs_long();
        test_equal();
        test_changed_tables();
        test_diff();
        printf("ok\n");
        return 0;
}

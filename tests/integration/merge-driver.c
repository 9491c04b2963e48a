/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge-driver.c — compare, diff and merge snapshots, for tests/integration/merge.sh
 *
 *   merge-driver merge BASE OURS THEIRS OUT   three-way merge of every table, the
 *                                             target written as snapshot OUT, one
 *                                             line per table and per conflict
 *   merge-driver equal A B [counters]         exit 0 if equal, 1 if not (and which tables)
 *   merge-driver diff A B                     the object-level difference, one line each
 *
 * Needs no kernel: snapshots are read and written as files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "macro.h"
#include "merge.h"
#include "ruleset.h"
#include "snapshot.h"

static int load(const char *path, Ruleset **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char err[256] = "";
        int r;

        if (fd < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        r = snapshot_read(fd, ret, NULL, err, sizeof(err));
        if (r < 0)
                fprintf(stderr, "%s: %s\n", path, err[0] ? err : strerror(-r));
        return r;
}

/* Every table any of @rs has, once: the first one's order, then the others'. */
static bool seen_before(Ruleset *const *rs, size_t k, size_t i) {
        const RsTable *t = ruleset_table(rs[k], i);

        for (size_t p = 0; p < k; p++)
                if (rs[p] && ruleset_find_table(rs[p], t->family, t->name))
                        return true;
        return false;
}

static int do_merge(char **argv) {
        _cleanup_(ruleset_freep) Ruleset *base = NULL, *ours = NULL, *theirs = NULL, *target = NULL;
        MergeConflicts conflicts = {};
        _cleanup_close_ int fd = -1;
        int r;

        if (load(argv[0], &base) < 0 || load(argv[1], &ours) < 0 || load(argv[2], &theirs) < 0 ||
            ruleset_new(&target) < 0)
                return 2;
        Ruleset *all[3] = { base, ours, theirs };
        for (size_t k = 0; k < 3; k++)
                for (size_t i = 0; i < all[k]->tables.n; i++) {
                        const RsTable *t = ruleset_table(all[k], i);
                        RsTable *out = NULL;
                        size_t before = conflicts.n;

                        if (seen_before(all, k, i))
                                continue;
                        r = merge_three_way(ruleset_find_table(base, t->family, t->name),
                                            ruleset_find_table(ours, t->family, t->name),
                                            ruleset_find_table(theirs, t->family, t->name),
                                            target, &out, &conflicts);
                        if (r < 0) {
                                fprintf(stderr, "merge of %s %s: %s\n", family_name(t->family), t->name, strerror(-r));
                                return 2;
                        }
                        printf("table %s %s: %s, %zu conflicts\n", family_name(t->family), t->name,
                               out ? "present" : "absent", conflicts.n - before);
                }
        for (size_t i = 0; i < conflicts.n; i++)
                printf("conflict %s %s [%s]: %s\n", merge_conflict_kind_to_string(conflicts.items[i].kind),
                       diff_object_to_string(conflicts.items[i].object), conflicts.items[i].where,
                       conflicts.items[i].text);
        merge_conflicts_clear(&conflicts);
        fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || snapshot_write(fd, target, 0) < 0) {
                fprintf(stderr, "%s: cannot write\n", argv[3]);
                return 2;
        }
        return 0;
}

static int do_equal(char **argv, unsigned flags) {
        _cleanup_(ruleset_freep) Ruleset *a = NULL, *b = NULL;
        TableRef *refs = NULL;
        size_t n = 0;

        if (load(argv[0], &a) < 0 || load(argv[1], &b) < 0)
                return 2;
        if (diff_changed_tables(a, b, flags, &refs, &n) < 0)
                return 2;
        for (size_t i = 0; i < n; i++)
                printf("differs: %s %s\n", family_name(refs[i].family), refs[i].name);
        table_refs_free(refs, n);
        return n == 0 ? 0 : 1;
}

static int do_diff(char **argv) {
        _cleanup_(ruleset_freep) Ruleset *a = NULL, *b = NULL;
        Ruleset *all[2];

        if (load(argv[0], &a) < 0 || load(argv[1], &b) < 0)
                return 2;
        all[0] = a;
        all[1] = b;
        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < all[k]->tables.n; i++) {
                        const RsTable *t = ruleset_table(all[k], i);
                        _cleanup_(diff_freep) Diff *d = NULL;

                        if (seen_before(all, k, i))
                                continue;
                        if (diff_tables(ruleset_find_table(a, t->family, t->name),
                                        ruleset_find_table(b, t->family, t->name), 0, &d) < 0)
                                return 2;
                        for (size_t j = 0; j < d->n; j++) {
                                _cleanup_free_ char *s = NULL;
                                if (diff_entry_describe(&d->entries[j], &s) < 0)
                                        return 2;
                                printf("%s %s: %s\n", family_name(t->family), t->name, s);
                        }
                }
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 6 && streq(argv[1], "merge"))
                return do_merge(argv + 2);
        if ((argc == 4 || (argc == 5 && streq(argv[4], "counters"))) && streq(argv[1], "equal"))
                return do_equal(argv + 2, argc == 5 ? CANON_COUNTERS : 0);
        if (argc == 4 && streq(argv[1], "diff"))
                return do_diff(argv + 2);
        fprintf(stderr, "usage: merge-driver merge BASE OURS THEIRS OUT | equal A B [counters] | diff A B\n");
        return 2;
}

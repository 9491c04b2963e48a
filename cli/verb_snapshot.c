/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_snapshot.c — save, restore and show: the engine without a daemon */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "fileio.h"
#include "nl.h"
#include "ruleset.h"
#include "show.h"
#include "snapshot.h"

/* A concurrent writer makes the batch fail with -ERESTART; read and try again. */
#define RESTORE_ATTEMPTS 5

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

int cli_write_snapshot(int fd, void *userdata) {
        return snapshot_write(fd, userdata, now_usec(CLOCK_REALTIME));
}

static const struct option no_options[] = {
        { "help", no_argument, NULL, 'h' },
        {}
};

/* Parse options that only know --help; returns -1 to go on, else an exit code. */
static int parse_plain(int argc, char **argv, const char *usage) {
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", no_options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: fwguard %s\n", usage);
                        return EXIT_OK;
                }
                return cli_usage("%s: unknown option", argv[0]);
        }
        return -1;
}

static int dump_live(Nl **ret_nl, Ruleset **ret_rs) {
        _cleanup_(nl_freep) Nl *nl = NULL;
        int r;

        r = nl_open(&nl);
        if (r < 0)
                return cli_error("cannot open the nftables netlink socket: %s", strerror(-r));
        r = ruleset_dump(nl, ret_rs);
        if (r == -EPERM)
                return cli_error("reading the ruleset needs CAP_NET_ADMIN (run as root)");
        if (r < 0)
                return cli_error("cannot read the ruleset: %s", strerror(-r));
        if (ret_nl)
                *ret_nl = TAKE_PTR(nl);
        return EXIT_OK;
}

int verb_save(int argc, char **argv) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        const char *path;
        int r;

        r = parse_plain(argc, argv, "save [FILE|-]");
        if (r >= 0)
                return r;
        if (argc - optind > 1)
                return cli_usage("save takes at most one FILE");
        path = optind < argc ? argv[optind] : "-";
        if (streq(path, "-") && isatty(STDOUT_FILENO))
                return cli_usage("refusing to write a binary snapshot to a terminal: name a FILE");

        r = dump_live(NULL, &rs);
        if (r != EXIT_OK)
                return r;
        if (streq(path, "-"))
                r = snapshot_write(STDOUT_FILENO, rs, now_usec(CLOCK_REALTIME));
        else
                r = fileio_write_atomic(path, 0600, cli_write_snapshot, rs);
        if (r < 0)
                return cli_error("%s: cannot write the snapshot: %s", path, strerror(-r));
        return EXIT_OK;
}

static int load_snapshot(const char *path, Ruleset **ret) {
        _cleanup_close_ int fd = -1;
        char err[256] = "";
        int r;

        fd = cli_open_input(path);
        if (fd < 0)
                return cli_error("%s: %s", path, strerror(-fd));
        r = snapshot_read(fd, ret, NULL, err, sizeof(err));
        if (r == -EBADMSG)
                return cli_error("%s: %s", path, err);
        if (r < 0)
                return cli_error("%s: %s", path, strerror(-r));
        return EXIT_OK;
}

int verb_show(int argc, char **argv) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        char err[512] = "";
        int r;

        r = parse_plain(argc, argv, "show FILE|-");
        if (r >= 0)
                return r;
        if (argc - optind != 1)
                return cli_usage("show takes one FILE (or - for stdin)");
        r = load_snapshot(argv[optind], &rs);
        if (r != EXIT_OK)
                return r;
        fflush(stdout);
        r = show_ruleset(rs, STDOUT_FILENO, err, sizeof(err));
        if (r < 0)
                return cli_error("%s: cannot print the snapshot: %s", argv[optind], err);
        return EXIT_OK;
}

/* Every named table must exist in the snapshot or live, and none may be owned. */
static int check_refs(const Ruleset *snap, const Ruleset *live, const TableRef *refs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const RsTable *s = ruleset_find_table(snap, refs[i].family, refs[i].name);
                const RsTable *l = ruleset_find_table(live, refs[i].family, refs[i].name);
                const char *fam = family_name(refs[i].family);

                if (!s && !l)
                        return cli_error("table %s %s is neither in the snapshot nor live", fam, refs[i].name);
                if ((s && s->owned) || (l && l->owned))
                        return cli_error("table %s %s is owned by another process: fwguard never writes it",
                                         fam, refs[i].name);
        }
        return EXIT_OK;
}

static void report_owned(const Ruleset *snap, const TableRef *refs) {
        for (size_t i = 0; !refs && i < snap->tables.n; i++) {
                const RsTable *t = ruleset_table(snap, i);
                if (t->owned)
                        fprintf(stderr, "fwguard: table %s %s was owned by another process; not restored\n",
                                family_name(t->family), t->name);
        }
}

int verb_restore(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "tables", required_argument, NULL, 't' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *snap = NULL;
        TableRef *refs = NULL;
        size_t n_refs = 0;
        char err[512] = "";
        int c, r = EXIT_OK;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("Usage: fwguard restore FILE|- [--tables FAMILY:NAME,...]\n");
                        table_refs_free(refs, n_refs);
                        return EXIT_OK;
                case 't':
                        table_refs_free(refs, n_refs);
                        refs = NULL;
                        r = table_refs_parse(optarg, &refs, &n_refs, err, sizeof(err));
                        if (r < 0)
                                return cli_usage("--tables: %s", err);
                        break;
                default:
                        table_refs_free(refs, n_refs);
                        return cli_usage("restore: unknown option");
                }
        }
        if (argc - optind != 1) {
                table_refs_free(refs, n_refs);
                return cli_usage("restore takes one FILE (or - for stdin)");
        }

        r = load_snapshot(argv[optind], &snap);
        for (int attempt = 0; r == EXIT_OK && attempt < RESTORE_ATTEMPTS; attempt++) {
                _cleanup_(ruleset_freep) Ruleset *live = NULL;
                _cleanup_(nl_freep) Nl *nl = NULL;

                r = dump_live(&nl, &live);
                if (r == EXIT_OK && refs)
                        r = check_refs(snap, live, refs, n_refs);
                if (r != EXIT_OK)
                        break;
                int k = batch_replace_tables(nl, snap, live, refs, n_refs, live->genid, err, sizeof(err));
                if (k == -ERESTART)
                        continue;
                if (k < 0)
                        r = cli_error("%s: %s", argv[optind], err);
                else
                        report_owned(snap, refs);
                table_refs_free(refs, n_refs);
                return r;
        }
        table_refs_free(refs, n_refs);
        if (r == EXIT_OK)
                r = cli_error("%s: the ruleset kept changing while restoring; nothing was changed", argv[optind]);
        return r;
}

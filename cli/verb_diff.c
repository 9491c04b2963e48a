/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_diff.c — fwguard diff: what applying FILE would change, as nft text
 *
 * Each side (live, and the file's result) is listed once by nft in a private
 * namespace (show_ruleset), split into its tables, and the tables that the
 * change touches are compared line by line. Deleting a table that another
 * tool owns is the surprise users meet after `flush ruleset`: it is named
 * loudly, with the tool.
 */
#include <errno.h>
#include <getopt.h>
#include <search.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>
#include <libnftnl/chain.h>

#include "cli.h"
#include "config.h"
#include "diff.h"
#include "show.h"

/* Which tool a table belongs to, by the names those tools give. */
static const char *table_owner(const RsTable *t) {
        if (strstr(t->name, "f2b") || strstr(t->name, "fail2ban"))
                return "fail2ban";
        if (streq(t->name, "firewalld"))
                return "firewalld";
        for (size_t i = 0; i < t->chains.n; i++) {
                const char *c = nftnl_chain_get_str(t->chains.items[i], NFTNL_CHAIN_NAME);
                if (strncmp(c, "DOCKER", 6) == 0)
                        return "docker";
                if (strncmp(c, "ufw-", 4) == 0 || strncmp(c, "ufw6-", 5) == 0)
                        return "ufw";
                if (strncmp(c, "f2b-", 4) == 0)
                        return "fail2ban";
        }
        return NULL;
}

/* The nft listing of @rs, with each table's text found by its header. */
static int listing(const Ruleset *rs, char **ret) {
        _cleanup_close_ int fd = memfd_create("fwguard-listing", MFD_CLOEXEC);
        char err[512] = "";
        off_t size;
        char *text;

        if (fd < 0)
                return negative_errno();
        if (show_ruleset(rs, fd, err, sizeof(err)) < 0)
                return cli_error("cannot list the ruleset: %s", err);
        size = lseek(fd, 0, SEEK_END);
        text = calloc(1, (size_t) size + 1);
        if (!text || pread(fd, text, (size_t) size, 0) != size) {
                free(text);
                return cli_error("cannot read the listing");
        }
        *ret = text;
        return EXIT_OK;
}

/* The lines of table @ref in @text (NULL-terminated array of pointers into
 * a copy), or an empty array. */
static char **table_lines(const char *text, const TableRef *ref, size_t *ret_n) {
        char header[300], *copy, *start, **lines = NULL;
        size_t n = 0;

        snprintf(header, sizeof(header), "table %s %s {", family_name(ref->family), ref->name);
        start = strstr(text, header);
        while (start && start != text && start[-1] != '\n')
                start = strstr(start + 1, header);
        copy = start ? strdup(start) : NULL;
        for (char *line = copy, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char **nl = realloc(lines, (n + 2) * sizeof(char *));
                if (!nl)
                        break;
                lines = nl;
                lines[n++] = line;
                if (streq(line, "}"))
                        break;
        }
        if (!lines) {
                free(copy);
                lines = calloc(2, sizeof(char *));
        }
        *ret_n = n;
        return lines;   /* lines[0] owns the copy */
}

static uint32_t line_id(const char *line) {
        ENTRY e = { .key = (char *) line }, *found = hsearch(e, FIND);
        static uint32_t next = 1;

        if (found)
                return (uint32_t) (uintptr_t) found->data;
        e.data = (void *) (uintptr_t) next;
        return hsearch(e, ENTER) ? next++ : 0;
}

static int diff_table(const char *before, const char *after, const TableRef *ref, const char *change,
                      bool json, json_t *jtables) {
        size_t na, nb;
        char **a = table_lines(before, ref, &na), **b = table_lines(after, ref, &nb);
        _cleanup_free_ uint32_t *ia = calloc(na + 1, sizeof(uint32_t)), *ib = calloc(nb + 1, sizeof(uint32_t));
        _cleanup_free_ size_t *ma = calloc(na + 1, sizeof(size_t)), *mb = calloc(nb + 1, sizeof(size_t));
        json_t *removed = json_array(), *added = json_array();
        int r = EXIT_OK;

        /* Lines compare as numbers: equal text, equal number. */
        if (!a || !b || !ia || !ib || !ma || !mb || !hcreate((na + nb) * 2 + 16)) {
                r = cli_error("out of memory");
                goto out;
        }
        for (size_t i = 0; i < na; i++)
                ia[i] = line_id(a[i]);
        for (size_t i = 0; i < nb; i++)
                ib[i] = line_id(b[i]);
        if (diff_lcs(ia, na, ib, nb, ma, mb) < 0) {
                r = cli_error("out of memory");
                goto out;
        }
        if (!json)
                printf("--- table %s %s (%s)\n", family_name(ref->family), ref->name, change);
        /* Walk both sides in order: a line matched on both sides is context. */
        for (size_t i = 0, j = 0; i < na || j < nb;) {
                if (i < na && ma[i] == DIFF_NONE) {
                        json ? json_array_append_new(removed, json_string(a[i])) : printf("-%s\n", a[i]);
                        i++;
                } else if (j < nb && mb[j] == DIFF_NONE) {
                        json ? json_array_append_new(added, json_string(b[j])) : printf("+%s\n", b[j]);
                        j++;
                } else {
                        i++;
                        j++;
                }
        }
        if (json)
                json_array_append_new(jtables, json_pack("{s:s, s:s, s:s, s:O, s:O}", "table", ref->name,
                        "family", family_name(ref->family), "change", change, "removed", removed, "added", added));
out:
        hdestroy();
        json_decref(removed);
        json_decref(added);
        if (a)
                free(a[0]);
        if (b)
                free(b[0]);
        free(a);
        free(b);
        return r;
}

int verb_diff(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "config", required_argument, NULL, 'c' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(json_decrefp) json_t *jtables = json_array(), *jwarn = json_array();
        _cleanup_free_ char *before = NULL, *after = NULL;
        TableRef *changed = NULL;
        size_t n_changed = 0;
        const char *config_path = NULL;
        bool json = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard diff FILE [--json] [--config FILE]\n");
                        return EXIT_OK;
                case 'j': json = true; break;
                case 'c': config_path = optarg; break;
                default:
                        return cli_usage("diff: unknown option");
                }
        if (argc - optind != 1)
                return cli_usage("diff takes one FILE (or - for stdin)");

        r = cli_read_live(config_path, &cfg, &s0);
        if (r != EXIT_OK)
                return r;
        r = cli_load_change(argv[optind], s0, cfg, &s1);
        if (r != EXIT_OK)
                return r;
        r = diff_changed_tables(s0, s1, 0, &changed, &n_changed);
        if (r < 0)
                return cli_error("cannot compare: %s", strerror(-r));
        if (n_changed == 0) {
                table_refs_free(changed, n_changed);
                if (json)
                        printf("{\"tables\": [], \"warnings\": []}\n");
                else
                        printf("%s changes nothing.\n", argv[optind]);
                return EXIT_OK;
        }
        r = listing(s0, &before);
        if (r == EXIT_OK)
                r = listing(s1, &after);
        for (size_t i = 0; r == EXIT_OK && i < n_changed; i++) {
                const RsTable *a = ruleset_find_table(s0, changed[i].family, changed[i].name);
                const RsTable *b = ruleset_find_table(s1, changed[i].family, changed[i].name);
                const char *owner = a && !b ? table_owner(a) : NULL;

                if (a && !b) {
                        char w[512];
                        snprintf(w, sizeof(w), "WARNING: %s deletes table %s %s%s%s%s and does not create it again",
                                 argv[optind], family_name(a->family), a->name, owner ? " (it belongs to " : "",
                                 owner ? owner : "", owner ? ")" : "");
                        json ? json_array_append_new(jwarn, json_string(w)) : fprintf(stderr, "%s\n", w);
                }
                r = diff_table(before, after, &changed[i], !a ? "created" : !b ? "deleted" : "changed", json, jtables);
        }
        table_refs_free(changed, n_changed);
        if (r == EXIT_OK && json) {
                _cleanup_(json_decrefp) json_t *o = json_pack("{s:O, s:O}", "tables", jtables, "warnings", jwarn);
                json_dumpf(o, stdout, JSON_INDENT(2));
                putchar('\n');
        }
        return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_unguard.c — fwguard unguard: take fwguard's SSH guards out of the live ruleset
 *
 * For removing fwguard (the package's prerm runs it) or giving up its
 * protection by hand. lib/guard recognises a guard by its exact shape and
 * comment, so a rule of the user's own that allows SSH stays. It refuses
 * while fwguardd runs (its guard monitor would put the guards back), while a
 * trial is pending (its rollback puts guards back, and a guard is what lets
 * the confirming login in), and, unless --force, when the ruleset without
 * guards would block SSH: then the guards are what keeps the administrator
 * in.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "bus.h"
#include "change.h"
#include "cli.h"
#include "config.h"
#include "diff.h"
#include "guard.h"
#include "nl.h"
#include "lib/trial.h"    /* not cli/trial.h */

/* A concurrent writer makes the batch fail with -ERESTART; read and try again. */
#define UNGUARD_ATTEMPTS 5
/* As long as fwguardd may hold the state directory's lock for one transition. */
#define UNGUARD_LOCK_TIMEOUT_USEC (5 * 1000 * 1000)

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

/* Lock the state directory (kept in *ret_store, so that no trial begins
 * meanwhile) and refuse if a trial is pending. A missing state directory
 * holds no trial and is not created. */
static int lock_idle(const Config *cfg, TrialStore **ret_store) {
        _cleanup_(trial_freep) Trial *t = NULL;
        char err[512] = "";
        int r;

        if (access(cfg->state_dir, F_OK) < 0 && errno == ENOENT)
                return EXIT_OK;
        r = trial_store_open(cfg->state_dir, cfg->history_max, UNGUARD_LOCK_TIMEOUT_USEC, ret_store);
        if (r < 0)
                return cli_error("cannot open the state directory %s: %s", cfg->state_dir,
                                 r == -ETIMEDOUT ? "another process holds its lock" : strerror(-r));
        r = trial_load(*ret_store, &t, err, sizeof(err));
        if (r < 0)
                return cli_error("cannot read the pending trial: %s", err[0] ? err : strerror(-r));
        if (t) {
                fprintf(stderr, "fwguard: trial %" PRIu64 " is pending (%s): confirm it or roll it back "
                        "first ('fwguard confirm' or 'fwguard rollback'); nothing was changed\n",
                        t->id, trial_state_to_string(t->state));
                return EXIT_REFUSED;
        }
        return EXIT_OK;
}

/* @s0 without its guards, and the tables that lose some. */
static int strip(const Ruleset *s0, Ruleset **ret_s1, TableRef **ret_refs, size_t *ret_n) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        int r;

        r = ruleset_copy(s0, &s1);
        for (size_t i = 0; r >= 0 && s1 && i < s1->tables.n; i++)
                if (!ruleset_table(s1, i)->owned)
                        r = guard_table_strip(ruleset_table(s1, i));
        if (r >= 0)
                r = diff_changed_tables(s0, s1, 0, ret_refs, ret_n);
        if (r < 0)
                return cli_error("cannot take the guards out: %s", strerror(-r));
        *ret_s1 = TAKE_PTR(s1);
        return EXIT_OK;
}

/* Would SSH stay reachable without the guards? Probed in the sandbox, from
 * our own SSH connection if we came in over one. */
static int check_reachable(const Ruleset *s0, const Ruleset *s1, const Config *cfg) {
        _cleanup_(change_check_freep) ChangeCheck *check = NULL;
        _cleanup_free_ char *errors = NULL;
        int r;

        r = change_check(s0, s1, cfg, getpid(), true, &check, &errors);
        if (r < 0)
                return cli_error("cannot check the ruleset without guards: %s", errors ? errors : strerror(-r));
        if (check->preflight->as_written.reachable)
                return EXIT_OK;
        change_report_check(stderr, "the ruleset without fwguard's guards", check, false);
        fprintf(stderr, "fwguard: without its guards this ruleset blocks SSH; nothing was changed.\n"
                "Allow SSH in your own rules first, or use 'fwguard unguard --force'.\n");
        return EXIT_REFUSED;
}

int verb_unguard(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, 'f' },
                { "config", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        const char *config_path = NULL, *runtime_dir = NULL;
        bool force = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "hf", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard unguard [--force] [--config FILE] [--runtime-dir DIR]\n");
                        return EXIT_OK;
                case 'f': force = true; break;
                case 'c': config_path = optarg; break;
                case 'r': runtime_dir = optarg; break;
                default:
                        return cli_usage("unguard: unknown option");
                }
        if (argc != optind)
                return cli_usage("unguard takes no arguments");
        if (cli_bus_daemon_runs(cli_runtime_dir(runtime_dir)))
                return cli_error("fwguardd is running, and its guard monitor would put the guards back: "
                                 "stop it first (systemctl stop fwguardd.socket fwguardd.service)");

        for (int attempt = 0; attempt < UNGUARD_ATTEMPTS; attempt++) {
                _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
                _cleanup_(nl_freep) Nl *nl = NULL;
                TableRef *refs = NULL;
                size_t n_refs = 0;
                char err[512] = "";

                config_free(TAKE_PTR(cfg));
                r = cli_read_live(config_path, &cfg, &s0);
                if (r == EXIT_OK && !store)
                        r = lock_idle(cfg, &store);
                if (r == EXIT_OK)
                        r = strip(s0, &s1, &refs, &n_refs);
                if (r != EXIT_OK)
                        return r;
                if (n_refs == 0) {
                        printf("There are no fwguard guard rules in the live ruleset.\n");
                        return EXIT_OK;
                }
                r = change_report_diff(stdout, stderr, "Removing fwguard's guards", s0, s1, false, err, sizeof(err));
                if (r < 0)
                        r = cli_error("%s", err);
                else if (!force)
                        r = check_reachable(s0, s1, cfg);
                if (r == EXIT_OK) {
                        r = nl_open(&nl);
                        r = r < 0 ? r : batch_replace_tables(nl, s1, s0, refs, n_refs, s0->genid, err, sizeof(err));
                        if (r == -ERESTART) {
                                table_refs_free(refs, n_refs);
                                continue;
                        }
                        r = r < 0 ? cli_error("cannot remove the guards: %s", err[0] ? err : strerror(-r)) : EXIT_OK;
                }
                table_refs_free(refs, n_refs);
                if (r == EXIT_OK)
                        printf("fwguard's guards are out of the live ruleset.\n");
                return r;
        }
        return cli_error("the ruleset kept changing while removing the guards; nothing was changed");
}

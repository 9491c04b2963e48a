/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_boot.c — fwguard boot and fwguard persist: a reboot never brings an unconfirmed change back, and keeps the confirmed ones
 *
 * Two steps at boot, two units, because the services that load rulesets
 * sit between them (fwguard(8), "BOOT"):
 *   fwguard boot          (fwguard-boot.service, before nftables.service,
 *                         ufw.service, netfilter-persistent.service): a trial
 *                         that the reboot interrupted ends as rolled back, and
 *                         the files it installed (fwguard run: /etc/ufw...)
 *                         get their pre-trial contents back, so those services
 *                         load the confirmed configuration;
 *   fwguard persist load  (fwguard-persist.service, after them and before
 *                         network-pre.target): the confirmed applies, guarded
 *                         (lib/persist).
 * Both are the very steps fwguardd would take (lib/driver, lib/persist),
 * under the state directory's lock, and neither needs fwguardd: it starts
 * after them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "driver.h"
#include "nl.h"
#include "persist.h"
#include "lib/trial.h"    /* not cli/trial.h */

#define BOOT_USAGE "boot [--state-dir DIR] [--config FILE]"
#define PERSIST_USAGE "persist on|off|status|load [--json] [--state-dir DIR] [--config FILE]"
/* Nothing else holds the lock at boot; by hand, fwguardd holds it for one step at a time. */
#define BOOT_LOCK_TIMEOUT_USEC (30 * 1000 * 1000)

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

typedef struct BootArgs {
        const char *state_dir;
        const char *config_path;
        const char *what;       /* persist: on, off, status or load */
        bool json;
} BootArgs;

/* Options and arguments (one of @whats, or none when NULL), root, the
 * config; *ret_store NULL when there is no state directory (so nothing to
 * do; it is not created). Returns -1 to go on, or the exit code to end with
 * (--help, or what went wrong, said). */
static int boot_setup(int argc, char **argv, const char *usage, const char *const *whats, BootArgs *a,
                      Config **ret_cfg, TrialStore **ret_store) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "state-dir", required_argument, NULL, 's' },
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        char err[512] = "";
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard %s\n", usage);
                        return EXIT_OK;
                case 's': a->state_dir = optarg; break;
                case 'c': a->config_path = optarg; break;
                case 'j':
                        if (!whats)
                                return cli_usage("usage: fwguard %s", usage);
                        a->json = true;
                        break;
                default: return cli_usage("usage: fwguard %s", usage);
                }
        if (optind + !!whats != argc)
                return cli_usage("usage: fwguard %s", usage);
        for (const char *const *w = whats; w && *w && !a->what; w++)
                if (streq(*w, argv[optind]))
                        a->what = *w;
        if (whats && !a->what)
                return cli_usage("usage: fwguard %s", usage);
        if (geteuid() != 0)
                return cli_error("%s needs root: it reads and writes the state directory", argv[0]);
        r = config_load(a->config_path, ret_cfg, err, sizeof(err));
        if (r < 0)
                return cli_error("%s", *err ? err : strerror(-r));
        a->state_dir = a->state_dir ?: (*ret_cfg)->state_dir;
        *ret_store = NULL;
        if (access(a->state_dir, F_OK) < 0 && errno == ENOENT)
                return -1;
        r = trial_store_open(a->state_dir, (*ret_cfg)->history_max, BOOT_LOCK_TIMEOUT_USEC, ret_store);
        if (r < 0)
                return cli_error("cannot open the state directory %s: %s", a->state_dir,
                                 r == -ETIMEDOUT ? "another process holds its lock" : strerror(-r));
        return -1;
}

int verb_boot(int argc, char **argv) {
        _cleanup_(rollback_result_clear) RollbackResult rb = {};
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        BootArgs a = {};
        DriverRecovery what;
        TrialState was;
        char err[1024] = "", msg[1024] = "";
        int r;

        r = boot_setup(argc, argv, BOOT_USAGE, NULL, &a, &cfg, &store);
        if (r >= 0)
                return r;
        if (!store) {
                printf("no state directory %s: no trial to end\n", a.state_dir);
                return EXIT_OK;
        }
        r = trial_load(store, &t, err, sizeof(err));
        if (r < 0)
                return cli_error("cannot read the pending trial: %s", *err ? err : strerror(-r));
        if (!t) {
                printf("no trial was pending\n");
                return EXIT_OK;
        }
        r = trial_this_boot(t);
        if (r < 0)
                return cli_error("cannot read this boot's id: %s", strerror(-r));
        if (r > 0) {
                printf("trial %" PRIu64 " is of this boot: fwguardd takes care of it\n", t->id);
                return EXIT_OK;
        }
        was = t->state;
        /* driver_recover() leaves the kernel alone for an earlier boot's
         * trial: this boot's ruleset is what the boot loads. */
        r = nl_open(&nl);
        if (r < 0)
                return cli_error("cannot open the nftables netlink socket: %s", strerror(-r));
        r = driver_recover(nl, store, t, &what, &rb, msg, sizeof(msg), err, sizeof(err));
        if (r < 0)
                return cli_error("trial %" PRIu64 ": %s", t->id, *err ? err : strerror(-r));
        printf("%s%s\n", msg, t->n_files > 0 && was != TRIAL_CONFIRMED && was != TRIAL_SNAPSHOT_DURABLE ?
               "; its files have their contents from before it again" : "");
        return EXIT_OK;
}

int verb_persist(int argc, char **argv) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        const char *what;
        BootArgs a = {};
        char err[1024] = "";
        int r;

        r = boot_setup(argc, argv, PERSIST_USAGE, (const char *const[]) { "on", "off", "status", "load", NULL },
                       &a, &cfg, &store);
        if (r >= 0)
                return r;
        what = a.what;
        if (!store && streq(what, "load")) {
                printf("no state directory %s: nothing to load\n", a.state_dir);
                return EXIT_OK;
        }
        if (!store) {
                /* on, off and status write or read the index: make the directory. */
                r = trial_store_open(a.state_dir, cfg->history_max, BOOT_LOCK_TIMEOUT_USEC, &store);
                if (r < 0)
                        return cli_error("cannot open the state directory %s: %s", a.state_dir, strerror(-r));
        }
        if (streq(what, "status"))
                r = persist_status(store, stdout, a.json, err, sizeof(err));
        else if (!streq(what, "load")) {
                r = persist_set(store, streq(what, "on"), err, sizeof(err));
                if (r >= 0)
                        printf(streq(what, "on") ? "persistence is on: confirmed applies are loaded at boot from "
                                                   "the next one on\n"
                                                 : "persistence is off: nothing is loaded at boot, and the confirmed "
                                                   "applies kept so far are forgotten\n");
        } else {
                /* Over a trial of this boot, the loaded tables would replace
                 * what its rollback must find. One of an earlier boot owns
                 * nothing live (the kernel forgot it): should fwguard boot
                 * have failed to end it, the confirmed state still loads. */
                r = trial_load(store, &t, err, sizeof(err));
                if (r >= 0 && t)
                        r = trial_this_boot(t);
                if (r > 0)
                        return cli_error("trial %" PRIu64 " is pending: nothing loaded; confirm it or roll it back "
                                         "first", t->id);
                if (r >= 0)
                        r = nl_open(&nl);
                if (r >= 0)
                        r = persist_load(store, nl, cfg, stdout, err, sizeof(err));
                if (r > 0)
                        return EXIT_ERROR;      /* an entry was left out: said on stdout */
        }
        if (r < 0)
                return cli_error("persist %s: %s", what, *err ? err : strerror(-r));
        return EXIT_OK;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_deadman.c — fwguard deadman ID: the second dead-man's rollback, which systemd runs
 *
 * fwguardd arms a transient systemd timer for each trial (lib/deadman.h);
 * when fwguardd hangs or cannot restart, systemd runs this a few seconds
 * after the deadline. It rolls the trial back through the very steps that
 * fwguardd uses (lib/driver: guards, captured files and sysctls included),
 * under the same lock, and only if that trial is still pending, unconfirmed
 * and of this boot: whatever ended it first (a confirmation, fwguardd's
 * own rollback) wins, and another trial is left to its own dead-man.
 *
 * The deadline comes from the record, not from the timer: a timer that
 * fired early (lib/deadman.c says when) waits here until the deadline has
 * passed by DEADMAN_GRACE_USEC, without the lock, and looks again under it.
 * Logs go to the journal, with MESSAGE_ID=LOG_ID_DEADMAN on the rollback.
 * Not in --help: people use `fwguard rollback`.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "daemon/log.h"
#include "deadman.h"
#include "driver.h"
#include "nl.h"
#include "trial.h"

#define DEADMAN_USAGE "deadman ID [--state-dir DIR] [--config FILE]"

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

/* Is @t, the pending trial (NULL: none), trial @id, and ours to roll back
 * now or later? Logs why not. */
static bool ours(const Trial *t, uint64_t id) {
        if (!t || t->id != id) {
                log_info("trial %" PRIu64 " has ended%s: nothing to do", id, t ? "; another one is pending" : "");
                return false;
        }
        if (trial_this_boot(t) <= 0) {
                log_info("trial %" PRIu64 " is of an earlier boot, which ended it: nothing to do", id);
                return false;
        }
        if (t->state != TRIAL_COMMITTED && t->state != TRIAL_ARMED && t->state != TRIAL_ROLLING_BACK) {
                log_info("trial %" PRIu64 " is %s: nothing to do", id, trial_state_to_string(t->state));
                return false;
        }
        return true;
}

static void sleep_until(uint64_t boottime_ns) {
        struct timespec ts = { .tv_sec = (time_t) (boottime_ns / 1000000000),
                               .tv_nsec = (long) (boottime_ns % 1000000000) };

        while (clock_nanosleep(CLOCK_BOOTTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int rollback(const char *state_dir, unsigned history_max, uint64_t id) {
        _cleanup_(rollback_result_clear) RollbackResult res = {};
        char err[1024] = "";
        int r;

        for (;;) {
                _cleanup_(trial_store_freep) TrialStore *store = NULL;
                _cleanup_(trial_freep) Trial *t = NULL;
                _cleanup_(nl_freep) Nl *nl = NULL;
                uint64_t due;

                /* As long as it takes: fwguardd holds the lock for one step
                 * at a time, and a hung fwguardd holding it is killed by its
                 * watchdog. */
                r = trial_store_open(state_dir, history_max, TRIAL_LOCK_WAIT_FOREVER, &store);
                if (r < 0) {
                        log_error("cannot open the state directory %s: %s", state_dir, strerror(-r));
                        return EXIT_ERROR;
                }
                r = trial_load(store, &t, err, sizeof(err));
                if (r < 0) {
                        log_error("trial %" PRIu64 ": %s", id, *err ? err : strerror(-r));
                        return EXIT_ERROR;
                }
                if (!ours(t, id))
                        return EXIT_OK;
                due = t->deadline_boottime_ns + DEADMAN_GRACE_USEC * 1000;
                if (t->state != TRIAL_ROLLING_BACK && now_nsec(CLOCK_BOOTTIME) < due) {
                        log_info("trial %" PRIu64 ": %" PRIu64 " ms until its deadline and fwguardd's turn have "
                                 "passed: waiting", id, (due - now_nsec(CLOCK_BOOTTIME)) / 1000000);
                        store = trial_store_free(store);
                        sleep_until(due);
                        continue;
                }
                r = nl_open(&nl);
                if (r < 0) {
                        log_error("cannot open the nftables netlink socket: %s", strerror(-r));
                        return EXIT_ERROR;
                }
                r = driver_rollback_noted(nl, store, t, "rolled back by the second dead-man (`fwguard deadman`, "
                                          "a systemd timer): fwguardd had not done it " STRINGIFY(DEADMAN_GRACE_SEC)
                                          " s after the deadline", &res, err, sizeof(err));
                if (r < 0) {
                        log_event(LOG_CRIT, LOG_ID_DEADMAN, id, "trial %" PRIu64 ": THE SECOND DEAD-MAN'S ROLLBACK "
                                  "FAILED: %s", id, err);
                        return EXIT_ERROR;
                }
                log_event(LOG_WARNING, LOG_ID_DEADMAN, id, "trial %" PRIu64 " rolled back by the second dead-man: "
                          "fwguardd had not done it by its deadline%s; %zu change(s) of other writers could not be "
                          "carried over", id, res.exact ? "" : ", but the result differs from the target",
                          res.n_conflicts);
                if (res.n_conflicts > 0)
                        log_warning("trial %" PRIu64 ": %s", id, res.report);
                return EXIT_OK;
        }
}

int verb_deadman(int argc, char **argv) {
        static const struct option options[] = {
                { "state-dir", required_argument, NULL, 's' },
                { "config", required_argument, NULL, 'c' },
                {}
        };
        _cleanup_(config_freep) Config *cfg = NULL;
        const char *state_dir = NULL, *config_path = NULL;
        char err[512] = "";
        uint64_t id;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': state_dir = optarg; break;
                case 'c': config_path = optarg; break;
                default: return cli_usage("usage: fwguard " DEADMAN_USAGE);
                }
        if (optind + 1 != argc || cli_parse_positive(argv[optind], &id) < 0)
                return cli_usage("usage: fwguard " DEADMAN_USAGE);
        if (geteuid() != 0) {
                log_error("fwguard deadman is systemd's, as root: to undo a trial, use `fwguard rollback`");
                return EXIT_REFUSED;
        }
        r = config_load(config_path, &cfg, err, sizeof(err));
        if (r < 0) {
                log_error("%s", *err ? err : strerror(-r));
                return EXIT_ERROR;
        }
        return rollback(state_dir ?: cfg->state_dir, cfg->history_max, id);
}

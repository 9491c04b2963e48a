/* SPDX-License-Identifier: GPL-2.0-or-later */
/* driver.c — the steps of a trial that write to the kernel: commit, rollback, recovery
 *
 * Every batch here is conditioned on the generation id of the ruleset it
 * was planned from, so no other writer's change is ever overwritten
 * unseen: a stale plan fails with -ERESTART and nothing changes.
 *
 * Recovery does not trust the record to say whether a batch happened: a
 * SIGKILL can fall between the batch and the record that follows it. It
 * compares the live touched tables with S0 and S1' instead. Where neither
 * matches (another writer came in after the crash), rolling back is the
 * safe way: the three-way merge of (S0, S1', live) is S0 plus whatever the
 * live tables hold beyond S1', which is right whether our commit happened
 * or not.
 *
 * Files (fwguard run) follow the ruleset, never lead it: they are installed
 * after the commit batch, in COMMITTED (before ARMED), and restored after
 * the rollback batch, in ROLLING_BACK (before the trial ends), so that the
 * network comes back first and a slow or failing file write never delays
 * it. Each file is written whole (temporary file, fsync, rename, fsync of
 * the directory), and doing it again is harmless, so recovery simply does
 * the step again for every file, whatever the record says of it:
 *   never committed (S0 live in SNAPSHOT_DURABLE): the files were never
 *     touched (they are only installed once COMMITTED is durable);
 *   COMMITTED (or found committed): install all, then ARMED;
 *   ARMED, CONFIRMED: installed before ARMED was written; installed again
 *     if the record does not say so;
 *   ROLLING_BACK, or rolled back by recovery: restore all before the end;
 *   an earlier boot: restore all (the trial is recorded as rolled back),
 *     but for a confirmed one, which stays confirmed (install all).
 *
 * Network sysctls (lib/netsysctl.h) are part of the same step, before the
 * files (the network first), with the same rules: a sysctl is written
 * whole and writing it again is harmless, so recovery sets all of them again
 * too. The one difference: after a reboot they are left alone, like the
 * ruleset, because the new boot set its own (/etc/sysctl.d, ufw's init).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "driver.h"
#include "fileio.h"
#include "macro.h"
#include "netsysctl.h"
#include "persist.h"
#include "rollback.h"
#include "testpoint.h"

/* Plans that lose a race with another writer are made again this often. */
#define ROLLBACK_ATTEMPTS_MAX 5

void rollback_result_clear(RollbackResult *r) {
        free(r->report);
        *r = (RollbackResult) {};
}

/* batch_replace_tables() of the touched tables only: a trial of files alone
 * (fwguard run) touches none, which for the batch (@refs NULL) would mean
 * every table. */
static int replace_touched(Nl *nl, const Ruleset *target, const Ruleset *live, const TableRef *touched,
                           size_t n_touched, uint32_t genid, char *err, size_t errlen) {
        if (n_touched == 0)
                return 0;
        return batch_replace_tables(nl, target, live, touched, n_touched, genid, err, errlen);
}

/* Write the @i-th item of @t's file step, its network sysctls first, then
 * its files: the new (@install) or old value or content. */
static int step_item(const Trial *t, size_t i, bool install, char *err, size_t errlen) {
        const TrialFile *f;
        int r;

        if (i < t->n_sysctls) {
                const TrialSysctl *v = &t->sysctls[i];

                r = netsysctl_write(v->name, install ? v->new_value : v->old_value);
                if (r < 0)
                        snprintf(err, errlen, "%s /proc/sys/%s to %s: %s", install ? "setting" : "setting back",
                                 v->name, install ? v->new_value : v->old_value, strerror(-r));
                return r;
        }
        f = &t->files[i - t->n_sysctls];
        r = install ? fileio_install(f->path, f->new_exists, f->new_mode, f->new_data, f->new_len)
                    : fileio_install(f->path, f->old_exists, f->old_mode, f->old_data, f->old_len);
        if (r < 0)
                snprintf(err, errlen, "%s %s: %s", install ? "installing" : "restoring", f->path, strerror(-r));
        return r;
}

/* The file step: put every network sysctl and file of @t to its new
 * (@install) or old value, then record it. Each write is whole and
 * idempotent: a step interrupted anywhere is done again from the start.
 * @sysctls false leaves the sysctls alone (a trial of an earlier boot). */
static int files_converge(TrialStore *s, Trial *t, bool install, bool sysctls, char *err, size_t errlen) {
        size_t n = t->n_sysctls + t->n_files;
        int r;

        if (n == 0)
                return 0;
        for (size_t i = sysctls ? 0 : t->n_sysctls, done = 0; i < n; i++, done++) {
                r = step_item(t, i, install, err, errlen);
                if (r < 0)
                        return r;
                if (done == 0)
                        testpoint(install ? "apply-files-partial" : "rollback-files-partial");
        }
        testpoint(install ? "apply-files-installed" : "rollback-files-restored");
        return trial_set_files_state(s, t, install ? TRIAL_FILES_INSTALLED : TRIAL_FILES_RESTORED, err, errlen);
}

int driver_commit(Nl *nl, TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                  const TableRef *touched, size_t n_touched, const uint16_t *ssh_ports,
                  size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                  uid_t uid, const char *summary, Trial **ret, char *err, size_t errlen) {
        return driver_commit_files(nl, s, s0, s1, touched, n_touched, ssh_ports, n_ssh_ports,
                                   deadline_boottime_ns, uid, summary, NULL, 0, NULL, 0, NULL, ret, err, errlen);
}

int driver_commit_files(Nl *nl, TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                        const TableRef *touched, size_t n_touched, const uint16_t *ssh_ports,
                        size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                        uid_t uid, const char *summary, const TrialFile *files, size_t n_files,
                        const TrialSysctl *sysctls, size_t n_sysctls, const PersistSource *persist,
                        Trial **ret, char *err, size_t errlen) {
        _cleanup_(trial_freep) Trial *t = NULL;
        char undo_err[256] = "";
        int r;

        r = trial_begin_run(s, s0, s1, touched, n_touched, ssh_ports, n_ssh_ports, deadline_boottime_ns,
                            s0->genid, uid, summary, files, n_files, sysctls, n_sysctls, &t, err, errlen);
        if (r < 0)
                return r;
        /* Before the batch: once committed, a confirmation may come at
         * any time, through recovery too, and must find it. */
        r = persist ? persist_stage(s, t, persist, err, errlen) : 0;
        if (r >= 0)
                testpoint("apply-durable");
        if (r >= 0)
                r = replace_touched(nl, s1, s0, touched, n_touched, s0->genid, err, errlen);
        if (r < 0) {
                char end_err[256];
                /* Nothing changed: the trial ends as never committed. If
                 * even that cannot be written, recovery finds S0 live and
                 * ends it then. */
                (void) trial_transition(s, t, TRIAL_IDLE, end_err, sizeof(end_err));
                return r;
        }
        testpoint("apply-committed");

        r = trial_transition(s, t, TRIAL_COMMITTED, err, errlen);
        if (r >= 0) {
                testpoint("apply-committed-record");
                r = files_converge(s, t, true, true, err, errlen);
                if (r < 0) {
                        char file_err[256] = "";

                        /* Back to the old files, then the ruleset below. */
                        if (files_converge(s, t, false, true, file_err, sizeof(file_err)) < 0)
                                snprintf(err + strlen(err), errlen - strlen(err),
                                         "; restoring the files failed too: %s", file_err);
                }
        }
        if (r >= 0)
                r = trial_transition(s, t, TRIAL_ARMED, err, errlen);
        if (r < 0) {
                /* The change is live but no dead-man can be promised for it:
                 * take it back now. The record still says what recovery
                 * needs (S0 live again: never committed). */
                if (replace_touched(nl, s0, s1, touched, n_touched, 0, undo_err, sizeof(undo_err)) < 0)
                        snprintf(err + strlen(err), errlen - strlen(err),
                                 "; undoing the commit failed too: %s", undo_err);
                else
                        snprintf(err + strlen(err), errlen - strlen(err), "; the change was undone");
                return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

/* The live ruleset with the generation it was read at. */
static int dump_live(Nl *nl, Ruleset **ret, char *err, size_t errlen) {
        int r = ruleset_dump(nl, ret);

        if (r < 0)
                snprintf(err, errlen, "cannot read the live ruleset: %s", strerror(-r));
        return r;
}

/* Plan from what is live, save the plan, write it. -ERESTART if another
 * writer got in between the dump and the batch. */
static int rollback_attempt(Nl *nl, TrialStore *s, Trial *t, MergeConflicts *conflicts,
                            char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *live = NULL, *target = NULL;
        int r;

        merge_conflicts_clear(conflicts);
        r = dump_live(nl, &live, err, errlen);
        if (r < 0)
                return r;
        r = rollback_plan(t->s0, t->s1, live, t->touched, t->n_touched, &target, conflicts);
        if (r < 0) {
                snprintf(err, errlen, "planning the rollback: %s", strerror(-r));
                return r;
        }
        r = trial_set_target(s, t, target, err, errlen);
        if (r < 0)
                return r;
        /* What the plan cannot carry over is saved with it, before the
         * batch: a crash after the batch must not lose it. */
        if (conflicts->n > 0 || t->report) {
                _cleanup_free_ char *text = NULL;

                r = rollback_conflicts_text(conflicts, &text);
                if (r >= 0)
                        r = trial_set_report(s, t, text, err, errlen);
                if (r < 0)
                        return r;
        }
        testpoint("rollback-target");
        if (t->state != TRIAL_ROLLING_BACK) {
                r = trial_transition(s, t, TRIAL_ROLLING_BACK, err, errlen);
                if (r < 0)
                        return r;
        }
        testpoint("rollback-durable");
        return replace_touched(nl, t->target, live, t->touched, t->n_touched, live->genid, err, errlen);
}

static size_t count_lines(const char *s) {
        size_t n = 0;

        for (; s && *s; s++)
                n += *s == '\n';
        return n;
}

/* The rollback batch is live: verify it, and end the trial. The report of
 * the conflicts was saved with the plan (maybe by the run before a crash);
 * a result that differs from the plan is added to it. */
static int rollback_finish(Nl *nl, TrialStore *s, Trial *t, const char *note, RollbackResult *ret,
                           char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *after = NULL;
        int r;

        /* The network first, the files right after it. */
        r = files_converge(s, t, false, true, err, errlen);
        if (r < 0)
                return r;
        r = dump_live(nl, &after, err, errlen);
        if (r < 0)
                return r;
        r = rollback_tables_equal(after, t->target, t->touched, t->n_touched);
        if (r < 0)
                return r;
        ret->exact = r > 0;
        ret->n_conflicts = count_lines(t->report);
        if (!ret->exact || note) {
                _cleanup_free_ char *text = NULL;

                if (asprintf(&text, "%s%s%s%s", note ?: "", note ? "\n" : "",
                             ret->exact ? "" : "after the rollback the live tables differ from the target: "
                                               "another writer changed them at once\n",
                             t->report ?: "") < 0)
                        return -ENOMEM;
                r = trial_set_report(s, t, text, err, errlen);
                if (r < 0)
                        return r;
        }
        testpoint("rollback-reported");
        if (t->report && *t->report) {
                ret->report = strdup(t->report);
                if (!ret->report)
                        return -ENOMEM;
        }
        r = trial_transition(s, t, TRIAL_IDLE, err, errlen);
        if (r < 0) {
                rollback_result_clear(ret);
                return r;
        }
        return 0;
}

int driver_rollback(Nl *nl, TrialStore *s, Trial *t, RollbackResult *ret, char *err, size_t errlen) {
        return driver_rollback_noted(nl, s, t, NULL, ret, err, errlen);
}

int driver_rollback_noted(Nl *nl, TrialStore *s, Trial *t, const char *note, RollbackResult *ret,
                          char *err, size_t errlen) {
        _cleanup_(merge_conflicts_clear) MergeConflicts conflicts = {};
        unsigned attempt = 0;
        int r;

        do
                r = rollback_attempt(nl, s, t, &conflicts, err, errlen);
        while (r == -ERESTART && ++attempt < ROLLBACK_ATTEMPTS_MAX);
        if (r < 0)
                return r;
        testpoint("rollback-committed");
        return rollback_finish(nl, s, t, note, ret, err, errlen);
}

/* CONFIRMED → IDLE, keeping what the trial applied for a reboot first
 * (lib/persist). A failure to keep it does not undo the confirmation: it
 * is said in *ret_warnings, with what the persistence itself has to say. */
static int confirm_end(TrialStore *s, Trial *t, char **ret_warnings, char *err, size_t errlen) {
        _cleanup_free_ char *warnings = NULL;
        char perr[512] = "";
        int r;

        r = persist_confirm(s, t, &warnings, perr, sizeof(perr));
        if (r < 0 && asprintf(&warnings, "the change stays, but it is not kept for a reboot: %s\n",
                              *perr ? perr : strerror(-r)) < 0)
                return -ENOMEM;
        r = trial_transition(s, t, TRIAL_IDLE, err, errlen);
        if (r < 0)
                return r;
        *ret_warnings = TAKE_PTR(warnings);
        return 0;
}

int driver_confirm(TrialStore *s, Trial *t, char **ret_warnings, char *err, size_t errlen) {
        int r = trial_transition(s, t, TRIAL_CONFIRMED, err, errlen);

        if (r < 0)
                return r;
        testpoint("confirm-durable");
        return confirm_end(s, t, ret_warnings, err, errlen);
}

/* A trial of an earlier boot: the reboot ended it, and the ruleset of this
 * boot is whatever the boot loaded, so the kernel is not touched. The
 * history records it as rolled back, with the reason. */
static int end_by_reboot(TrialStore *s, Trial *t, char *err, size_t errlen) {
        int r;

        r = trial_set_report(s, t, "the host rebooted during the trial: the reboot ended it, "
                             "and the change did not survive it", err, errlen);
        if (r < 0)
                return r;
        /* The next boot loads the old files, as the history says; this
         * boot's sysctls are its own. */
        if (t->state != TRIAL_SNAPSHOT_DURABLE) {
                r = files_converge(s, t, false, false, err, errlen);
                if (r < 0)
                        return r;
        }
        if (t->state == TRIAL_COMMITTED || t->state == TRIAL_ARMED) {
                r = trial_set_target(s, t, t->s0, err, errlen);
                if (r >= 0)
                        r = trial_transition(s, t, TRIAL_ROLLING_BACK, err, errlen);
                if (r < 0)
                        return r;
        }
        return trial_transition(s, t, TRIAL_IDLE, err, errlen);
}

int driver_recover(Nl *nl, TrialStore *s, Trial *t, DriverRecovery *ret, RollbackResult *rb,
                   char *msg, size_t msglen, char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *live = NULL;
        const char *was = trial_state_to_string(t->state);
        _cleanup_free_ char *warnings = NULL;
        bool committed, this_boot;
        int r;

        r = trial_this_boot(t);
        if (r < 0)
                return r;
        this_boot = r > 0;
        /* A confirmation stays confirmed, reboot or not. */
        if (!this_boot && t->state != TRIAL_CONFIRMED) {
                snprintf(msg, msglen, "trial %" PRIu64 " (%s) is from an earlier boot: recorded as ended by the reboot",
                         t->id, was);
                *ret = DRIVER_RECOVERED_IDLE;
                return end_by_reboot(s, t, err, errlen);
        }

        if (t->state == TRIAL_SNAPSHOT_DURABLE) {
                r = dump_live(nl, &live, err, errlen);
                if (r < 0)
                        return r;
                r = rollback_tables_equal(live, t->s0, t->touched, t->n_touched);
                if (r < 0)
                        return r;
                if (r > 0) {
                        snprintf(msg, msglen, "trial %" PRIu64 " was never committed: ended", t->id);
                        *ret = DRIVER_RECOVERED_IDLE;
                        return trial_transition(s, t, TRIAL_IDLE, err, errlen);
                }
                r = rollback_tables_equal(live, t->s1, t->touched, t->n_touched);
                if (r < 0)
                        return r;
                committed = r > 0;
                /* Committed (S1' is live), or live is neither: then it may
                 * have been, and rolling back is right either way. */
                r = trial_transition(s, t, TRIAL_COMMITTED, err, errlen);
                if (r < 0)
                        return r;
                if (!committed)
                        goto rollback;
        }
        switch (t->state) {
        case TRIAL_COMMITTED:
                r = files_converge(s, t, true, true, err, errlen);
                if (r < 0)
                        return r;
                r = trial_transition(s, t, TRIAL_ARMED, err, errlen);
                if (r < 0)
                        return r;
                _fallthrough_;
        case TRIAL_ARMED:
                if (t->files_state != TRIAL_FILES_INSTALLED) {
                        r = files_converge(s, t, true, true, err, errlen);
                        if (r < 0)
                                return r;
                }
                snprintf(msg, msglen, "trial %" PRIu64 " (%s) is armed again for its deadline", t->id, was);
                *ret = DRIVER_RECOVERED_ARMED;
                return 0;
        case TRIAL_CONFIRMED:
                /* After a reboot, the sysctls are the new boot's. */
                if (t->files_state != TRIAL_FILES_INSTALLED) {
                        r = files_converge(s, t, true, this_boot, err, errlen);
                        if (r < 0)
                                return r;
                }
                *ret = DRIVER_RECOVERED_IDLE;
                r = confirm_end(s, t, &warnings, err, errlen);
                if (r < 0)
                        return r;
                snprintf(msg, msglen, "trial %" PRIu64 " was confirmed%s: ended%s%s", t->id,
                         this_boot ? "" : " before the reboot", warnings ? "; " : "", warnings ?: "");
                return 0;
        case TRIAL_ROLLING_BACK:
                /* The saved target is live: the batch happened before the
                 * crash. Planning again from live would take our own
                 * rollback for another writer's change to what the trial
                 * wrote, and report it as a conflict. */
                r = dump_live(nl, &live, err, errlen);
                if (r < 0)
                        return r;
                r = rollback_tables_equal(live, t->target, t->touched, t->n_touched);
                if (r < 0)
                        return r;
                if (r == 0)
                        goto rollback;
                snprintf(msg, msglen, "trial %" PRIu64 " (%s) was rolled back before the restart: ended", t->id, was);
                *ret = DRIVER_RECOVERED_ROLLED_BACK;
                return rollback_finish(nl, s, t, NULL, rb, err, errlen);
        default:
                snprintf(err, errlen, "trial %" PRIu64 ": unexpected state %s", t->id, was);
                return -EINVAL;
        }

rollback:
        snprintf(msg, msglen, "trial %" PRIu64 " (%s) is rolled back", t->id, was);
        *ret = DRIVER_RECOVERED_ROLLED_BACK;
        return driver_rollback(nl, s, t, rb, err, errlen);
}

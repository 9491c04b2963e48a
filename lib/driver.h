/* SPDX-License-Identifier: GPL-2.0-or-later */
/* driver.h — the steps of a trial that write to the kernel: commit, rollback, recovery
 *
 * Each step takes an open TrialStore (so its lock is held throughout) and
 * keeps the order the design demands: the record is durable before the
 * kernel sees the matching change. fwguardd and the second dead-man
 * (`fwguard deadman`) both run them, so a rollback is the same whoever
 * does it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"
#include "persist.h"
#include "trial.h"

/* Begin a trial of @s1 (S1', guarded) over @s0 for the tables @touched,
 * guarding @ssh_ports (kept with it for the confirmation's proof), and
 * commit it in one batch conditioned on @s0->genid, then arm it (the record
 * says ARMED; the caller starts the timer). On success *ret is the trial.
 *   -ERESTART  the ruleset moved since @s0 was read: nothing changed (the
 *              trial went to the history as never committed);
 *   other      nothing changed; @err says why (a full or read-only state
 *              directory among the reasons).
 * A commit whose record cannot follow it is undone at once. */
int driver_commit(Nl *nl, TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                  const TableRef *touched, size_t n_touched, const uint16_t *ssh_ports,
                  size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                  uid_t uid, const char *summary, Trial **ret, char *err, size_t errlen);

/* driver_commit() with @files (fwguard run): they are in the record, with
 * both contents, before the batch; installed right after it (COMMITTED,
 * before ARMED); restored after the rollback batch (ROLLING_BACK, before
 * the trial ends). A file that cannot be installed undoes the commit.
 * Recovery converges them with the ruleset: new contents for a trial that
 * is committed, armed or confirmed, old ones for a rolled back one.
 * @persist (NULL: none) is staged with the trial before the batch, for its
 * confirmation to keep for a reboot (lib/persist). */
int driver_commit_files(Nl *nl, TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                        const TableRef *touched, size_t n_touched, const uint16_t *ssh_ports,
                        size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                        uid_t uid, const char *summary, const TrialFile *files, size_t n_files,
                        const TrialSysctl *sysctls, size_t n_sysctls, const PersistSource *persist,
                        Trial **ret, char *err, size_t errlen);

/* What a rollback did. */
typedef struct RollbackResult {
        bool exact;             /* the live tables equal the target after the batch */
        size_t n_conflicts;     /* other writers' changes that could not be carried over */
        char *report;           /* the conflicts, one per line; NULL when none */
} RollbackResult;

void rollback_result_clear(RollbackResult *r);

/* Roll the touched tables of @t back to its S0, carrying over what other
 * writers changed in them meanwhile (lib/rollback), in one batch
 * conditioned on the generation it planned from, planning again if another
 * writer got in between; then verify, save the report and end the trial
 * (it goes to the history as rolled back). @t must be COMMITTED, ARMED or
 * ROLLING_BACK; on success it is IDLE. */
int driver_rollback(Nl *nl, TrialStore *s, Trial *t, RollbackResult *ret, char *err, size_t errlen);

/* driver_rollback() whose report (the history's, and ret->report) begins
 * with the line @note: who rolled it back, when that is not fwguardd (the
 * second dead-man). ret->n_conflicts does not count it. */
int driver_rollback_noted(Nl *nl, TrialStore *s, Trial *t, const char *note, RollbackResult *ret,
                          char *err, size_t errlen);

/* ARMED → CONFIRMED → IDLE: the change stays, and the history keeps it.
 * What persist_stage() kept with the trial becomes persistent on the way
 * (lib/persist; every confirmation, the login hook's too, comes here or to
 * recovery). *ret_warnings: what the persistence has to say (references it
 * cannot re-resolve, or that it failed: the confirmation stands), or NULL. */
int driver_confirm(TrialStore *s, Trial *t, char **ret_warnings, char *err, size_t errlen);

/* What recovery decided for a trial found at start. */
typedef enum DriverRecovery {
        DRIVER_RECOVERED_IDLE,          /* nothing pending (the trial ended, or never committed) */
        DRIVER_RECOVERED_ARMED,         /* armed: the caller starts the timer (maybe expired) */
        DRIVER_RECOVERED_ROLLED_BACK,   /* it was rolling back, and now has */
} DriverRecovery;

/* Bring the pending trial @t, as the last run left it, to a defined state:
 * an interrupted commit is finished or found never made by comparing the
 * live ruleset with S0 and S1'; an interrupted rollback is done again from
 * what is live; a confirmed one ends; a trial from another boot is recorded
 * as ended by the reboot, without touching the kernel. @msg says what was
 * found, for the log. */
int driver_recover(Nl *nl, TrialStore *s, Trial *t, DriverRecovery *ret, RollbackResult *rb,
                   char *msg, size_t msglen, char *err, size_t errlen);

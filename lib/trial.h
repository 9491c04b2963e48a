/* SPDX-License-Identifier: GPL-2.0-or-later */
/* trial.h — the durable record of a guarded change and its state machine */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "batch.h"
#include "netsysctl.h"
#include "ruleset.h"

typedef enum TrialState {
        TRIAL_IDLE,
        TRIAL_SNAPSHOT_DURABLE,
        TRIAL_COMMITTED,
        TRIAL_ARMED,
        TRIAL_CONFIRMED,
        TRIAL_ROLLING_BACK,
        _TRIAL_STATE_MAX,
        _TRIAL_STATE_INVALID = -EINVAL,
} TrialState;

/* "idle", "snapshot-durable", "committed", "armed", "confirmed", "rolling-back":
 * the state as the record on disk spells it. */
const char *trial_state_to_string(TrialState s);
TrialState trial_state_from_string(const char *s);

/* The state machine's one table: may a trial in @from move to @to? */
bool trial_transition_allowed(TrialState from, TrialState to);

#define TRIAL_BOOT_ID_LEN 36
/* A lock timeout that waits as long as it takes. */
#define TRIAL_LOCK_WAIT_FOREVER UINT64_MAX
/* The longest report, in bytes: far above what a person reads. */
#define TRIAL_REPORT_MAX (1024 * 1024)
/* The most SSH ports a trial guards. */
#define TRIAL_PORTS_MAX 32

/* The most files a trial installs, and the largest one (fwguard run). */
#define TRIAL_FILES_MAX 64
#define TRIAL_FILE_MAX (16 * 1024 * 1024)

/* A file that a trial installs right after its ruleset commit and restores
 * on rollback (fwguard run). Both contents are kept in the trial directory,
 * so that recovery can put either back. */
typedef struct TrialFile {
        char *path;                     /* absolute and normalised */
        bool old_exists;                /* false: it did not exist (a rollback deletes it) */
        unsigned old_mode;              /* permission bits (07777), when it existed */
        char *old_data;
        size_t old_len;
        bool new_exists;                /* false: the trial deletes it */
        unsigned new_mode;
        char *new_data;
        size_t new_len;
} TrialFile;

void trial_files_free(TrialFile *f, size_t n);

/* The most network sysctls a trial sets (fwguard run): lib/netsysctl.h's. */
#define TRIAL_SYSCTLS_MAX 32

/* A network sysctl (one of lib/netsysctl.h) that a trial sets with its
 * files, right after the commit, and sets back on rollback. Both values are
 * in the record itself. */
typedef struct TrialSysctl {
        char name[NETSYSCTL_NAME_MAX];         /* "net/ipv4/ip_forward" */
        char old_value[NETSYSCTL_VALUE_MAX];   /* live when the trial began */
        char new_value[NETSYSCTL_VALUE_MAX];
} TrialSysctl;

/* Where the trial's files (and its network sysctls: one step with the
 * files) are. The record says it after each whole step:
 * while a step runs, some files may already hold the other content, which
 * is why recovery installs or restores all of them again (each write is
 * idempotent) instead of trusting this. */
typedef enum TrialFilesState {
        TRIAL_FILES_PENDING,            /* not installed yet */
        TRIAL_FILES_INSTALLED,          /* the new contents are in place */
        TRIAL_FILES_RESTORED,           /* the old contents are back */
        _TRIAL_FILES_STATE_MAX,
        _TRIAL_FILES_STATE_INVALID = -EINVAL,
} TrialFilesState;

const char *trial_files_state_to_string(TrialFilesState s);

typedef struct Trial {
        uint64_t id;                    /* increasing over the state directory's life */
        TrialState state;
        Ruleset *s0;                    /* the live ruleset before the change */
        Ruleset *s1;                    /* S1': the change with the guard, as committed */
        Ruleset *target;                /* the saved rollback target, NULL until set */
        unsigned target_seq;            /* names target-N.fwg; 0 while there is none */
        TableRef *touched;              /* the tables the commit replaces */
        size_t n_touched;
        uint64_t deadline_boottime_ns;  /* CLOCK_BOOTTIME: what the timer is armed on */
        uint64_t deadline_realtime_usec;/* CLOCK_REALTIME: for display, and after a reboot */
        char boot_id[TRIAL_BOOT_ID_LEN + 1];
        uint32_t genid;                 /* the generation the commit is conditioned on */
        uint64_t created_usec;          /* CLOCK_REALTIME */
        uint64_t committed_usec;        /* CLOCK_REALTIME, 0 until COMMITTED */
        uint64_t committed_boottime_ns; /* CLOCK_BOOTTIME, 0 until COMMITTED: a confirming
                                         * login must have started after it */
        uint16_t ssh_ports[TRIAL_PORTS_MAX]; /* the guarded SSH ports, which a confirming
                                         * login must have come in on */
        size_t n_ssh_ports;
        uid_t uid;                      /* who asked for the change */
        char *summary;                  /* free text for the user, any bytes but NUL */
        char *report;                   /* trial_set_report()'s text, NULL while there is none */
        TrialFile *files;               /* installed with the commit; contents only with the snapshots */
        size_t n_files;
        TrialSysctl *sysctls;           /* set with the files, in the same step */
        size_t n_sysctls;
        TrialFilesState files_state;    /* of the files and the sysctls together */
} Trial;

Trial *trial_free(Trial *t);
static inline void trial_freep(Trial **t) { if (*t) trial_free(*t); }

/* A finished trial, as the history lists it. @state is the state the trial
 * ended from: CONFIRMED, ROLLING_BACK (rolled back) or SNAPSHOT_DURABLE
 * (never committed). */
typedef struct TrialSummary {
        uint64_t id;
        TrialState state;
        uint64_t created_usec;
        uint64_t committed_usec;
        uid_t uid;
        char *summary;
        char *report;                   /* NULL: the trial has none */
} TrialSummary;

void trial_summaries_free(TrialSummary *s, size_t n);
void trial_summary_clear(TrialSummary *s);

/* Take the exclusive lock of @state_dir (an flock on STATE_DIR/lock, which is
 * created). @timeout_usec 0: do not wait, -EBUSY if someone holds it;
 * TRIAL_LOCK_WAIT_FOREVER: wait; otherwise wait that long, then -ETIMEDOUT.
 * The lock is the returned fd's; closing it releases the lock. */
int trial_lock(const char *state_dir, uint64_t timeout_usec, int *ret_fd);

/* The state directory, opened under its lock for the store's life: hold a
 * store for one transition (or a short sequence of them), so that the daemon
 * and the second dead-man take turns. Creates @state_dir (mode 0700; its
 * parent must exist). Finished trials are kept in the history, the newest
 * @history_max of them (at least 1: the newest id is what the next id
 * follows). */
typedef struct TrialStore TrialStore;
int trial_store_open(const char *state_dir, unsigned history_max, uint64_t lock_timeout_usec,
                     TrialStore **ret);
TrialStore *trial_store_free(TrialStore *s);
static inline void trial_store_freep(TrialStore **s) { if (*s) trial_store_free(*s); }

/* The state directory of @s. */
const char *trial_store_dir(const TrialStore *s);

/* Other modules keep files of their own beside the pending trial's record
 * (lib/persist: what a confirmation makes persistent), named
 * TRIAL_EXTRA_PREFIX...: like the report, the record does not name them,
 * trial_load() keeps them, they go into the history with the trial, and
 * they must be written whole (fileio_write_atomic()). The path of @name in
 * the trial directory (NULL: out of memory). */
#define TRIAL_EXTRA_PREFIX "extra-"
char *trial_store_path(const TrialStore *s, const char *name);

/* The pending trial, with its snapshots. 0 and *ret = NULL when idle.
 * Leftovers of interrupted writes (temporary files, snapshots that no record
 * names) are removed. -EBADMSG, with @err saying what, for a damaged record
 * or snapshot. */
int trial_load(TrialStore *s, Trial **ret, char *err, size_t errlen);

/* The pending trial's record as it is on disk, without its snapshots, and
 * without the lock or any cleaning: a look from outside that changes nothing
 * (fwguard doctor, when no daemon answers). 0 and *ret = NULL when no record
 * is there; -EBADMSG for a damaged one (or one that a writer replaced under
 * us), -EACCES without the right to read the state directory. */
int trial_peek(const char *state_dir, Trial **ret, char *err, size_t errlen);

/* Is @t still the pending trial, exactly as the record on disk says (1), or
 * did another process (the second dead-man, `fwguard deadman`) end or
 * change it since @t was loaded (0: no record, another trial, or another
 * state of it)? Call it with @s open, so that the answer holds while the
 * lock does. */
int trial_is_current(TrialStore *s, const Trial *t, char *err, size_t errlen);

/* Was @t begun in this boot (1) or an earlier one (0)? */
int trial_this_boot(const Trial *t);

/* IDLE → SNAPSHOT_DURABLE: write S0 and S1' and then the record, each durably.
 * On failure (-ENOSPC, -EROFS, ...) nothing of the trial is left on disk.
 * -EBUSY if a trial is pending; -E2BIG for more than TRIAL_PORTS_MAX
 * @ssh_ports (the guarded ones). The rulesets are copied. */
int trial_begin(TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                const TableRef *touched, size_t n_touched,
                const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                uint32_t genid, uid_t uid, const char *summary, Trial **ret,
                char *err, size_t errlen);

/* trial_begin() with files that the trial installs (copied): the record
 * names them, and their old and new contents are durable with it. -E2BIG
 * for more than TRIAL_FILES_MAX, or a content above TRIAL_FILE_MAX. */
int trial_begin_files(TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                      const TableRef *touched, size_t n_touched,
                      const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                      uint32_t genid, uid_t uid, const char *summary,
                      const TrialFile *files, size_t n_files, Trial **ret,
                      char *err, size_t errlen);

/* trial_begin_files() with network sysctls too (copied; names from
 * lib/netsysctl.h, else -EINVAL; at most TRIAL_SYSCTLS_MAX, else -E2BIG):
 * the record holds their old and new values. */
int trial_begin_run(TrialStore *s, const Ruleset *s0, const Ruleset *s1,
                    const TableRef *touched, size_t n_touched,
                    const uint16_t *ssh_ports, size_t n_ssh_ports, uint64_t deadline_boottime_ns,
                    uint32_t genid, uid_t uid, const char *summary,
                    const TrialFile *files, size_t n_files, const TrialSysctl *sysctls, size_t n_sysctls,
                    Trial **ret, char *err, size_t errlen);

/* Record where the trial's files are, durably. Allowed in every state but
 * IDLE (-EPERM). */
int trial_set_files_state(TrialStore *s, Trial *t, TrialFilesState st, char *err, size_t errlen);

/* Save @target as the rollback target, durably, before the trial enters (or
 * retries) ROLLING_BACK. Allowed in COMMITTED, ARMED and ROLLING_BACK. */
int trial_set_target(TrialStore *s, Trial *t, const Ruleset *target, char *err, size_t errlen);

/* Move the deadline (an extension, or re-arming after a restart), durably:
 * the record holds the new deadline before @t does. Allowed in COMMITTED and
 * ARMED, the states whose timer is armed or about to be; -EPERM otherwise. */
int trial_set_deadline(TrialStore *s, Trial *t, uint64_t deadline_boottime_ns,
                       uint64_t deadline_realtime_usec, char *err, size_t errlen);

/* Save @text (any bytes but NUL, at most TRIAL_REPORT_MAX, else -E2BIG) as
 * the trial's report, replacing any earlier one atomically: what a rollback
 * could not carry over, or that a reboot ended the trial. It is kept with the
 * trial and goes into its history entry. Allowed in every state but IDLE
 * (-EPERM). */
int trial_set_report(TrialStore *s, Trial *t, const char *text, char *err, size_t errlen);

/* The one transition function: -EPERM, with @err naming from → to, for a
 * transition the table refuses; otherwise the record is durable in state @to
 * before it returns, and only then does @t change. Entering ROLLING_BACK
 * needs a saved target (-EINVAL). To IDLE ends the trial: its directory
 * becomes the history entry HISTORY/ID and the history is cut to the
 * store's length. IDLE → SNAPSHOT_DURABLE is trial_begin()'s (-EINVAL here). */
int trial_transition(TrialStore *s, Trial *t, TrialState to, char *err, size_t errlen);

/* The finished trials, oldest first. */
int trial_history(TrialStore *s, TrialSummary **ret, size_t *ret_n, char *err, size_t errlen);

/* The finished trial @id, with its snapshots and report; its state is the
 * one it ended from, as in TrialSummary. -ENOENT if the history does not
 * hold it (never begun, still pending, or pruned); -EBADMSG if it is damaged. */
int trial_history_load(TrialStore *s, uint64_t id, Trial **ret, char *err, size_t errlen);

/* The finished trial @id as trial_history() lists it (trial_summary_clear()
 * frees its texts); -ENOENT as trial_history_load(). */
int trial_history_summary(TrialStore *s, uint64_t id, TrialSummary *ret, char *err, size_t errlen);

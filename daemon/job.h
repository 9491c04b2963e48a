/* SPDX-License-Identifier: GPL-2.0-or-later */
/* job.h — the slow part of a request (compile, guard, probe) in a thread of its own
 *
 * Compiling a file and probing reachability take seconds and run child
 * processes; the event loop must meanwhile answer Status, confirm and roll
 * back on time. A Job does that part in a thread and hands its result back
 * to the loop, which does everything that writes (lib/trial, the kernel).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "batch.h"
#include "change.h"
#include "config.h"
#include "ruleset.h"
#include "trial.h"

typedef enum JobKind {
        JOB_APPLY,              /* S0, S1, guard, pre-flight: what a trial needs */
        JOB_CHECK,              /* `fwguard check`, rendered */
        JOB_DIFF,               /* `fwguard diff`, rendered */
        JOB_LIVE,               /* the pre-flight of the live ruleset itself (S1 = S0): the
                                 * guard monitor's check, unrendered */
} JobKind;

typedef struct JobRequest {
        JobKind kind;
        int fd;                 /* the caller's input; -1 with @tables */
        char *display_name;
        /* Instead of a file: these tables become what @refs names (a ref
         * without a table here is deleted). For rollback --to. */
        Ruleset *tables;
        TableRef *refs;
        size_t n_refs;
        /* Instead of a file: S1 itself, the whole ruleset (fwguard run's
         * result); tables that another process owns stay as they are live. */
        Ruleset *s1;
        /* Run: the files the trial installs (new contents; the old ones are
         * read at the commit), and the generation of the seed, which S0 must
         * have: otherwise the ruleset moved since the command ran. */
        TrialFile *files;
        size_t n_files;
        /* Run: the network sysctls it sets (new values; the old ones are
         * read at the commit, like the files' contents). */
        TrialSysctl *sysctls;
        size_t n_sysctls;
        bool run;
        uint32_t seed_genid;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        pid_t pid;
        bool replace_all;
        bool probe;             /* run the reachability probe (not with --no-preflight) */
        bool json;              /* CHECK, DIFF: render JSON */
        bool with_diff;         /* APPLY: render the diff too, as text (rollback --to shows it) */
        bool persist;           /* APPLY of nft text: find out whether it stands alone (lib/persist) */
        const Config *config;   /* outlives the job */
} JobRequest;

typedef struct JobResult {
        int error;              /* negative errno, 0 on success */
        char *errors;           /* text for the user when @error */
        Ruleset *s0;            /* live, with its genid */
        Ruleset *s1;            /* as written */
        ChangeCheck *check;     /* APPLY, LIVE: ports, targets, S1', verdicts */
        TableRef *touched;      /* APPLY: what the commit replaces (S0 → S1') */
        size_t n_touched;
        char *deleted_owned;    /* APPLY: "ip f2b-table (fail2ban), ..." or NULL */
        char *summary;          /* APPLY: the change, one line per table */
        char *output;           /* CHECK, DIFF: the rendered report; APPLY: the diff, if asked */
        bool text;              /* the input was nft text, not a snapshot */
        bool standalone;        /* APPLY with @persist: PersistSource.standalone */
        int exit_code;          /* CHECK, DIFF: the report's exit code */
} JobResult;

typedef struct Job Job;
typedef void (*job_done_t)(Job *job, const JobResult *result, void *userdata);

/* Start @req (taken over, also on failure) in a new thread; @done runs in
 * the loop of @event when it has finished, and the job is freed after it.
 * The job first turns @req->fd into a memfd of the whole input, so that the
 * request can be taken back (job_take_request()) and run again. */
int job_start(sd_event *event, JobRequest *req, job_done_t done, void *userdata, Job **ret);

/* The request the job runs (its fd is gone after job_take_request()). */
const JobRequest *job_request(const Job *job);

/* From @done: take the request back, its input rewound, to start it again. */
void job_take_request(Job *job, JobRequest *ret);

/* Wait for the thread and free the job, without calling @done. */
Job *job_free(Job *job);

void job_request_clear(JobRequest *req);

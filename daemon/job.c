/* SPDX-License-Identifier: GPL-2.0-or-later */
/* job.c — the slow part of a request in a thread of its own
 *
 * The thread owns its request and result and shares nothing with the loop
 * but the Config (read-only) and an eventfd: when it is done it writes the
 * eventfd, and the loop joins it and runs the callback. It opens its own
 * netlink socket. The children it starts (the sandbox) never allocate
 * between fork() and exec(), so the loop's thread may hold any lock then.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diff.h"
#include "fileio.h"
#include "job.h"
#include "nl.h"
#include "rollback.h"
#include "snapshot.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

struct Job {
        JobRequest req;
        JobResult res;
        pthread_t thread;
        bool started;
        int efd;
        sd_event_source *source;
        job_done_t done;
        void *userdata;
};

void job_request_clear(JobRequest *req) {
        if (req->fd >= 0)
                close(req->fd);
        free(req->display_name);
        ruleset_free(req->tables);
        table_refs_free(req->refs, req->n_refs);
        ruleset_free(req->s1);
        trial_files_free(req->files, req->n_files);
        free(req->sysctls);
        free(req->groups);
        *req = (JobRequest) { .fd = -1 };
}

static void job_result_clear(JobResult *res) {
        free(res->errors);
        ruleset_free(res->s0);
        ruleset_free(res->s1);
        change_check_free(res->check);
        table_refs_free(res->touched, res->n_touched);
        free(res->deleted_owned);
        free(res->summary);
        free(res->output);
        *res = (JobResult) {};
}

Job *job_free(Job *job) {
        if (!job)
                return NULL;
        if (job->started)
                (void) pthread_join(job->thread, NULL);
        sd_event_source_disable_unref(job->source);
        if (job->efd >= 0)
                close(job->efd);
        job_request_clear(&job->req);
        job_result_clear(&job->res);
        free(job);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);

static int fail(JobResult *res, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(JobResult *res, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&res->errors, fmt, ap) < 0)
                res->errors = NULL;
        va_end(ap);
        return res->error = r;
}

/* S0 with each table that @refs names replaced by its version in @tables,
 * or deleted where @tables has none. */
static int s1_from_tables(const Ruleset *s0, Ruleset *tables, const TableRef *refs, size_t n_refs,
                          Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        int r;

        r = ruleset_copy(s0, &s1);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_refs; i++) {
                RsTable *old = ruleset_find_table(s1, refs[i].family, refs[i].name);
                RsTable *t = ruleset_find_table(tables, refs[i].family, refs[i].name);

                if (old && old->owned)
                        return -EPERM;
                if (old)
                        ruleset_drop_table(s1, old);
                if (t) {
                        r = ruleset_take_table(s1, tables, t);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s1);
        return 0;
}

/* @given as S1, but for the tables that another process owns in @s0,
 * which stay as they are live: we cannot write them anyway. */
static int s1_from_given(const Ruleset *s0, const Ruleset *given, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL, *live = NULL;
        int r;

        r = ruleset_copy(given, &s1);
        if (r >= 0)
                r = ruleset_copy(s0, &live);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s0->tables.n; i++) {
                const RsTable *o = ruleset_table(s0, i);
                RsTable *mine, *keep;

                if (!o->owned)
                        continue;
                mine = ruleset_find_table(s1, o->family, o->name);
                if (mine)
                        ruleset_drop_table(s1, mine);
                keep = ruleset_find_table(live, o->family, o->name);
                r = keep ? ruleset_take_table(s1, live, keep) : 0;
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s1);
        return 0;
}

/* "ip f2b-table (fail2ban), ..." for the tables S1 deletes that another tool owns. */
static int deleted_owned(const Ruleset *s0, const Ruleset *s1, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        bool any = false;

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < s0->tables.n; i++) {
                const RsTable *t = ruleset_table(s0, i);
                const char *owner = change_table_owner(t);

                if (owner && !ruleset_find_table(s1, t->family, t->name)) {
                        fprintf(f, "%s%s %s (%s)", any ? ", " : "", family_name(t->family), t->name, owner);
                        any = true;
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = any ? TAKE_PTR(text) : NULL;
        return 0;
}

/* One line per touched table: what the change (as written, without the
 * guard) does to it. */
static int summarize(const Ruleset *s0, const Ruleset *s1, const TableRef *touched, size_t n,
                     char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r = 0;

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const RsTable *a = ruleset_find_table(s0, touched[i].family, touched[i].name);
                const RsTable *b = ruleset_find_table(s1, touched[i].family, touched[i].name);
                _cleanup_(diff_freep) Diff *d = NULL;
                size_t count[_DIFF_CHANGE_MAX] = {};

                fprintf(f, "%s %s: ", family_name(touched[i].family), touched[i].name);
                if (!b) {
                        fprintf(f, "deleted\n");
                        continue;
                }
                r = diff_tables(a, b, 0, &d);
                if (r < 0)
                        break;
                for (size_t j = 0; j < d->n; j++)
                        count[d->entries[j].change]++;
                fprintf(f, "%s, %zu added, %zu removed, %zu changed\n", a ? "changed" : "created",
                        count[DIFF_ADDED], count[DIFF_REMOVED], count[DIFF_CHANGED]);
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}

static int render(JobRequest *req, JobResult *res) {
        size_t len = 0;
        FILE *f = open_memstream(&res->output, &len);
        char err[512] = "";
        int r = 0;

        if (!f)
                return fail(res, -ENOMEM, "out of memory");
        if (req->kind != JOB_CHECK)
                r = change_report_diff(f, NULL, req->display_name, res->s0, res->s1, req->json, err, sizeof(err));
        else
                res->exit_code = change_report_check(f, req->display_name, res->check, req->json);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return fail(res, r, "%s", *err ? err : strerror(-r));
        return 0;
}

/* The caller's input, whole, in a sealed memfd: it may be a pipe that can
 * be read only once, and a file that changes under us must not make a redo,
 * or the text kept for a reboot (lib/persist), differ from what was
 * compiled. A redo finds it sealed already. */
static int input_sealed(JobRequest *req, JobResult *res) {
        _cleanup_close_ int fd = -1;
        int r;

        if (req->fd < 0 || fcntl(req->fd, F_GET_SEALS) > 0)
                return 0;
        fd = memfd_create("fwguard-input", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return fail(res, negative_errno(), "cannot buffer the input: %m");
        r = fileio_copy(req->fd, fd);
        if (r < 0)
                return fail(res, r, "cannot read %s: %s", req->display_name, strerror(-r));
        r = fileio_seal(fd);
        if (r < 0)
                return fail(res, r, "cannot buffer the input: %s", strerror(-r));
        close(req->fd);
        req->fd = TAKE_FD(fd);
        return 0;
}

static ChangeCaller request_caller(const JobRequest *req) {
        return (ChangeCaller) {
                .uid = req->uid, .gid = req->gid, .groups = req->groups, .n_groups = req->n_groups,
                .pid = req->pid,
        };
}

/* Does the text make the tables it changes from nothing? Compiled again
 * over S0 without them, it must give them as it did (lib/persist: then it
 * replaces what earlier applies made of them). */
static int text_standalone(JobRequest *req, JobResult *res) {
        const Preflight *p = res->check->preflight;
        _cleanup_(ruleset_freep) Ruleset *bare = NULL, *again = NULL;
        _cleanup_free_ char *errors = NULL;
        ChangeCaller caller = request_caller(req);
        int r;

        r = ruleset_copy(res->s0, &bare);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_touched; i++) {
                RsTable *t = ruleset_find_table(bare, p->touched[i].family, p->touched[i].name);

                if (t && !t->owned)
                        ruleset_drop_table(bare, t);
        }
        if (lseek(req->fd, 0, SEEK_SET) < 0)
                return negative_errno();
        r = change_load(req->fd, req->display_name, bare, req->config, &caller, false, &again, &errors);
        if (r == -ENOMEM)
                return r;
        /* Text that fails without those tables (`add rule` to one) depends on them. */
        r = r < 0 ? 0 : rollback_tables_equal(again, res->s1, p->touched, p->n_touched);
        if (r < 0)
                return r;
        res->standalone = r > 0;
        return 0;
}

const JobRequest *job_request(const Job *job) {
        return &job->req;
}

void job_take_request(Job *job, JobRequest *ret) {
        if (job->req.fd >= 0)
                (void) lseek(job->req.fd, 0, SEEK_SET);
        *ret = job->req;
        job->req = (JobRequest) { .fd = -1 };
}

static int job_run(JobRequest *req, JobResult *res) {
        _cleanup_(nl_freep) Nl *nl = NULL;
        _cleanup_free_ char *errors = NULL;
        int r;

        r = input_sealed(req, res);
        if (r < 0)
                return r;

        r = nl_open(&nl);
        if (r < 0)
                return fail(res, r, "cannot open the nftables netlink socket: %s", strerror(-r));
        r = ruleset_dump(nl, &res->s0);
        if (r < 0)
                return fail(res, r, "cannot read the live ruleset: %s", strerror(-r));

        if (req->fd >= 0) {
                ChangeCaller caller = request_caller(req);
                char magic[SNAPSHOT_MAGIC_LEN];

                res->text = pread(req->fd, magic, sizeof(magic), 0) != (ssize_t) sizeof(magic) ||
                            !snapshot_has_magic(magic, sizeof(magic));
                r = change_load(req->fd, req->display_name, res->s0, req->config, &caller,
                                req->replace_all, &res->s1, &errors);
        } else if (req->kind == JOB_LIVE)
                r = ruleset_copy(res->s0, &res->s1);
        else if (req->s1)
                r = s1_from_given(res->s0, req->s1, &res->s1);
        else
                r = s1_from_tables(res->s0, req->tables, req->refs, req->n_refs, &res->s1);
        if (r < 0) {
                res->errors = TAKE_PTR(errors);
                return res->error = r;
        }
        if (req->kind == JOB_DIFF)
                return render(req, res);

        /* An empty ruleset blocks nothing: the live check needs only the ports then. */
        r = change_check(res->s0, res->s1, req->config, req->pid,
                         req->probe && (req->kind != JOB_LIVE || res->s0->tables.n > 0), &res->check, &errors);
        if (r < 0) {
                res->errors = TAKE_PTR(errors);
                return res->error = r;
        }
        if (req->kind == JOB_CHECK)
                return render(req, res);
        if (req->kind == JOB_LIVE)
                return 0;

        r = diff_changed_tables(res->s0, res->check->preflight->guarded, 0, &res->touched, &res->n_touched);
        if (r >= 0)
                r = deleted_owned(res->s0, res->s1, &res->deleted_owned);
        if (r >= 0)
                r = summarize(res->s0, res->s1, res->touched, res->n_touched, &res->summary);
        if (r >= 0 && req->persist && res->text && res->check->preflight->n_touched > 0)
                r = text_standalone(req, res);
        if (r < 0)
                return fail(res, r, "%s", strerror(-r));
        return req->with_diff ? render(req, res) : 0;
}

static void *job_thread(void *userdata) {
        Job *job = userdata;
        uint64_t one = 1;

        (void) job_run(&job->req, &job->res);
        if (write(job->efd, &one, sizeof(one)) < 0)
                abort();        /* an eventfd write only fails on overflow */
        return NULL;
}

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Job *job = userdata;

        (void) pthread_join(job->thread, NULL);
        job->started = false;
        job->done(job, &job->res, job->userdata);
        job_free(job);
        return 0;
}

int job_start(sd_event *event, JobRequest *req, job_done_t done, void *userdata, Job **ret) {
        _cleanup_(job_freep) Job *job = calloc(1, sizeof(Job));
        int r;

        if (!job) {
                job_request_clear(req);
                return -ENOMEM;
        }
        job->req = *req;
        *req = (JobRequest) { .fd = -1 };
        job->done = done;
        job->userdata = userdata;
        job->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (job->efd < 0)
                return negative_errno();
        r = sd_event_add_io(event, &job->source, job->efd, EPOLLIN, on_job_done, job);
        if (r < 0)
                return r;
        r = pthread_create(&job->thread, NULL, job_thread, job);
        if (r != 0)
                return -r;
        job->started = true;
        *ret = TAKE_PTR(job);
        return 0;
}

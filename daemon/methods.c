/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods.c — org.fwguard.Manager1: who may call what, and what each call does
 *
 * Apply and RollbackTo answer late: the slow part (compile, guard, probe)
 * runs in a Job, and the loop commits when it is done. Until then another
 * apply is refused, as it is while a trial is pending: one trial at a time.
 *
 * Errors carry names that the CLI turns into its exit codes (manager.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "change.h"
#include "fileio.h"
#include "snapshot.h"
#include "log.h"
#include "manager.h"
#include "netsysctl.h"
#include "peer.h"
#include "persist.h"
#include "runfiles.h"
#include "testpoint.h"

/* A file whose commit keeps losing the race with another writer. */
#define APPLY_ATTEMPTS_MAX 3
/* Apply flags, as the CLI sends them. */
#define APPLY_ALLOW_DELETE (UINT64_C(1) << 0)
#define APPLY_NO_PREFLIGHT (UINT64_C(1) << 1)
#define APPLY_REPLACE_ALL  (UINT64_C(1) << 2)
#define APPLY_FLAGS_ALL    (APPLY_ALLOW_DELETE | APPLY_NO_PREFLIGHT | APPLY_REPLACE_ALL)
/* All the new contents of one Run together: each is at most TRIAL_FILE_MAX. */
#define RUN_FILES_TOTAL_MAX (64 * 1024 * 1024)
/* Run's refusal when the ruleset is not the one the command ran on. */
#define RUN_STALE "the ruleset changed since the command ran: run it again"

typedef enum Access {
        ACCESS_ANYONE,                  /* any local user: reads that reveal no rules */
        ACCESS_ADMIN,                   /* root, and the config's admin group */
        ACCESS_ROOT,                    /* root only: Run installs files that a command wrote as root */
} Access;

/* The authorization table: one line per method of MANAGER_INTERFACE.
 * Check, Diff and History change nothing, but they show rules of the live
 * ruleset (History: the conflicts of a rollback), which only root may read. */
static const struct {
        const char *member;
        Access access;
} method_access[] = {
        { "Status",     ACCESS_ANYONE },
        { "History",    ACCESS_ADMIN },
        { "Apply",      ACCESS_ADMIN },
        { "Confirm",    ACCESS_ADMIN },
        { "Rollback",   ACCESS_ADMIN },
        { "Extend",     ACCESS_ADMIN },
        { "RollbackTo", ACCESS_ADMIN },
        { "Check",      ACCESS_ADMIN },
        { "Diff",       ACCESS_ADMIN },
        { "Run",        ACCESS_ROOT },
};

static int is_admin(Manager *m, sd_bus_creds *creds) {
        struct group grbuf, *gr = NULL;
        const gid_t *gids;
        char buf[4096];
        uid_t euid;
        gid_t egid;
        int r, n;

        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;
        if (euid == 0)
                return 1;
        if (!m->config->admin_group)
                return 0;
        /* Looked up at each call: the group may be made after we start. */
        if (getgrnam_r(m->config->admin_group, &grbuf, buf, sizeof(buf), &gr) != 0 || !gr)
                return 0;
        if (sd_bus_creds_get_egid(creds, &egid) >= 0 && egid == gr->gr_gid)
                return 1;
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        for (int i = 0; i < n; i++)
                if (gids[i] == gr->gr_gid)
                        return 1;
        return 0;
}

bool manager_root_only(const char *member) {
        for (size_t i = 0; i < ELEMENTSOF(method_access); i++)
                if (streq_ptr(member, method_access[i].member))
                        return method_access[i].access == ACCESS_ROOT;
        return false;
}

int manager_may_call(Manager *m, const char *member, sd_bus_creds *creds) {
        uid_t euid;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(method_access); i++) {
                if (!streq_ptr(member, method_access[i].member))
                        continue;
                switch (method_access[i].access) {
                case ACCESS_ANYONE:
                        return 1;
                case ACCESS_ROOT:
                        r = sd_bus_creds_get_euid(creds, &euid);
                        return r < 0 ? r : euid == 0;
                default:
                        return is_admin(m, creds);
                }
        }
        return 0;
}

/* D-Bus strings must be UTF-8 and summaries may hold any bytes: anything
 * outside printable ASCII (newlines aside) becomes '?', so a stray byte can
 * never make a reply fail. */
static void sanitize_ascii(char *s) {
        for (; s && *s; s++)
                if (((unsigned char) *s < 0x20 && *s != '\n') || (unsigned char) *s >= 0x7f)
                        *s = '?';
}

static const char *pending_text(const Manager *m, char *buf, size_t len) {
        if (m->trial)
                snprintf(buf, len, "trial %" PRIu64 " is pending: confirm it from a NEW ssh login "
                         "(`fwguard confirm`), or roll it back now (`fwguard rollback`)", m->trial->id);
        else
                snprintf(buf, len, "another change is being prepared; try again in a moment");
        return buf;
}

/* Every connection hears the signal, unprivileged ones too: it carries the
 * first line of the reason only, never the rules that the rest may quote. */
static void emit_refused(Manager *m, const char *text) {
        _cleanup_free_ char *line = strndup(text, strcspn(text, "\n"));

        if (line)
                manager_emit(m, "Refused", "s", line);
}

static int refuse(Manager *m, sd_bus_error *error, const char *name, const char *fmt, ...) _printf_(4, 5);
static int refuse(Manager *m, sd_bus_error *error, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return -ENOMEM;
        log_event(LOG_NOTICE, LOG_ID_REFUSAL, 0, "refused: %s", text);
        emit_refused(m, text);
        return sd_bus_error_set(error, name, text);
}

/* ---------------------------------------------------------------- Status, History */

static int on_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(trial_freep) Trial *disk = NULL;
        Manager *m = userdata;
        _cleanup_free_ char *summary = NULL;
        const Trial *t = m->trial;

        /* What the record says, when the second dead-man got there first. */
        if (manager_peek(m, &disk) > 0)
                t = disk;
        if (!t)
                return sd_bus_reply_method_return(msg, "stts", m->apply ? "preparing" : "idle",
                                                  UINT64_C(0), UINT64_C(0), "");
        summary = strdup(t->summary ?: "");
        if (!summary)
                return -ENOMEM;
        sanitize_ascii(summary);
        return sd_bus_reply_method_return(msg, "stts", trial_state_to_string(t->state),
                                          t->id, t->deadline_realtime_usec, summary);
}

/* Is m->trial still pending? Asked under the lock (manager_sync()), so that
 * a trial that the second dead-man ended blocks nothing. */
static int trial_pending(Manager *m, sd_bus_error *error) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        char note[512], err[512] = "";
        int r = manager_sync(m, &store, note, sizeof(note), err, sizeof(err));

        return r < 0 ? sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", err) : r;
}

static const char *outcome(TrialState ended_from) {
        switch (ended_from) {
        case TRIAL_CONFIRMED:           return "confirmed";
        case TRIAL_ROLLING_BACK:        return "rolled-back";
        case TRIAL_SNAPSHOT_DURABLE:    return "not-committed";
        default:                        return trial_state_to_string(ended_from) ?: "unknown";
        }
}

static int on_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        TrialSummary *h = NULL;
        Manager *m = userdata;
        char err[512] = "";
        size_t n = 0;
        int r;

        r = manager_store(m, &store, err, sizeof(err));
        if (r >= 0)
                r = trial_history(store, &h, &n, err, sizeof(err));
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", *err ? err : strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tsttuss)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sanitize_ascii(h[i].summary);
                sanitize_ascii(h[i].report);
                r = sd_bus_message_append(reply, "(tsttuss)", h[i].id, outcome(h[i].state),
                                          h[i].created_usec, h[i].committed_usec, (uint32_t) h[i].uid,
                                          h[i].summary ?: "", h[i].report ?: "");
        }
        trial_summaries_free(h, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---------------------------------------------------------------- Apply, RollbackTo */

static void on_apply_prepared(Job *job, const JobResult *res, void *userdata);

static int timeout_check(Manager *m, uint64_t sec, sd_bus_error *error) {
        if (sec < m->config->trial_timeout_min_sec || sec > m->config->trial_timeout_max_sec)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "a timeout of %" PRIu64 " s is outside %u..%u s (fwguard.conf [trial])",
                                         sec, m->config->trial_timeout_min_sec, m->config->trial_timeout_max_sec);
        return 0;
}

/* The caller's credentials for the request: files are read with them. */
static int request_caller(sd_bus_message *msg, JobRequest *req) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const gid_t *gids = NULL;
        int r, n;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                      SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_PID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &req->uid);
        if (r >= 0)
                r = sd_bus_creds_get_egid(creds, &req->gid);
        if (r >= 0)
                r = sd_bus_creds_get_pid(creds, &req->pid);
        if (r < 0)
                return r;
        /* Without SO_PEERGROUPS the caller reads with its primary group only:
         * less than it may, never more. */
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        if (n > 0) {
                req->groups = memdup(gids, sizeof(gid_t) * (size_t) n);
                if (!req->groups)
                        return -ENOMEM;
                req->n_groups = (size_t) n;
        }
        return 0;
}

/* Start preparing an apply of @req for @msg. */
static int apply_start(Manager *m, sd_bus_message *msg, JobRequest *req, uint64_t timeout_sec,
                       uint64_t flags, sd_bus_error *error) {
        char buf[256];
        int r;

        r = m->apply ? 0 : trial_pending(m, error);
        if (r < 0 || m->trial || m->apply) {
                job_request_clear(req);
                return r < 0 ? r : refuse(m, error, FWGUARD_ERROR_REFUSED, "%s", pending_text(m, buf, sizeof(buf)));
        }
        r = request_caller(msg, req);
        if (r < 0) {
                job_request_clear(req);
                return r;
        }
        req->kind = JOB_APPLY;
        req->persist = req->fd >= 0 && persist_enabled(m->state_dir) > 0;
        req->replace_all = flags & APPLY_REPLACE_ALL;
        req->probe = !(flags & APPLY_NO_PREFLIGHT);
        req->config = m->config;
        m->apply_timeout_sec = timeout_sec ?: m->config->trial_timeout_default_sec;
        m->apply_no_preflight = flags & APPLY_NO_PREFLIGHT;
        m->apply_allow_delete = flags & APPLY_ALLOW_DELETE;
        m->apply_attempt = 0;
        log_event(m->apply_no_preflight ? LOG_WARNING : LOG_INFO, LOG_ID_APPLY, 0,
                  "uid %u applies %s (timeout %" PRIu64 " s%s)",
                  (unsigned) req->uid, req->display_name, m->apply_timeout_sec,
                  m->apply_no_preflight ? ", WITHOUT the pre-flight" : "");
        r = job_start(m->event, req, on_apply_prepared, m, &m->apply);
        if (r < 0)
                return r;
        m->apply_msg = sd_bus_message_ref(msg);
        return 1;
}

static int apply_args(Manager *m, uint64_t timeout_sec, uint64_t flags, sd_bus_error *error) {
        if (flags & ~APPLY_FLAGS_ALL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown flags %#" PRIx64, flags);
        return timeout_sec ? timeout_check(m, timeout_sec, error) : 0;
}

static int on_apply(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        JobRequest req = { .fd = -1 };
        const char *name;
        uint64_t timeout_sec, flags;
        int fd, r;

        r = sd_bus_message_read(msg, "hstt", &fd, &name, &timeout_sec, &flags);
        if (r < 0)
                return r;
        r = apply_args(m, timeout_sec, flags, error);
        if (r < 0)
                return r;
        req.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (req.fd < 0)
                return negative_errno();
        req.display_name = strdup(*name ? name : "-");
        if (!req.display_name) {
                job_request_clear(&req);
                return -ENOMEM;
        }
        return apply_start(m, msg, &req, timeout_sec, flags, error);
}

static int on_rollback_to(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(trial_freep) Trial *entry = NULL;
        Manager *m = userdata;
        JobRequest req = { .fd = -1 };
        uint64_t id, timeout_sec, flags;
        char err[512] = "";
        int r;

        r = sd_bus_message_read(msg, "ttt", &id, &timeout_sec, &flags);
        if (r < 0)
                return r;
        r = apply_args(m, timeout_sec, flags & ~APPLY_REPLACE_ALL, error);
        if (r < 0)
                return r;
        r = manager_store(m, &store, err, sizeof(err));
        if (r >= 0)
                r = trial_history_load(store, id, &entry, err, sizeof(err));
        if (r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "trial %" PRIu64 " is not in the history (see `fwguard history`)", id);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", *err ? err : strerror(-r));
        if (entry->state != TRIAL_CONFIRMED)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "trial %" PRIu64 " was not confirmed (%s): there is no state of it to go back to",
                                         id, outcome(entry->state));
        /* Its tables as they were confirmed; the others are left alone. */
        req.tables = TAKE_PTR(entry->s1);
        req.refs = TAKE_PTR(entry->touched);
        req.n_refs = entry->n_touched;
        entry->n_touched = 0;
        req.with_diff = true;
        if (asprintf(&req.display_name, "the state confirmed by trial %" PRIu64, id) < 0) {
                req.display_name = NULL;
                job_request_clear(&req);
                return -ENOMEM;
        }
        return apply_start(m, msg, &req, timeout_sec, flags & ~APPLY_REPLACE_ALL, error);
}

/* ---------------------------------------------------------------- Run */

/* @path normalised ("//" collapsed) into @buf; -EINVAL if it is not
 * absolute, has a "." or ".." component, ends in "/", or holds a control
 * character. */
static int run_path_normalize(const char *path, char *buf, size_t len) {
        size_t n = 0;

        if (path[0] != '/')
                return -EINVAL;
        for (const char *p = path; *p; ) {
                size_t l;

                p += strspn(p, "/");
                l = strcspn(p, "/");
                if (l == 0)
                        return -EINVAL;         /* a trailing "/" */
                if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                for (size_t i = 0; i < l; i++)
                        if ((unsigned char) p[i] < 0x20 || p[i] == 0x7f)
                                return -EINVAL;
                if (n + 1 + l + 1 > len)
                        return -ENAMETOOLONG;
                buf[n++] = '/';
                memcpy(buf + n, p, l);
                n += l;
                p += l;
        }
        if (n == 0)
                return -EINVAL;
        buf[n] = 0;
        return 0;
}

/* One of [run] private_files, or strictly below one of overlay_dirs. */
static bool run_path_allowed(const Config *c, const char *norm) {
        for (size_t i = 0; i < c->run_private_files.n; i++)
                if (streq(c->run_private_files.items[i], norm))
                        return true;
        for (size_t i = 0; i < c->run_overlay_dirs.n; i++) {
                const char *d = c->run_overlay_dirs.items[i];
                size_t l = strlen(d);

                if (strncmp(norm, d, l) == 0 && norm[l] == '/' && norm[l + 1])
                        return true;
        }
        return false;
}

/* The whole content of @fd, a regular file or a memfd (read with pread,
 * so the loop never waits on a pipe), at most @max bytes. */
static int run_read_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        return fileio_read_all(fd, max, ret, ret_len);
}

static int run_read_snapshot(int fd, const char *what, Ruleset **ret, sd_bus_error *error) {
        _cleanup_free_ char *buf = NULL;
        char e[256] = "";
        size_t len;
        int r;

        r = run_read_fd(fd, SNAPSHOT_MAX_PAYLOAD, &buf, &len);
        if (r == -EBADF)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "the %s snapshot must be a regular file or a memfd", what);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "reading the %s snapshot: %s",
                                         what, strerror(-r));
        r = snapshot_parse(buf, len, ret, NULL, e, sizeof(e));
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "the %s snapshot is damaged: %s",
                                         what, *e ? e : strerror(-r));
        return 0;
}

/* Run's a(ss): the network sysctls the command set, each one of
 * lib/netsysctl.h's (any other is refused), into @ret (TRIAL_SYSCTLS_MAX of
 * them, new values only). */
static int run_read_sysctls(Manager *m, sd_bus_message *msg, TrialSysctl *ret, size_t *ret_n,
                            sd_bus_error *error) {
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', RUN_SYSCTL_SIGNATURE);
        if (r < 0)
                return r;
        for (;;) {
                const char *name, *value;

                r = sd_bus_message_read(msg, RUN_SYSCTL_SIGNATURE, &name, &value);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!netsysctl_known(name))
                        return refuse(m, error, FWGUARD_ERROR_REFUSED,
                                      "%s is not a network sysctl that `fwguard run` may set (see fwguard(8), "
                                      "RUN): nothing was changed", name);
                if (!netsysctl_value_valid(value) || strlen(value) >= NETSYSCTL_VALUE_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s: bad value", name);
                for (size_t i = 0; i < n; i++)
                        if (streq(ret[i].name, name))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s given twice", name);
                if (n == TRIAL_SYSCTLS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "too many sysctls");
                ret[n] = (TrialSysctl) {};
                snprintf(ret[n].name, sizeof(ret[n].name), "%s", name);
                snprintf(ret[n].new_value, sizeof(ret[n].new_value), "%s", value);
                n++;
        }
        *ret_n = n;
        return sd_bus_message_exit_container(msg);
}

/* Run(h seed, h result, a(shu) files, a(ss) sysctls, t timeout_sec, t flags):
 * the result of a command that `fwguard run` ran in its sandbox on a copy of
 * the ruleset @seed, with the files and network sysctls it wrote, becomes one
 * trial, as Apply's. */
static int on_run(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(ruleset_freep) Ruleset *seed = NULL, *result = NULL;
        _cleanup_free_ TrialSysctl *sysctls = calloc(TRIAL_SYSCTLS_MAX, sizeof(TrialSysctl));
        Manager *m = userdata;
        JobRequest req = { .fd = -1 };
        TrialFile *files = NULL;
        size_t n_files = 0, n_sysctls = 0, total = 0;
        uint64_t timeout_sec, flags;
        uint32_t genid;
        char buf[256];
        int seed_fd, result_fd, r;

        if (!sysctls)
                return -ENOMEM;
        r = sd_bus_message_read(msg, "hh", &seed_fd, &result_fd);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "(shu)");
        if (r < 0)
                return r;
        files = calloc(TRIAL_FILES_MAX, sizeof(TrialFile));
        if (!files)
                return -ENOMEM;
        for (;;) {
                const char *path;
                char norm[4096];
                uint32_t mode;
                int fd;
                TrialFile *tf;

                r = sd_bus_message_read(msg, "(shu)", &path, &fd, &mode);
                if (r <= 0)
                        break;
                if (n_files == TRIAL_FILES_MAX) {
                        r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "more than %d files", TRIAL_FILES_MAX);
                        goto out;
                }
                if (run_path_normalize(path, norm, sizeof(norm)) < 0 || !run_path_allowed(m->config, norm)) {
                        r = refuse(m, error, FWGUARD_ERROR_REFUSED,
                                   "%s is not a file that `fwguard run` may change (fwguard.conf [run] "
                                   "overlay_dirs, private_files): nothing was changed", path);
                        goto out;
                }
                if (mode & ~07777U) {
                        r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s: bad mode %#o", path, mode);
                        goto out;
                }
                for (size_t i = 0; i < n_files; i++)
                        if (streq(files[i].path, norm)) {
                                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s given twice", norm);
                                goto out;
                        }
                tf = &files[n_files];
                tf->path = strdup(norm);
                if (!tf->path) {
                        r = -ENOMEM;
                        goto out;
                }
                n_files++;
                tf->new_exists = mode != 0;
                tf->new_mode = mode;
                if (tf->new_exists) {
                        r = run_read_fd(fd, TRIAL_FILE_MAX, &tf->new_data, &tf->new_len);
                        if (r >= 0 && (total += tf->new_len) > RUN_FILES_TOTAL_MAX)
                                r = -E2BIG;
                        if (r < 0) {
                                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "the content of %s: %s",
                                                      norm, r == -EBADF ? "not a regular file or memfd" :
                                                      r == -EFBIG ? "larger than 16 MiB" :
                                                      r == -E2BIG ? "the files hold more than 64 MiB in all" :
                                                      strerror(-r));
                                goto out;
                        }
                }
        }
        if (r < 0)
                goto out;
        r = sd_bus_message_exit_container(msg);
        if (r >= 0)
                r = run_read_sysctls(m, msg, sysctls, &n_sysctls, error);
        if (r >= 0)
                r = sd_bus_message_read(msg, "tt", &timeout_sec, &flags);
        if (r < 0)
                goto out;
        if (flags & ~(APPLY_ALLOW_DELETE | APPLY_NO_PREFLIGHT)) {
                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown flags %#" PRIx64, flags);
                goto out;
        }
        r = apply_args(m, timeout_sec, flags, error);
        if (r >= 0 && !m->apply)
                r = trial_pending(m, error);
        if (r < 0)
                goto out;
        if (m->trial || m->apply) {
                r = refuse(m, error, FWGUARD_ERROR_REFUSED, "%s", pending_text(m, buf, sizeof(buf)));
                goto out;
        }
        r = run_read_snapshot(seed_fd, "seed", &seed, error);
        if (r >= 0)
                r = run_read_snapshot(result_fd, "result", &result, error);
        if (r < 0)
                goto out;
        r = nl_genid(m->nl, &genid);
        if (r < 0)
                goto out;
        if (genid != seed->genid) {
                r = refuse(m, error, FWGUARD_ERROR_REFUSED, RUN_STALE);
                goto out;
        }
        req.s1 = TAKE_PTR(result);
        req.files = TAKE_PTR(files);
        req.n_files = n_files;
        n_files = 0;
        req.sysctls = TAKE_PTR(sysctls);
        req.n_sysctls = n_sysctls;
        req.run = true;
        req.seed_genid = seed->genid;
        req.display_name = strdup("the command's result");
        if (!req.display_name) {
                job_request_clear(&req);
                return -ENOMEM;
        }
        return apply_start(m, msg, &req, timeout_sec, flags, error);
out:
        trial_files_free(files, n_files);
        return r;
}

static int strv_append(char ***strv, size_t *n, const char *fmt, ...) _printf_(3, 4);
static int strv_append(char ***strv, size_t *n, const char *fmt, ...) {
        char **grown = reallocarray(*strv, *n + 2, sizeof(char *));
        va_list ap;
        int r;

        if (!grown)
                return -ENOMEM;
        *strv = grown;
        va_start(ap, fmt);
        r = vasprintf(&grown[*n], fmt, ap);
        va_end(ap);
        if (r < 0) {
                grown[*n] = NULL;
                return -ENOMEM;
        }
        sanitize_ascii(grown[*n]);
        grown[++*n] = NULL;
        return 0;
}

static void strv_free(char **strv) {
        for (char **s = strv; s && *s; s++)
                free(*s);
        free(strv);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

/* What the person applying should know beyond the change itself. */
static int apply_warnings(Manager *m, const JobResult *res, char ***ret) {
        const Preflight *p = res->check->preflight;
        _cleanup_(strv_freep) char **w = NULL;
        size_t n = 0;
        int r = 0;

        if (m->apply_no_preflight)
                r = strv_append(&w, &n, "the reachability pre-flight was SKIPPED (--no-preflight): "
                                "only the guard and the dead-man protect SSH now");
        else if (!p->as_written.reachable)
                r = strv_append(&w, &n, "as written, this change would LOCK SSH OUT; the guard keeps "
                                "SSH open (run `fwguard check FILE` for the details)");
        for (size_t i = 0; r >= 0 && i < p->n_extra; i++)
                r = strv_append(&w, &n, "%s blocks SSH: guarded too", p->extra[i]);
        /* One warning per line of the notes on the ports. */
        for (const char *line = res->check->notes; r >= 0 && *line; ) {
                size_t len = strcspn(line, "\n");

                if (len > 0)
                        r = strv_append(&w, &n, "SSH ports: %.*s", (int) len, line);
                line += len + (line[len] == '\n');
        }
        if (r >= 0 && res->check->legacy[0])
                r = strv_append(&w, &n, "iptables-legacy tables exist: %s; nftables accepts, the guard's "
                                "included, cannot override their drops", res->check->legacy);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

/* An error reply for the prepared apply; the call is answered. */
static void apply_reply_error(Manager *m, const char *name, const char *text) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = TAKE_PTR(m->apply_msg);
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        (void) sd_bus_error_set(&error, name, text);
        if (sd_bus_reply_method_error(msg, &error) < 0)
                log_warning("the caller of Apply left before its answer");
}

static void apply_refuse(Manager *m, const char *name, const char *text) {
        log_event(LOG_NOTICE, LOG_ID_REFUSAL, 0, "apply refused: %s", text);
        emit_refused(m, text);
        apply_reply_error(m, name, text);
}

/* The pre-flight's verdict in words, as `fwguard check` prints it. */
static char *check_text(const JobResult *res, const char *what) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        (void) change_report_check(f, what, res->check, false);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static int apply_redo(Manager *m, Job *job) {
        JobRequest req;

        job_take_request(job, &req);
        return job_start(m->event, &req, on_apply_prepared, m, &m->apply);
}

static int apply_summary(const JobResult *res, const char *files, const char *what, char **ret) {
        _cleanup_free_ char *lines = NULL;
        size_t n;

        if (asprintf(&lines, "%s%s", res->summary ?: "", files ?: "") < 0)
                return -ENOMEM;
        n = strlen(lines);
        if (n > 0 && lines[n - 1] == '\n')
                lines[n - 1] = 0;
        return asprintf(ret, "%s\n%s", what, lines) < 0 ? -ENOMEM : 0;
}

/* Run: the files whose new content differs from what is there now, with
 * both contents (the old one read here, just before the trial begins), and
 * one line per file for the summary. A file that cannot be read safely (a
 * symlink on the way, not a regular file, no directory for it) is refused:
 * *ret_refusal says why, and nothing is returned. */
static int run_files_prepare(const JobRequest *req, TrialFile **ret, size_t *ret_n, char **ret_lines,
                             char **ret_refusal) {
        TrialFile *files = calloc(req->n_files ?: 1, sizeof(TrialFile));
        _cleanup_free_ char *lines = NULL;
        size_t n = 0, len = 0;
        FILE *f;
        int r = 0;

        if (!files)
                return -ENOMEM;
        f = open_memstream(&lines, &len);
        if (!f) {
                free(files);
                return -ENOMEM;
        }
        for (size_t i = 0; i < req->n_files; i++) {
                const TrialFile *in = &req->files[i];
                TrialFile *tf = &files[n];

                r = fileio_read_nofollow(in->path, TRIAL_FILE_MAX, &tf->old_exists, &tf->old_mode,
                                         &tf->old_data, &tf->old_len);
                if (r < 0) {
                        if (r != -ENOMEM && asprintf(ret_refusal, "%s cannot be replaced safely (%s): nothing was changed",
                                                     in->path, r == -EINVAL ? "not a regular file" :
                                                     r == -ELOOP || r == -ENOTDIR ? "a symlink on its path" :
                                                     strerror(-r)) < 0)
                                r = -ENOMEM;
                        break;
                }
                if (tf->old_exists == in->new_exists &&
                    (!in->new_exists || (tf->old_mode == in->new_mode && tf->old_len == in->new_len &&
                                         memcmp(tf->old_data, in->new_data, in->new_len) == 0))) {
                        free(tf->old_data);
                        *tf = (TrialFile) {};
                        continue;
                }
                tf->new_exists = in->new_exists;
                tf->new_mode = in->new_mode;
                tf->new_len = in->new_len;
                tf->path = strdup(in->path);
                tf->new_data = memdup(in->new_data ?: "", in->new_len + 1);
                n++;
                if (!tf->path || !tf->new_data) {
                        r = -ENOMEM;
                        break;
                }
                fprintf(f, "file %s: %s\n", in->path,
                        !tf->old_exists ? "created" : !tf->new_exists ? "deleted" :
                        tf->old_len == tf->new_len && memcmp(tf->old_data, tf->new_data, tf->new_len) == 0
                        ? "mode changed" : "changed");
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                trial_files_free(files, n);
                return r;
        }
        *ret = files;
        *ret_n = n;
        *ret_lines = TAKE_PTR(lines);
        return 0;
}

/* Run: the network sysctls whose new value differs from the live one, with
 * both values (the old one read here, like the files' old contents), and
 * one line each for the summary, added to *@lines. A key this kernel does
 * not have is refused: *ret_refusal says so. */
static int run_sysctls_prepare(const JobRequest *req, TrialSysctl **ret, size_t *ret_n, char **lines,
                               char **ret_refusal) {
        _cleanup_free_ TrialSysctl *v = calloc(req->n_sysctls ?: 1, sizeof(TrialSysctl));
        size_t n = 0;
        int r;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < req->n_sysctls; i++) {
                const TrialSysctl *in = &req->sysctls[i];
                char *grown;

                v[n] = *in;
                r = netsysctl_read(in->name, v[n].old_value);
                if (r < 0) {
                        if (asprintf(ret_refusal, "/proc/sys/%s cannot be read here (%s): nothing was changed",
                                     in->name, strerror(-r)) < 0)
                                return -ENOMEM;
                        return r;
                }
                if (streq(v[n].old_value, in->new_value))
                        continue;
                if (asprintf(&grown, "%ssysctl %s: %s -> %s\n", *lines ?: "", in->name, v[n].old_value,
                             in->new_value) < 0)
                        return -ENOMEM;
                free(*lines);
                *lines = grown;
                n++;
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* Refusals first, then the commit. Returns < 0 only for errors that the
 * caller answers as such. */
static int apply_commit_files(Manager *m, Job *job, const JobResult *res, const TrialFile *files,
                              size_t n_files, const TrialSysctl *sysctls, size_t n_sysctls,
                              const char *file_lines);

static int apply_commit(Manager *m, Job *job, const JobResult *res) {
        _cleanup_free_ char *file_lines = NULL;
        _cleanup_free_ TrialSysctl *sysctls = NULL;
        const JobRequest *req = job_request(job);
        TrialFile *files = NULL;
        size_t n_files = 0, n_sysctls = 0;
        int r;

        if (req->run) {
                _cleanup_free_ char *refusal = NULL;

                /* S0 is the seed itself, or the command saw another ruleset. */
                if (res->s0->genid != req->seed_genid) {
                        apply_refuse(m, FWGUARD_ERROR_REFUSED, RUN_STALE);
                        return 0;
                }
                /* The sysctls' lines first: the network first, as they are set. */
                r = run_sysctls_prepare(req, &sysctls, &n_sysctls, &file_lines, &refusal);
                if (r >= 0) {
                        _cleanup_free_ char *lines = NULL;

                        r = run_files_prepare(req, &files, &n_files, &lines, &refusal);
                        if (r >= 0 && lines) {
                                char *both;

                                if (asprintf(&both, "%s%s", file_lines ?: "", lines) < 0)
                                        r = -ENOMEM;
                                else {
                                        free(file_lines);
                                        file_lines = both;
                                }
                        }
                }
                if (r < 0 && refusal) {
                        trial_files_free(files, n_files);
                        apply_refuse(m, FWGUARD_ERROR_REFUSED, refusal);
                        return 0;
                }
                if (r < 0) {
                        trial_files_free(files, n_files);
                        return r;
                }
        }
        r = apply_commit_files(m, job, res, files, n_files, sysctls, n_sysctls, file_lines);
        trial_files_free(files, n_files);
        return r;
}

/* What a confirmation of this apply keeps for a reboot (lib/persist), in
 * @src, its text in *@text; 0 without anything: a Run (the tool's own
 * files persist it), persistence off, or text too long to keep (logged).
 * The text is the job's sealed copy of the input: what was compiled. */
static int apply_persist_source(Manager *m, const JobRequest *req, const JobResult *res, PersistSource *src,
                                char **text) {
        const Preflight *p = res->check->preflight;
        size_t len = 0;
        int r;

        if (req->run || persist_enabled(m->state_dir) <= 0)
                return 0;
        if (req->fd >= 0 && res->text) {
                r = fileio_read_all(req->fd, PERSIST_TEXT_MAX, text, &len);
                if (r == -EFBIG) {
                        log_warning("%s is longer than %d bytes: it will not be loaded again after a reboot",
                                    req->display_name, PERSIST_TEXT_MAX);
                        return 0;
                }
                if (r < 0)
                        return r;
        }
        *src = (PersistSource) {
                .kind = *text ? PERSIST_TEXT : PERSIST_TABLES, .name = req->display_name,
                .text = *text, .text_len = len,
                .uid = req->uid, .gid = req->gid, .groups = req->groups, .n_groups = req->n_groups,
                .tables = p->touched, .n_tables = p->n_touched, .standalone = res->standalone,
        };
        return 1;
}

static int apply_commit_files(Manager *m, Job *job, const JobResult *res, const TrialFile *files,
                              size_t n_files, const TrialSysctl *sysctls, size_t n_sysctls,
                              const char *file_lines) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_(strv_freep) char **warnings = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *text = NULL, *summary = NULL, *changes = NULL, *persist_text = NULL;
        const JobRequest *req = job_request(job);
        const char *what = req->display_name;
        PersistSource persist;
        char err[1024] = "";
        uint32_t genid;
        int r;

        if (res->n_touched == 0 && n_files == 0 && n_sysctls == 0) {
                apply_reply_error(m, FWGUARD_ERROR_NO_CHANGE,
                                  "the change leaves the ruleset as it is: no trial was started");
                return 0;
        }
        if (res->deleted_owned && !m->apply_allow_delete) {
                if (asprintf(&text, "%s deletes tables that other tools own: %s. They would lose their "
                             "rules (bans, container networking). Run it again with --allow-delete if you mean it.",
                             what, res->deleted_owned) < 0)
                        return -ENOMEM;
                apply_refuse(m, FWGUARD_ERROR_WOULD_DELETE, text);
                return 0;
        }
        if (!m->apply_no_preflight && !res->check->preflight->with_guard.reachable) {
                _cleanup_free_ char *report = check_text(res, what);

                if (asprintf(&text, "SSH would be unreachable even with the guard, so nothing was changed.\n%s",
                             report ?: "") < 0)
                        return -ENOMEM;
                apply_refuse(m, FWGUARD_ERROR_REFUSED, text);
                return 0;
        }

        /* Cheap first: a writer that got in while we compiled is seen here
         * without writing a trial that would never commit. */
        r = nl_genid(m->nl, &genid);
        if (r < 0)
                return r;
        if (genid == res->s0->genid) {
                testpoint("apply-before-commit");
                r = manager_store(m, &store, err, sizeof(err));
                if (r < 0) {
                        apply_reply_error(m, SD_BUS_ERROR_FAILED, err);
                        return 0;
                }
                r = apply_summary(res, file_lines, what, &summary);
                if (r < 0)
                        return r;
                uint16_t ports[TRIAL_PORTS_MAX];
                size_t n_ports = MIN(res->check->n_ports, ELEMENTSOF(ports));

                for (size_t i = 0; i < n_ports; i++)
                        ports[i] = res->check->ports[i].port;
                r = apply_persist_source(m, req, res, &persist, &persist_text);
                if (r < 0)
                        return r;
                r = driver_commit_files(m->nl, store, res->s0, res->check->preflight->guarded, res->touched,
                                        res->n_touched, ports, n_ports,
                                        (now_usec(CLOCK_BOOTTIME) + m->apply_timeout_sec * 1000000) * 1000,
                                        req->uid, summary, files, n_files, sysctls, n_sysctls,
                                        r > 0 ? &persist : NULL, &t, err, sizeof(err));
        } else
                r = -ERESTART;
        if (r == -ERESTART && req->run) {
                /* A command's result belongs to the ruleset it ran on. */
                apply_refuse(m, FWGUARD_ERROR_REFUSED, RUN_STALE);
                return 0;
        }
        if (r == -ERESTART) {
                if (++m->apply_attempt < APPLY_ATTEMPTS_MAX) {
                        log_info("the ruleset changed while %s was prepared: preparing it again", what);
                        return apply_redo(m, job);
                }
                apply_refuse(m, FWGUARD_ERROR_REFUSED,
                             "the ruleset kept changing while the change was prepared (another program "
                             "writes it): nothing was changed. Run the command again when it is done.");
                return 0;
        }
        if (r < 0) {
                log_event(LOG_ERR, LOG_ID_APPLY, 0, "apply of %s failed: %s", what, err);
                apply_reply_error(m, SD_BUS_ERROR_FAILED, err);
                return 0;
        }

        m->trial = TAKE_PTR(t);
        (void) manager_arm(m);
        log_event(LOG_NOTICE, LOG_ID_COMMIT, m->trial->id,
                  "trial %" PRIu64 " committed for uid %u: %s; rolls back in %" PRIu64 " s unless confirmed",
                  m->trial->id, (unsigned) m->trial->uid, what, m->apply_timeout_sec);
        manager_emit(m, "Armed", "tt", m->trial->id, m->trial->deadline_realtime_usec);

        r = apply_warnings(m, res, &warnings);
        if (r >= 0)
                r = sd_bus_message_new_method_return(m->apply_msg, &reply);
        if (r >= 0 && asprintf(&changes, "%s%s%s", res->summary ?: "", file_lines ?: "", res->output ?: "") < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = sd_bus_message_append(reply, "tts", m->trial->id, m->trial->deadline_realtime_usec,
                                          changes);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, warnings);
        if (r >= 0 && sd_bus_send(NULL, reply, NULL) < 0)
                log_warning("the caller of Apply left before its answer; trial %" PRIu64 " is armed",
                            m->trial->id);
        m->apply_msg = sd_bus_message_unref(m->apply_msg);
        return r < 0 ? r : 0;
}

static void on_apply_prepared(Job *job, const JobResult *res, void *userdata) {
        Manager *m = userdata;
        int r;

        m->apply = NULL;        /* freed after we return, unless redone */
        if (res->error == -EINVAL) {
                apply_reply_error(m, SD_BUS_ERROR_INVALID_ARGS, res->errors ?: "the input is not valid");
                return;
        }
        if (res->error < 0) {
                apply_reply_error(m, SD_BUS_ERROR_FAILED, res->errors ?: strerror(-res->error));
                return;
        }
        r = apply_commit(m, job, res);
        if (r < 0 && m->apply_msg)
                apply_reply_error(m, SD_BUS_ERROR_FAILED, strerror(-r));
}

/* ---------------------------------------------------------------- Confirm, Rollback, Extend */

/* @boottime_ns (CLOCK_BOOTTIME) as local wall-clock time, "12:03:10". */
static const char *boottime_text(uint64_t boottime_ns, char *buf, size_t len) {
        uint64_t boot_now = now_usec(CLOCK_BOOTTIME) * 1000, real_now = now_usec(CLOCK_REALTIME) * 1000;
        time_t sec = (time_t) ((real_now - MIN(real_now, boot_now - MIN(boot_now, boottime_ns))) / 1000000000);
        struct tm tm;

        if (!localtime_r(&sec, &tm) || strftime(buf, len, "%H:%M:%S", &tm) == 0)
                snprintf(buf, len, "@%lld", (long long) sec);
        return buf;
}

/* May this caller's confirmation end the trial? Only if it runs under a
 * fresh SSH login, one that crossed the new ruleset (lib/peer). The filter
 * already checked that the caller is an administrator. */
static int confirm_allowed(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        PeerCaller caller = { .sock_fd = -1, .pid = 0, .uid = UID_INVALID };
        char why[512] = "", opened[32], committed[32], addr[INET6_ADDRSTRLEN] = "";
        const Trial *t = m->trial;
        PeerProof proof;
        int r;

#if FWGUARD_TEST_POINTS
        if (streq_ptr(getenv("FWGUARDD_TEST_CONFIRM_ANYONE"), "1")) {
                log_warning("test build: FWGUARDD_TEST_CONFIRM_ANYONE=1, a confirmation needs no fresh SSH login");
                return 0;
        }
#endif
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID | SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_pid(creds, &caller.pid);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &caller.uid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot tell who calls: %s", strerror(-r));
        caller.sock_fd = sd_bus_get_fd(sd_bus_message_get_bus(msg));
        r = peer_confirm_proof(&caller, NULL, t->committed_boottime_ns, t->ssh_ports, t->n_ssh_ports,
                               &proof, why, sizeof(why));
        if (r >= 0) {
                log_event(LOG_NOTICE, LOG_ID_CONFIRM, t->id, "trial %" PRIu64 ": pid %d runs under sshd %d, "
                          "a login from port %u started after the commit",
                          t->id, (int) proof.caller_pid, (int) proof.conn.sshd_pid, proof.conn.local_port);
                return 0;
        }
        if (r != -EPERM)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot check the caller's ssh login: %s", why);

        boottime_text(proof.sshd_start_boottime_ns, opened, sizeof(opened));
        boottime_text(t->committed_boottime_ns, committed, sizeof(committed));
        (void) inet_ntop(proof.conn.family ?: AF_INET6, &proof.conn.peer, addr, sizeof(addr));
        switch (proof.refusal) {
        case PEER_BEFORE_COMMIT:
                return refuse(m, error, FWGUARD_ERROR_REFUSED,
                              "trial %" PRIu64 " is not confirmed: this session was opened at %s, before the "
                              "change was committed at %s: open a NEW ssh connection to confirm "
                              "(`ssh HOST fwguard confirm` from a new terminal)", t->id, opened, committed);
        case PEER_MULTIPLEXED:
                return refuse(m, error, FWGUARD_ERROR_REFUSED,
                              "trial %" PRIu64 " is not confirmed: this shell runs over an ssh connection "
                              "opened at %s, before the change was committed at %s (a shared ControlMaster "
                              "connection, or one opened before the commit): open a NEW connection with "
                              "`ssh -o ControlMaster=no -o ControlPath=none HOST` (or `ssh -S none HOST`) "
                              "and confirm there", t->id, opened, committed);
        case PEER_LOCAL_PEER:
                return refuse(m, error, FWGUARD_ERROR_REFUSED,
                              "trial %" PRIu64 " is not confirmed: this ssh session comes from %s, this host "
                              "itself (ssh localhost, or a port forward through the host), so it did not "
                              "cross the firewall: open a NEW ssh connection from another machine",
                              t->id, addr);
        case PEER_PORT_NOT_GUARDED:
                return refuse(m, error, FWGUARD_ERROR_REFUSED,
                              "trial %" PRIu64 " is not confirmed: %s: open a NEW ssh connection to a guarded "
                              "port", t->id, why);
        case PEER_NOT_INSTALLED_SSHD:
                return refuse(m, error, FWGUARD_ERROR_REFUSED,
                              "trial %" PRIu64 " is not confirmed: %s: open a NEW ssh connection to the "
                              "system's sshd and confirm there", t->id, why);
        case PEER_NO_SSHD:
                return refuse(m, error, FWGUARD_ERROR_REFUSED,
                              "trial %" PRIu64 " is not confirmed: not under a ssh login (%s): open a NEW ssh "
                              "connection and run `fwguard confirm` there; from a console use `fwguard rollback`",
                              t->id, why);
        default:
                return refuse(m, error, FWGUARD_ERROR_REFUSED, "trial %" PRIu64 " is not confirmed: %s; "
                              "run it again", t->id, why);
        }
}

/* @note: how the trial ended meanwhile (manager_sync()), or "". */
static int nothing_pending(Manager *m, const char *what, const char *note, sd_bus_error *error) {
        if (*note)
                return sd_bus_error_setf(error, FWGUARD_ERROR_NOTHING_PENDING, "nothing to %s: %s", what, note);
        return sd_bus_error_setf(error, FWGUARD_ERROR_NOTHING_PENDING, "nothing to %s: no trial is pending%s",
                                 what, m->apply ? " (one is being prepared)" : "");
}

static int on_confirm(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_free_ char *warnings = NULL;
        Manager *m = userdata;
        char err[512] = "", note[512];
        uint64_t id;
        int r;

        r = manager_sync(m, &store, note, sizeof(note), err, sizeof(err));
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", err);
        if (r == 0)
                return nothing_pending(m, "confirm", note, error);
        id = m->trial->id;
        /* A second dead-man that died in the middle of its rollback. */
        if (m->trial->state != TRIAL_ARMED)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "trial %" PRIu64 " is %s: too late to confirm it",
                                         id, trial_state_to_string(m->trial->state));
        r = confirm_allowed(m, msg, error);
        if (r < 0)
                return r;
        r = driver_confirm(store, m->trial, &warnings, err, sizeof(err));
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot confirm trial %" PRIu64 ": %s",
                                         id, err);
        manager_disarm(m);
        log_event(LOG_NOTICE, LOG_ID_CONFIRM, id, "trial %" PRIu64 " confirmed: the change stays", id);
        if (warnings)
                log_event(LOG_WARNING, LOG_ID_CONFIRM, id, "trial %" PRIu64 ": %s", id, warnings);
        manager_emit(m, "Confirmed", "t", id);
        /* The warnings after the id: a client that reads only "t" still works. */
        return sd_bus_reply_method_return(msg, "ts", id, warnings ?: "");
}

static int on_rollback(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(rollback_result_clear) RollbackResult res = {};
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        Manager *m = userdata;
        char err[512] = "", why[64];
        uid_t uid = UID_INVALID;
        uint64_t id;
        int r;

        if (!m->trial)
                return nothing_pending(m, "roll back", "", error);
        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &uid);
        snprintf(why, sizeof(why), "on request of uid %u", (unsigned) uid);
        id = m->trial->id;
        r = manager_rollback(m, why, &res, err, sizeof(err));
        if (r == -ESRCH)
                return nothing_pending(m, "roll back", err, error);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "rolling back trial %" PRIu64 " failed: %s",
                                         id, err);
        sanitize_ascii(res.report);
        return sd_bus_reply_method_return(msg, "tbus", id, res.exact, (uint32_t) res.n_conflicts,
                                          res.report ?: "");
}

static int on_extend(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        Manager *m = userdata;
        uint64_t sec, at_ns;
        char err[512] = "", note[512];
        int r;

        r = sd_bus_message_read(msg, "t", &sec);
        if (r < 0)
                return r;
        r = timeout_check(m, sec, error);
        if (r < 0)
                return r;
        r = manager_sync(m, &store, note, sizeof(note), err, sizeof(err));
        if (r == 0)
                return nothing_pending(m, "extend", note, error);
        at_ns = (now_usec(CLOCK_BOOTTIME) + sec * 1000000) * 1000;
        if (r > 0)
                r = trial_set_deadline(store, m->trial, at_ns, now_usec(CLOCK_REALTIME) + sec * 1000000,
                                       err, sizeof(err));
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "cannot move the deadline: %s", err);
        r = manager_arm(m);
        if (r < 0)
                return r;
        log_event(LOG_NOTICE, LOG_ID_COMMIT, m->trial->id, "trial %" PRIu64 ": the deadline moved to %" PRIu64 " s from now",
                  m->trial->id, sec);
        manager_emit(m, "Armed", "tt", m->trial->id, m->trial->deadline_realtime_usec);
        return sd_bus_reply_method_return(msg, "t", m->trial->deadline_realtime_usec);
}

/* ---------------------------------------------------------------- Check, Diff */

typedef struct ReportCall {
        Manager *manager;
        sd_bus_message *msg;
        Job *job;
        size_t slot;                    /* in manager->reports[] */
} ReportCall;

static ReportCall *report_call_free(ReportCall *call) {
        if (!call)
                return NULL;
        call->manager->reports[call->slot] = NULL;
        sd_bus_message_unref(call->msg);
        free(call);
        return NULL;
}

void manager_reports_free(Manager *m) {
        for (size_t i = 0; i < ELEMENTSOF(m->reports); i++)
                if (m->reports[i]) {
                        job_free(m->reports[i]->job);
                        report_call_free(m->reports[i]);
                }
}

static void on_report_done(Job *job, const JobResult *res, void *userdata) {
        ReportCall *call = userdata;
        int r;

        if (res->error < 0)
                r = sd_bus_reply_method_errorf(call->msg, res->error == -EINVAL ? SD_BUS_ERROR_INVALID_ARGS
                                                                                 : SD_BUS_ERROR_FAILED,
                                               "%s", res->errors ?: strerror(-res->error));
        else
                r = sd_bus_reply_method_return(call->msg, "is", res->exit_code, res->output ?: "");
        if (r < 0)
                log_warning("the caller left before its report was ready");
        report_call_free(call);
}

static int report_start(Manager *m, sd_bus_message *msg, JobKind kind, sd_bus_error *error) {
        JobRequest req = { .fd = -1, .kind = kind, .probe = true, .config = m->config };
        ReportCall *call;
        const char *name;
        size_t slot = 0;
        int fd, json, r;

        r = sd_bus_message_read(msg, "hsb", &fd, &name, &json);
        if (r < 0)
                return r;
        while (slot < ELEMENTSOF(m->reports) && m->reports[slot])
                slot++;
        if (slot == ELEMENTSOF(m->reports))
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many checks at once; try again");
        req.json = json;
        req.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        req.display_name = strdup(*name ? name : "-");
        call = calloc(1, sizeof(*call));
        if (req.fd < 0 || !req.display_name || !call) {
                free(call);
                job_request_clear(&req);
                return -ENOMEM;
        }
        *call = (ReportCall) { .manager = m, .msg = sd_bus_message_ref(msg), .slot = slot };
        m->reports[slot] = call;
        r = request_caller(msg, &req);
        if (r < 0) {
                job_request_clear(&req);
                report_call_free(call);
                return r;
        }
        r = job_start(m->event, &req, on_report_done, call, &call->job);
        if (r < 0) {
                report_call_free(call);
                return r;
        }
        return 1;
}

static int on_check(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return report_start(userdata, msg, JOB_CHECK, error);
}

static int on_diff(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return report_start(userdata, msg, JOB_DIFF, error);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Status", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", state, "t", trial_id,
                                              "t", deadline_realtime_usec, "s", summary),
                                on_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("History", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(tsttuss)", trials),
                                on_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Apply",
                                SD_BUS_ARGS("h", rules, "s", name, "t", timeout_sec, "t", flags),
                                SD_BUS_RESULT("t", trial_id, "t", deadline_realtime_usec,
                                              "s", changes, "as", warnings),
                                on_apply, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Confirm", SD_BUS_NO_ARGS, SD_BUS_RESULT("t", trial_id, "s", warnings),
                                on_confirm, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rollback", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", trial_id, "b", exact, "u", conflicts, "s", report),
                                on_rollback, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Extend", SD_BUS_ARGS("t", seconds),
                                SD_BUS_RESULT("t", deadline_realtime_usec),
                                on_extend, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RollbackTo", SD_BUS_ARGS("t", trial_id, "t", timeout_sec, "t", flags),
                                SD_BUS_RESULT("t", trial_id, "t", deadline_realtime_usec,
                                              "s", changes, "as", warnings),
                                on_rollback_to, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Run",
                                SD_BUS_ARGS("h", seed, "h", result, "a(shu)", files, "a(ss)", sysctls,
                                            "t", timeout_sec, "t", flags),
                                SD_BUS_RESULT("t", trial_id, "t", deadline_realtime_usec,
                                              "s", changes, "as", warnings),
                                on_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_ARGS("h", rules, "s", name, "b", json),
                                SD_BUS_RESULT("i", exit_code, "s", report),
                                on_check, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Diff", SD_BUS_ARGS("h", rules, "s", name, "b", json),
                                SD_BUS_RESULT("i", exit_code, "s", report),
                                on_diff, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Armed", SD_BUS_ARGS("t", trial_id, "t", deadline_realtime_usec), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Confirmed", SD_BUS_ARGS("t", trial_id), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RolledBack", SD_BUS_ARGS("t", trial_id, "s", reason, "b", exact,
                                                          "u", conflicts), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Refused", SD_BUS_ARGS("s", reason), 0),
        SD_BUS_VTABLE_END
};

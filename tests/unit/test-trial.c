/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-trial.c — the trial record: transitions, persistence, crashes, damage, lock, history
 *
 * Rulesets come from model.h, without a kernel. Each case works in its own
 * state directory under one temporary directory, removed at the end.
 *   - every (from, to) pair of states, through the table and through a store:
 *     legal ones persist, illegal ones give -EPERM naming both and change
 *     nothing on disk;
 *   - a round trip through a reopened store gives back every field and
 *     rulesets equal with CANON_COUNTERS;
 *   - a record left in each state reads back in that state, and leftovers
 *     of interrupted writes beside it are removed;
 *   - the record cut at every length or with any byte changed, a record with
 *     a good checksum but bad content, a damaged snapshot: -EBADMSG;
 *   - a second store, in another process, gets -EBUSY / -ETIMEDOUT while the
 *     first holds the lock, and the lock when it is released;
 *   - the history keeps the newest N, ids keep increasing;
 *   - a new deadline is on disk (and survives a reload) in COMMITTED and
 *     ARMED, and refused elsewhere without touching the record;
 *   - a report, in every state but IDLE, is replaced whole, survives
 *     trial_load() and goes into the history; a damaged one is -EBADMSG;
 *   - trial_history_load() gives back a finished trial whole, in the state
 *     it ended from; -ENOENT for what the history does not hold;
 *   - as root: a full tmpfs (-ENOSPC) and a read-only one (-EROFS), mounted in
 *     a private mount namespace, leave nothing of the trial, and a report or
 *     deadline that could not be written leaves the trial as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "model.h"
#include "diff.h"
#include "trial.h"

#define HISTORY 3
#define SUMMARY "inet filter: +2 rules\nline two \\ with\ttab, ünïcode"

static char base[] = "/tmp/test-trial.XXXXXX";
static unsigned n_dirs;
static char err[1024];
static Ruleset *S0, *S1, *TARGET, *TARGET2;
static const TableRef TOUCHED[] = {
        { NFPROTO_INET, (char *) "filter" },
        { NFPROTO_INET, (char *) "odd name\\x01\n" },
};
static const uint16_t PORTS[] = { 22, 2222, 65535 };
static uint64_t deadline;

static char *new_dir(void) {
        char *p;

        CHECK(asprintf(&p, "%s/%u", base, n_dirs++) > 0, "asprintf");
        return p;
}

static char *in_dir(const char *dir, const char *name) {
        char *p;

        CHECK(asprintf(&p, "%s/%s", dir, name) > 0, "asprintf");
        return p;
}

static bool exists(const char *dir, const char *name) {
        _cleanup_free_ char *p = in_dir(dir, name);

        return access(p, F_OK) == 0;
}

static void write_file(const char *path, const void *data, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        CHECK(fd >= 0 && write(fd, data, len) == (ssize_t) len && close(fd) == 0, "writing %s: %m", path);
}

static const char *read_all(const char *path, size_t *len) {
        static char buf[1 << 16];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        CHECK(fd >= 0, "open %s: %m", path);
        n = read(fd, buf, sizeof(buf));
        CHECK(n >= 0 && (size_t) n < sizeof(buf), "read %s", path);
        close(fd);
        *len = (size_t) n;
        return buf;
}

static char *dup_bytes(const char *p, size_t len) {
        char *d = malloc(len + 1);

        CHECK(d, "malloc");
        memcpy(d, p, len);
        return d;
}

static void check_rulesets_equal(const Ruleset *a, const Ruleset *b) {
        CHECK(a && b && a->tables.n == b->tables.n, "rulesets differ in their tables");
        for (size_t i = 0; i < a->tables.n; i++) {
                RsTable *ta = ruleset_table(a, i);
                RsTable *tb = ruleset_find_table(b, ta->family, ta->name);

                CHECK(diff_tables_equal(ta, tb, CANON_COUNTERS) == 1, "table %s differs", ta->name);
        }
}

static TrialStore *store(const char *dir) {
        TrialStore *s;
        int r = trial_store_open(dir, HISTORY, 0, &s);

        CHECK(r == 0, "trial_store_open %s: %d", dir, r);
        return s;
}

static Trial *begin(TrialStore *s) {
        Trial *t;
        int r = trial_begin(s, S0, S1, TOUCHED, ELEMENTSOF(TOUCHED), PORTS, ELEMENTSOF(PORTS), deadline, 42, 1000,
                            SUMMARY, &t, err, sizeof(err));

        CHECK(r == 0, "trial_begin: %d %s", r, err);
        CHECK(t->state == TRIAL_SNAPSHOT_DURABLE, "begins in %s", trial_state_to_string(t->state));
        return t;
}

/* The pending trial of a freshly opened store: what a restarted daemon sees. */
static Trial *reload(const char *dir, TrialStore **s) {
        Trial *t = NULL;
        int r;

        *s = trial_store_free(*s);
        *s = store(dir);
        r = trial_load(*s, &t, err, sizeof(err));
        CHECK(r == 0, "trial_load: %d %s", r, err);
        return t;
}

static void go(TrialStore *s, Trial *t, TrialState to) {
        int r;

        if (to == TRIAL_ROLLING_BACK && !t->target) {
                r = trial_set_target(s, t, TARGET, err, sizeof(err));
                CHECK(r == 0, "trial_set_target: %d %s", r, err);
        }
        r = trial_transition(s, t, to, err, sizeof(err));
        CHECK(r == 0, "%s → %s: %d %s", trial_state_to_string(t->state), trial_state_to_string(to), r, err);
        CHECK(t->state == to, "state after transition");
}

/* Drive a new trial, by legal steps, into @state. */
static Trial *trial_in(TrialStore *s, TrialState state) {
        static const struct { size_t n; TrialState steps[4]; } path[_TRIAL_STATE_MAX] = {
                [TRIAL_IDLE] = { 4, { TRIAL_COMMITTED, TRIAL_ARMED, TRIAL_CONFIRMED, TRIAL_IDLE } },
                [TRIAL_SNAPSHOT_DURABLE] = { 0, {} },
                [TRIAL_COMMITTED] = { 1, { TRIAL_COMMITTED } },
                [TRIAL_ARMED] = { 2, { TRIAL_COMMITTED, TRIAL_ARMED } },
                [TRIAL_CONFIRMED] = { 3, { TRIAL_COMMITTED, TRIAL_ARMED, TRIAL_CONFIRMED } },
                [TRIAL_ROLLING_BACK] = { 3, { TRIAL_COMMITTED, TRIAL_ARMED, TRIAL_ROLLING_BACK } },
        };
        Trial *t = begin(s);

        for (size_t i = 0; i < path[state].n; i++)
                go(s, t, path[state].steps[i]);
        CHECK(t->state == state, "reached %s", trial_state_to_string(state));
        return t;
}

static void test_strings(void) {
        for (int i = 0; i < _TRIAL_STATE_MAX; i++)
                CHECK(trial_state_from_string(trial_state_to_string((TrialState) i)) == (TrialState) i,
                      "string of state %d", i);
        CHECK(trial_state_from_string("armd") == _TRIAL_STATE_INVALID, "bad name");
        CHECK(trial_state_from_string(NULL) == _TRIAL_STATE_INVALID, "NULL name");
        CHECK(!trial_state_to_string(_TRIAL_STATE_MAX) && !trial_state_to_string(_TRIAL_STATE_INVALID), "out of range");
}

static const bool legal[_TRIAL_STATE_MAX][_TRIAL_STATE_MAX] = {
        [TRIAL_IDLE][TRIAL_SNAPSHOT_DURABLE] = true,
        [TRIAL_SNAPSHOT_DURABLE][TRIAL_COMMITTED] = true,
        [TRIAL_SNAPSHOT_DURABLE][TRIAL_IDLE] = true,
        [TRIAL_COMMITTED][TRIAL_ARMED] = true,
        [TRIAL_COMMITTED][TRIAL_ROLLING_BACK] = true,
        [TRIAL_ARMED][TRIAL_CONFIRMED] = true,
        [TRIAL_ARMED][TRIAL_ROLLING_BACK] = true,
        [TRIAL_CONFIRMED][TRIAL_IDLE] = true,
        [TRIAL_ROLLING_BACK][TRIAL_ROLLING_BACK] = true,
        [TRIAL_ROLLING_BACK][TRIAL_IDLE] = true,
};

/* One (from, to) pair through a store, and what a reopened store sees. */
static void test_one_transition(TrialState from, TrialState to) {
        _cleanup_free_ char *dir = new_dir();
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        _cleanup_(trial_freep) Trial *t = trial_in(s, from), *back = NULL;
        TrialSummary *h = NULL;
        size_t n;
        int r;

        if (to == TRIAL_ROLLING_BACK && trial_transition_allowed(from, to)) {
                r = trial_set_target(s, t, TARGET, err, sizeof(err));
                CHECK(r == 0, "trial_set_target in %s: %d %s", trial_state_to_string(from), r, err);
        }
        err[0] = '\0';
        r = trial_transition(s, t, to, err, sizeof(err));
        if (from == TRIAL_IDLE && to == TRIAL_SNAPSHOT_DURABLE) {
                CHECK(r == -EINVAL, "idle → snapshot-durable outside trial_begin: %d", r);
                return;
        }
        if (!legal[from][to]) {
                char want[128];

                snprintf(want, sizeof(want), "%s → %s", trial_state_to_string(from), trial_state_to_string(to));
                CHECK(r == -EPERM && strstr(err, want), "%s: %d '%s'", want, r, err);
                CHECK(t->state == from, "state kept after a refused transition");
        } else
                CHECK(r == 0 && t->state == to, "%s → %s: %d %s", trial_state_to_string(from),
                      trial_state_to_string(to), r, err);

        back = reload(dir, &s);
        TrialState now = r == 0 ? to : from;
        if (now == TRIAL_IDLE) {
                CHECK(!back, "a record after the trial ended");
                CHECK(trial_history(s, &h, &n, err, sizeof(err)) == 0 && n == 1, "history of one");
                CHECK(h[0].id == t->id && h[0].state == (from == TRIAL_IDLE ? TRIAL_CONFIRMED : from),
                      "history keeps the outcome");
                trial_summaries_free(h, n);
        } else
                CHECK(back && back->state == now, "reloaded %s, want %s",
                      back ? trial_state_to_string(back->state) : "nothing", trial_state_to_string(now));
}

static void test_transitions(void) {
        for (int from = 0; from < _TRIAL_STATE_MAX; from++) {
                CHECK(!trial_transition_allowed((TrialState) from, _TRIAL_STATE_INVALID), "to invalid");
                CHECK(!trial_transition_allowed((TrialState) from, _TRIAL_STATE_MAX), "to MAX");
                CHECK(!trial_transition_allowed(_TRIAL_STATE_INVALID, (TrialState) from), "from invalid");
                for (int to = 0; to < _TRIAL_STATE_MAX; to++) {
                        CHECK(trial_transition_allowed((TrialState) from, (TrialState) to) == legal[from][to],
                              "table: %d → %d", from, to);
                        test_one_transition((TrialState) from, (TrialState) to);
                }
        }
}

/* Preconditions beyond the table: a target before ROLLING_BACK, and only
 * where a rollback may follow. */
static void test_target_rules(void) {
        _cleanup_free_ char *dir = new_dir();
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        _cleanup_(trial_freep) Trial *t = begin(s);
        Trial *other = NULL;

        CHECK(trial_set_target(s, t, TARGET, err, sizeof(err)) == -EPERM, "target in snapshot-durable");
        CHECK(trial_begin(s, S0, S1, NULL, 0, NULL, 0, deadline, 1, 0, "", &other, err, sizeof(err)) == -EBUSY,
              "second trial while one is pending");
        {
                _cleanup_free_ char *dir2 = new_dir();
                _cleanup_(trial_store_freep) TrialStore *s2 = store(dir2);
                uint16_t many[TRIAL_PORTS_MAX + 1] = {};

                for (size_t i = 0; i < ELEMENTSOF(many); i++)
                        many[i] = (uint16_t) (i + 1);
                CHECK(trial_begin(s2, S0, S1, NULL, 0, many, ELEMENTSOF(many), deadline, 1, 0, "", &other,
                                  err, sizeof(err)) == -E2BIG, "more ports than a trial keeps");
        }
        go(s, t, TRIAL_COMMITTED);
        go(s, t, TRIAL_ARMED);
        CHECK(trial_transition(s, t, TRIAL_ROLLING_BACK, err, sizeof(err)) == -EINVAL,
              "rolling back without a target");
        CHECK(t->state == TRIAL_ARMED, "state kept");
}

static void check_same_trial(const Trial *a, const Trial *b) {
        CHECK(a->id == b->id && a->state == b->state, "id, state");
        CHECK(a->deadline_boottime_ns == b->deadline_boottime_ns &&
              a->deadline_realtime_usec == b->deadline_realtime_usec, "deadlines");
        CHECK(streq(a->boot_id, b->boot_id) && a->genid == b->genid && a->uid == b->uid, "boot id, genid, uid");
        CHECK(a->created_usec == b->created_usec && a->committed_usec == b->committed_usec &&
              a->committed_boottime_ns == b->committed_boottime_ns, "times");
        CHECK(a->n_ssh_ports == b->n_ssh_ports &&
              !memcmp_safe(a->ssh_ports, b->ssh_ports, a->n_ssh_ports * sizeof(uint16_t)), "ssh ports");
        CHECK(streq(a->summary, b->summary), "summary '%s'", b->summary);
        CHECK(streq_ptr(a->report, b->report), "report '%s'", b->report);
        CHECK(a->n_touched == b->n_touched && a->target_seq == b->target_seq, "touched, target");
        for (size_t i = 0; i < a->n_touched; i++)
                CHECK(a->touched[i].family == b->touched[i].family &&
                      streq(a->touched[i].name, b->touched[i].name), "touched %zu", i);
        check_rulesets_equal(a->s0, b->s0);
        check_rulesets_equal(a->s1, b->s1);
        CHECK(!a->target == !b->target, "target");
        if (a->target)
                check_rulesets_equal(a->target, b->target);
}

static void test_roundtrip(void) {
        _cleanup_free_ char *dir = new_dir(), *tdir = in_dir(dir, "trial");
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        _cleanup_(trial_freep) Trial *t = begin(s), *back = NULL;
        uint64_t boot_now = (uint64_t) time(NULL);

        CHECK(t->id == 1 && t->genid == 42 && t->uid == 1000 && strlen(t->boot_id) == TRIAL_BOOT_ID_LEN, "fields");
        CHECK(t->deadline_realtime_usec / 1000000 >= boot_now + 100 &&
              t->deadline_realtime_usec / 1000000 <= boot_now + 140, "realtime deadline");
        check_rulesets_equal(S0, t->s0);
        back = reload(dir, &s);
        check_same_trial(t, back);
        back = trial_free(back);

        CHECK(t->committed_boottime_ns == 0, "no commit time before COMMITTED");
        CHECK(t->n_ssh_ports == ELEMENTSOF(PORTS) && t->ssh_ports[0] == 22 && t->ssh_ports[1] == 2222 &&
              t->ssh_ports[2] == 65535, "ssh ports");
        {
                struct timespec before, after;
                uint64_t b, a;

                clock_gettime(CLOCK_BOOTTIME, &before);
                go(s, t, TRIAL_COMMITTED);
                clock_gettime(CLOCK_BOOTTIME, &after);
                b = (uint64_t) before.tv_sec * 1000000000 + (uint64_t) before.tv_nsec;
                a = (uint64_t) after.tv_sec * 1000000000 + (uint64_t) after.tv_nsec;
                CHECK(t->committed_boottime_ns >= b && t->committed_boottime_ns <= a,
                      "commit time on the boot clock: %" PRIu64 " not in %" PRIu64 "..%" PRIu64,
                      t->committed_boottime_ns, b, a);
        }
        CHECK(t->committed_usec > 0, "committed time");
        CHECK(model_table(back ? back->s0 : t->s0), "a table in S0");
        go(s, t, TRIAL_ARMED);
        go(s, t, TRIAL_ROLLING_BACK);
        back = reload(dir, &s);
        check_same_trial(t, back);
        check_rulesets_equal(TARGET, back->target);
        back = trial_free(back);

        /* A retry with a new target: the old one goes. */
        CHECK(trial_set_target(s, t, TARGET2, err, sizeof(err)) == 0, "new target: %s", err);
        go(s, t, TRIAL_ROLLING_BACK);
        back = reload(dir, &s);
        check_same_trial(t, back);
        check_rulesets_equal(TARGET2, back->target);
        CHECK(exists(tdir, "target-2.fwg") && !exists(tdir, "target-1.fwg"), "one target file");
}

/* A record left in each state (the process died there) reads back in that
 * state; temporary files and unnamed snapshots beside it are removed. */
static void test_crash(void) {
        static const char *const junk[] = { "record.tmp.Ab12Cd", "s1.fwg.tmp.XyZ123", "target-7.fwg" };

        for (TrialState st = TRIAL_SNAPSHOT_DURABLE; st < _TRIAL_STATE_MAX; st++) {
                _cleanup_free_ char *dir = new_dir(), *tdir = in_dir(dir, "trial");
                _cleanup_(trial_store_freep) TrialStore *s = store(dir);
                _cleanup_(trial_freep) Trial *t = trial_in(s, st), *back = NULL;

                for (size_t i = 0; i < ELEMENTSOF(junk); i++) {
                        _cleanup_free_ char *p = in_dir(tdir, junk[i]);
                        write_file(p, "half", 4);
                }
                back = reload(dir, &s);
                CHECK(back && back->state == st, "state %s after a crash", trial_state_to_string(st));
                check_same_trial(t, back);
                for (size_t i = 0; i < ELEMENTSOF(junk); i++)
                        CHECK(!exists(tdir, junk[i]), "%s left in %s", junk[i], trial_state_to_string(st));
                CHECK(exists(tdir, "record") && exists(tdir, "s0.fwg") && exists(tdir, "s1.fwg"), "kept");
        }

        /* trial_begin() died before its record: idle, and its snapshot goes. */
        _cleanup_free_ char *dir = new_dir(), *tdir = in_dir(dir, "trial"), *p = in_dir(tdir, "s0.fwg"),
                *report = in_dir(tdir, "report");
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        _cleanup_(trial_freep) Trial *back = NULL;
        write_file(p, "half", 4);
        write_file(report, "no record", 9);
        back = reload(dir, &s);
        CHECK(!back && !exists(tdir, "s0.fwg") && !exists(tdir, "report"), "leftover of a begin");

        /* Ending died between its rename and the new trial/: idle, history kept. */
        Trial *t = trial_in(s, TRIAL_CONFIRMED);
        _cleanup_free_ char *h = in_dir(dir, "history/1");
        CHECK(rename(tdir, h) == 0, "rename");
        back = reload(dir, &s);
        CHECK(!back && exists(dir, "trial") && exists(h, "record"), "interrupted end");
        trial_free(t);
}

static void expect_bad(const char *dir, TrialStore **s, const char *what) {
        Trial *t = NULL;
        int r;

        *s = trial_store_free(*s);
        *s = store(dir);
        err[0] = '\0';
        r = trial_load(*s, &t, err, sizeof(err));
        CHECK(r == -EBADMSG && !t && err[0], "%s: %d '%s'", what, r, err);
}

static void test_corrupt(void) {
        _cleanup_free_ char *dir = new_dir(), *tdir = in_dir(dir, "trial"),
                *record = in_dir(tdir, "record"), *s1 = in_dir(tdir, "s1.fwg");
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        _cleanup_(trial_freep) Trial *t = trial_in(s, TRIAL_ROLLING_BACK), *back = NULL;
        _cleanup_free_ char *good = NULL, *snap = NULL;
        const char *raw;
        size_t len = 0, slen = 0;
        char buf[512], what[64];

        raw = read_all(record, &len);
        good = dup_bytes(raw, len);
        for (size_t cut = 0; cut < len; cut++) {
                write_file(record, good, cut);
                snprintf(what, sizeof(what), "record cut at %zu", cut);
                expect_bad(dir, &s, what);
        }
        for (size_t i = 0; i < len; i++)
                for (unsigned bit = 0; bit < 8; bit++) {
                        good[i] ^= (char) (1 << bit);
                        write_file(record, good, len);
                        good[i] ^= (char) (1 << bit);
                        snprintf(what, sizeof(what), "bit %u of byte %zu", bit, i);
                        expect_bad(dir, &s, what);
                }

        /* Good checksums over bad content. */
        static const char *const bodies[] = {
                "fwguard-trial 2\n",
                "fwguard-trial 1\nid=1\n",
                "fwguard-trial 1\nbogus=1\n",
                "fwguard-trial 1\nno equals sign\n",
                "fwguard-trial 1\nid=1\nid=2\n",
                "fwguard-trial 1\nid=1x\n",
                "fwguard-trial 1\nstate=idle\n",
                "fwguard-trial 1\nsummary=bad \\q escape\n",
                "fwguard-trial 1\ntouched=ipx filter\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                int n = snprintf(buf, sizeof(buf), "%scrc32=%08lx\n", bodies[i],
                                 crc32(crc32(0L, Z_NULL, 0), (const Bytef *) bodies[i], (uInt) strlen(bodies[i])));
                write_file(record, buf, (size_t) n);
                expect_bad(dir, &s, bodies[i]);
        }

        /* The record back, a snapshot damaged. */
        write_file(record, good, len);
        back = reload(dir, &s);
        CHECK(back && back->state == TRIAL_ROLLING_BACK, "good record again");
        raw = read_all(s1, &slen);
        snap = dup_bytes(raw, slen);
        write_file(s1, snap, slen / 2);
        expect_bad(dir, &s, "truncated s1.fwg");
        CHECK(unlink(s1) == 0, "unlink");
        expect_bad(dir, &s, "missing s1.fwg");
}

static void test_lock(void) {
        _cleanup_free_ char *dir = new_dir();
        TrialStore *s = store(dir);
        int status;
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        /* A child shares the parent's lock (one open file description):
         * it drops its copy to be another process like the daemon's peer. */
        if (pid == 0) {
                TrialStore *other = NULL;
                int r1;

                trial_store_free(s);
                r1 = trial_store_open(dir, HISTORY, 0, &other);
                int r2 = trial_store_open(dir, HISTORY, 50000, &other);
                _exit(r1 == -EBUSY && r2 == -ETIMEDOUT && !other ? 0 : 1);
        }
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "a second store got the lock");

        /* A waiter gets the lock once it is released. */
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                TrialStore *other = NULL;

                trial_store_free(s);
                _exit(trial_store_open(dir, HISTORY, TRIAL_LOCK_WAIT_FOREVER, &other) == 0 ? 0 : 1);
        }
        usleep(100000);
        trial_store_free(s);
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the waiter did not get the lock");
}

static void test_history(void) {
        _cleanup_free_ char *dir = new_dir();
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        TrialSummary *h = NULL;
        size_t n;

        for (uint64_t id = 1; id <= 5; id++) {
                _cleanup_(trial_freep) Trial *t = trial_in(s, TRIAL_IDLE);
                CHECK(t->id == id, "id %llu, want %llu", (unsigned long long) t->id, (unsigned long long) id);
        }
        CHECK(trial_history(s, &h, &n, err, sizeof(err)) == 0 && n == HISTORY, "history length %zu", n);
        for (size_t i = 0; i < n; i++)
                CHECK(h[i].id == 3 + i && h[i].state == TRIAL_CONFIRMED && streq(h[i].summary, SUMMARY) &&
                      h[i].uid == 1000 && h[i].committed_usec >= h[i].created_usec, "entry %zu", i);
        trial_summaries_free(h, n);

        /* A refused commit ends in the history too, as never committed. */
        _cleanup_(trial_freep) Trial *t = begin(s);
        go(s, t, TRIAL_IDLE);
        CHECK(trial_history(s, &h, &n, err, sizeof(err)) == 0 && n == HISTORY, "history length");
        CHECK(h[0].id == 4 && h[2].id == 6 && h[2].state == TRIAL_SNAPSHOT_DURABLE && h[2].committed_usec == 0,
              "refused trial in history");
        trial_summaries_free(h, n);
        CHECK(trial_store_open(dir, 0, 0, &s) == -EINVAL, "history length 0");
}

static bool file_is(const char *path, const char *text) {
        size_t len;
        const char *raw = read_all(path, &len);

        return len == strlen(text) && memcmp(raw, text, len) == 0;
}

/* A new deadline is in the record before it is in the trial, and only while
 * the timer runs or is about to be armed. */
static void test_deadline(void) {
        for (TrialState st = TRIAL_IDLE; st < _TRIAL_STATE_MAX; st++) {
                _cleanup_free_ char *dir = new_dir(), *record = in_dir(dir, "trial/record"), *before = NULL;
                _cleanup_(trial_store_freep) TrialStore *s = store(dir);
                _cleanup_(trial_freep) Trial *t = trial_in(s, st), *back = NULL;
                uint64_t boot = t->deadline_boottime_ns, real = t->deadline_realtime_usec;
                size_t len = 0;
                int r;

                if (st != TRIAL_IDLE) {
                        const char *raw = read_all(record, &len);
                        before = dup_bytes(raw, len);
                        before[len] = '\0';
                }
                err[0] = '\0';
                r = trial_set_deadline(s, t, boot + 60000000000ULL, real + 60000000ULL, err, sizeof(err));
                if (st != TRIAL_COMMITTED && st != TRIAL_ARMED) {
                        CHECK(r == -EPERM && strstr(err, trial_state_to_string(st)), "deadline in %s: %d '%s'",
                              trial_state_to_string(st), r, err);
                        CHECK(t->deadline_boottime_ns == boot && t->deadline_realtime_usec == real,
                              "deadline changed by a refusal");
                        CHECK(st == TRIAL_IDLE || file_is(record, before), "record changed by a refusal");
                        continue;
                }
                CHECK(r == 0, "deadline in %s: %d %s", trial_state_to_string(st), r, err);
                CHECK(t->deadline_boottime_ns == boot + 60000000000ULL &&
                      t->deadline_realtime_usec == real + 60000000ULL, "new deadline in the trial");
                CHECK(!file_is(record, before), "the record on disk did not change");
                back = reload(dir, &s);
                check_same_trial(t, back);
        }
}

/* In every state but IDLE, a report is saved, replaced whole and kept by
 * trial_load(). */
static void test_report(void) {
        static const char conflicts[] = "inet filter: rule \"tcp dport 443 accept\" was changed meanwhile\n"
                                        "control \x01, backslash \\, ünïcode";

        for (TrialState st = TRIAL_IDLE; st < _TRIAL_STATE_MAX; st++) {
                _cleanup_free_ char *dir = new_dir(), *tdir = in_dir(dir, "trial"), *report = in_dir(tdir, "report");
                _cleanup_(trial_store_freep) TrialStore *s = store(dir);
                _cleanup_(trial_freep) Trial *t = trial_in(s, st), *back = NULL;
                int r;

                err[0] = '\0';
                r = trial_set_report(s, t, "first", err, sizeof(err));
                if (st == TRIAL_IDLE) {
                        CHECK(r == -EPERM && strstr(err, "has ended") && !t->report, "report when idle: %d '%s'", r, err);
                        CHECK(!exists(tdir, "report"), "a report in an empty trial directory");
                        continue;
                }
                CHECK(r == 0 && streq_ptr(t->report, "first") && file_is(report, "first"),
                      "report in %s: %d %s", trial_state_to_string(st), r, err);
                r = trial_set_report(s, t, conflicts, err, sizeof(err));
                CHECK(r == 0 && streq_ptr(t->report, conflicts) && file_is(report, conflicts),
                      "report replaced in %s: %d %s", trial_state_to_string(st), r, err);
                back = reload(dir, &s);
                CHECK(back && exists(tdir, "report"), "the report taken for a leftover");
                check_same_trial(t, back);
        }

        /* The bound, from both sides, and damage. */
        _cleanup_free_ char *dir = new_dir(), *report = in_dir(dir, "trial/report"), *big = malloc(TRIAL_REPORT_MAX + 2);
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        _cleanup_(trial_freep) Trial *t = trial_in(s, TRIAL_ROLLING_BACK), *back = NULL;

        CHECK(big, "malloc");
        memset(big, 'x', TRIAL_REPORT_MAX + 1);
        big[TRIAL_REPORT_MAX + 1] = '\0';
        CHECK(trial_set_report(s, t, big, err, sizeof(err)) == -E2BIG && !t->report && !exists(report, ""),
              "a report beyond the bound");
        big[TRIAL_REPORT_MAX] = '\0';
        CHECK(trial_set_report(s, t, big, err, sizeof(err)) == 0, "a report at the bound: %s", err);
        back = reload(dir, &s);
        check_same_trial(t, back);
        write_file(report, "a\0b", 3);
        expect_bad(dir, &s, "a report with a NUL byte");
        big[TRIAL_REPORT_MAX] = 'x';
        write_file(report, big, TRIAL_REPORT_MAX + 1);
        expect_bad(dir, &s, "a report beyond the bound");
}

/* A finished trial comes back whole from the history, in the state it ended
 * from and with its report, which trial_history() lists too. */
static void test_history_load(void) {
        static const TrialState ends[] = { TRIAL_CONFIRMED, TRIAL_ROLLING_BACK, TRIAL_SNAPSHOT_DURABLE };
        _cleanup_free_ char *dir = new_dir(), *s1 = in_dir(dir, "history/3/s1.fwg"),
                *from = in_dir(dir, "history/4"), *to = in_dir(dir, "history/9");
        _cleanup_(trial_store_freep) TrialStore *s = store(dir);
        Trial *none = NULL, *pending;
        TrialSummary *h = NULL;
        size_t n;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(ends); i++) {
                _cleanup_(trial_freep) Trial *t = trial_in(s, ends[i]), *back = NULL;

                if (ends[i] == TRIAL_ROLLING_BACK)
                        CHECK(trial_set_report(s, t, "ended by a reboot", err, sizeof(err)) == 0, "report: %s", err);
                go(s, t, TRIAL_IDLE);
                r = trial_history_load(s, t->id, &back, err, sizeof(err));
                CHECK(r == 0, "trial_history_load %zu: %d %s", i, r, err);
                t->state = ends[i];
                check_same_trial(t, back);
        }
        CHECK(trial_history(s, &h, &n, err, sizeof(err)) == 0 && n == 3, "history: %s", err);
        CHECK(!h[0].report && streq_ptr(h[1].report, "ended by a reboot") && !h[2].report,
              "reports in the history");
        trial_summaries_free(h, n);

        /* Pending, never begun, pruned: not in the history. */
        pending = begin(s);
        err[0] = '\0';
        CHECK(trial_history_load(s, pending->id, &none, err, sizeof(err)) == -ENOENT && !none &&
              strstr(err, "not in the history"), "the pending trial: '%s'", err);
        CHECK(trial_history_load(s, 99, &none, err, sizeof(err)) == -ENOENT && !none, "a trial never begun");
        go(s, pending, TRIAL_IDLE);
        trial_free(pending);
        CHECK(trial_history_load(s, 1, &none, err, sizeof(err)) == -ENOENT && !none, "a pruned trial");

        /* Damaged entries. */
        CHECK(unlink(s1) == 0, "unlink %s", s1);
        CHECK(trial_history_load(s, 3, &none, err, sizeof(err)) == -EBADMSG && !none && strstr(err, "missing"),
              "an entry without S1': '%s'", err);
        CHECK(rename(from, to) == 0, "rename");
        CHECK(trial_history_load(s, 9, &none, err, sizeof(err)) == -EBADMSG && !none && strstr(err, "of trial 4"),
              "an entry under another id: '%s'", err);
}

/* Nothing of a failed trial_begin() may stay: not the record, not a snapshot. */
static void check_nothing_left(TrialStore *s, const char *tdir, int r, int want) {
        Trial *t = NULL;

        CHECK(r == want, "trial_begin: %d, want %d (%s)", r, want, err);
        CHECK(!exists(tdir, "record") && !exists(tdir, "s0.fwg") && !exists(tdir, "s1.fwg"), "half trial left");
        CHECK(trial_load(s, &t, err, sizeof(err)) == 0 && !t, "load after failed begin");
}

static int full_state_dir(void) {
        _cleanup_free_ char *dir = new_dir(), *state = in_dir(dir, "state"), *tdir = in_dir(state, "trial"),
                *state2 = in_dir(dir, "state2"), *report = in_dir(state2, "trial/report"), *huge = NULL;
        _cleanup_(ruleset_freep) Ruleset *big = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        TrialStore *s, *s2;
        Trial *t = NULL, *t2, *back;

        /* About 200 bytes a rule: far beyond 64 KiB. */
        fputs("table filter\nchain input hook\n", f);
        for (unsigned i = 0; i < 3000; i++)
                fprintf(f, "rule input tcp %u counter %u accept\n", 1000 + i, i);
        fclose(f);
        big = model(text);

        CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %m");
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private /: %m");
        CHECK(mkdir(dir, 0700) == 0, "mkdir %s: %m", dir);
        CHECK(mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") == 0, "tmpfs: %m");
        s = store(state);
        check_nothing_left(s, tdir, trial_begin(s, S0, big, TOUCHED, 1, PORTS, 1, deadline, 1, 0, "big", &t, err, sizeof(err)),
                           -ENOSPC);

        /* A pending trial, whose report and deadline fail to be written: the
         * trial stays as it was, on disk and in memory. */
        s2 = store(state2);
        t2 = trial_in(s2, TRIAL_ARMED);
        huge = malloc(200 * 1024 + 1);
        CHECK(huge, "malloc");
        memset(huge, 'x', 200 * 1024);
        huge[200 * 1024] = '\0';
        CHECK(trial_set_report(s2, t2, huge, err, sizeof(err)) == -ENOSPC && !t2->report && !exists(report, ""),
              "a report on a full disk: %s", err);
        CHECK(trial_set_report(s2, t2, "kept", err, sizeof(err)) == 0, "a small report: %s", err);

        CHECK(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0, "read-only: %m");
        check_nothing_left(s, tdir, trial_begin(s, S0, S1, TOUCHED, 1, PORTS, 1, deadline, 1, 0, "ro", &t, err, sizeof(err)),
                           -EROFS);
        CHECK(trial_set_report(s2, t2, "lost", err, sizeof(err)) == -EROFS && streq_ptr(t2->report, "kept") &&
              file_is(report, "kept"), "a report on a read-only disk: %s", err);
        CHECK(trial_set_deadline(s2, t2, deadline + 1, 1, err, sizeof(err)) == -EROFS &&
              t2->deadline_boottime_ns == deadline, "a deadline on a read-only disk: %s", err);
        back = reload(state2, &s2);
        check_same_trial(t2, back);
        trial_free(back);
        trial_free(t2);
        trial_store_free(s2);
        trial_store_free(s);
        return 0;
}

static void test_full(void) {
        int status;
        pid_t pid;

        if (geteuid() != 0) {
                printf("SKIP: full and read-only state directory: needs root to mount a tmpfs\n");
                return;
        }
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0)
                _exit(full_state_dir());
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "full state directory");
}

int main(void) {
        struct timespec ts;
        char cmd[64];

        CHECK(mkdtemp(base), "mkdtemp: %m");
        clock_gettime(CLOCK_BOOTTIME, &ts);
        deadline = (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec + 120ULL * 1000000000ULL;
        S0 = model("table filter\nchain input hook policy drop\nrule input tcp 22 counter 5 accept\n"
                   "table other\nset blocked timeout\nelem blocked 80 timeout 60000 expires 30000\n");
        S1 = model("table filter\nchain input hook policy drop\nrule input tcp 22 counter 5 accept\n"
                   "rule input tcp 443 accept\ntable other\nset blocked timeout\n"
                   "elem blocked 80 timeout 60000 expires 30000\n");
        TARGET = model("table filter\nchain input hook policy drop\nrule input tcp 22 counter 9 accept\n");
        TARGET2 = model("table filter\nchain input hook\ncounter c 3\n");

        test_strings();
        test_transitions();
        test_target_rules();
        test_roundtrip();
        test_crash();
        test_corrupt();
        test_lock();
        test_history();
        test_deadline();
        test_report();
        test_history_load();
        test_full();

        ruleset_free(S0);
        ruleset_free(S1);
        ruleset_free(TARGET);
        ruleset_free(TARGET2);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : 1;
}

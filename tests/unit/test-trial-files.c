/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-trial-files.c — the files of a trial (fwguard run): record, contents, installation
 *
 *   - trial_begin_files() keeps each file's path (any bytes but NUL), both
 *     contents (binary, NUL bytes included; absent ones as absent) and
 *     modes; they come back whole from a reopened store, with the files'
 *     state, and from the history once the trial ended;
 *   - a content file that the record names but is missing: -EBADMSG; one
 *     that it does not name is a leftover and goes;
 *   - a record without files is the record it always was (no files= key);
 *   - network sysctls (trial_begin_run()): old and new values come back
 *     from the record (sysctl= lines, with files= for their state, also
 *     without files); a name outside lib/netsysctl.h's list or a value
 *     that is no integer is refused, and nothing is written;
 *   - fileio_install() writes content and mode, keeps nothing else
 *     (no temporary file, and it removes those of an interrupted earlier
 *     call), deletes; fileio_read_nofollow() and fileio_install() refuse a
 *     symlink as the file or on the way (the target is never touched).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "fileio.h"
#include "trial.h"

static char base[] = "/tmp/test-trial-files.XXXXXX";
static char err[1024];

static char *path_in(const char *dir, const char *name) {
        char *p;

        CHECK(asprintf(&p, "%s/%s", dir, name) > 0, "asprintf");
        return p;
}

static char *slurp(const char *path, size_t *len) {
        bool exists;
        unsigned mode;
        char *data = NULL;

        CHECK(fileio_read_nofollow(path, 1 << 20, &exists, &mode, &data, len) == 0 && exists, "reading %s", path);
        return data;
}

static void test_record(Ruleset *s0, Ruleset *s1, uint64_t deadline) {
        static const char bin[] = "a\0b\nc\\x00\x7f";
        _cleanup_free_ char *dir = path_in(base, "state"), *tdir = path_in(dir, "trial"),
                *stray = path_in(tdir, "file-9.old"), *f1new = path_in(tdir, "file-1.new"),
                *record = path_in(tdir, "record"), *rec = NULL, *entry = path_in(dir, "history/1");
        const TableRef touched[] = { { NFPROTO_INET, (char *) "filter" } };
        TrialFile files[] = {
                { .path = (char *) "/etc/ufw/user.rules", .old_exists = true, .old_mode = 0640,
                  .old_data = (char *) "old\n", .old_len = 4, .new_exists = true, .new_mode = 0600,
                  .new_data = (char *) bin, .new_len = sizeof(bin) - 1 },
                { .path = (char *) "/etc/ufw/new file\nwith newline", .old_exists = false,
                  .new_exists = true, .new_mode = 0644, .new_data = (char *) "", .new_len = 0 },
                { .path = (char *) "/etc/default/ufw", .old_exists = true, .old_mode = 04755,
                  .old_data = (char *) "x", .old_len = 1, .new_exists = false },
        };
        const size_t n = ELEMENTSOF(files);
        TrialStore *s = NULL;
        Trial *t = NULL, *back = NULL;
        size_t len;

        CHECK(trial_store_open(dir, 3, 0, &s) == 0, "open");
        CHECK(trial_begin_files(s, s0, s1, touched, 1, (const uint16_t[]) { 22 }, 1, deadline, 7, 0, "run",
                                files, n, &t, err, sizeof(err)) == 0, "begin: %s", err);
        CHECK(t->n_files == n && t->files_state == TRIAL_FILES_PENDING, "the trial's files");
        trial_store_free(s);

        /* A stray content file goes; the named ones stay. */
        CHECK(fileio_install(stray, true, 0600, "junk", 4) == 0, "stray");
        CHECK(trial_store_open(dir, 3, 0, &s) == 0, "reopen");
        CHECK(trial_load(s, &back, err, sizeof(err)) == 0 && back, "load: %s", err);
        CHECK(access(stray, F_OK) < 0 && errno == ENOENT, "the stray content file was kept");
        CHECK(back->n_files == n && back->files_state == TRIAL_FILES_PENDING, "files back: %zu", back->n_files);
        for (size_t i = 0; i < n; i++) {
                const TrialFile *a = &files[i], *b = &back->files[i];

                CHECK(streq(a->path, b->path), "path %zu: %s", i, b->path);
                CHECK(a->old_exists == b->old_exists && a->new_exists == b->new_exists, "existence %zu", i);
                CHECK(!a->old_exists || (a->old_mode == b->old_mode && a->old_len == b->old_len &&
                                         memcmp(a->old_data, b->old_data, a->old_len) == 0), "old %zu", i);
                CHECK(!a->new_exists || (a->new_mode == b->new_mode && a->new_len == b->new_len &&
                                         memcmp(a->new_data, b->new_data, a->new_len) == 0), "new %zu", i);
        }
        CHECK(trial_set_files_state(s, back, TRIAL_FILES_INSTALLED, err, sizeof(err)) == 0, "state: %s", err);
        trial_free(back);
        back = NULL;
        CHECK(trial_load(s, &back, err, sizeof(err)) == 0 && back->files_state == TRIAL_FILES_INSTALLED,
              "the files' state did not persist");
        rec = slurp(record, &len);
        CHECK(strstr(rec, "\nfile=0640 0600 /etc/ufw/user.rules\n") && strstr(rec, "\nfile=- 0644 /etc/ufw/new file\\x0awith newline\n") &&
              strstr(rec, "\nfile=4755 - /etc/default/ufw\n") && strstr(rec, "\nfiles=installed\n"), "record:\n%s", rec);
        trial_store_free(s);

        /* A named content file that is missing: damaged. */
        _cleanup_free_ char *saved = slurp(f1new, &len);
        CHECK(unlink(f1new) == 0, "unlink");
        CHECK(trial_store_open(dir, 3, 0, &s) == 0, "reopen");
        trial_free(back);
        back = NULL;
        CHECK(trial_load(s, &back, err, sizeof(err)) == -EBADMSG, "a missing content file was not noticed");
        CHECK(fileio_install(f1new, true, 0600, saved, len) == 0, "put back");
        CHECK(trial_load(s, &back, err, sizeof(err)) == 0, "load: %s", err);

        /* The history keeps them. */
        CHECK(trial_transition(s, back, TRIAL_IDLE, err, sizeof(err)) == 0, "end: %s", err);
        trial_free(back);
        back = NULL;
        CHECK(trial_history_load(s, 1, &back, err, sizeof(err)) == 0 && back->n_files == n &&
              back->files[0].new_len == sizeof(bin) - 1 && memcmp(back->files[0].new_data, bin, sizeof(bin) - 1) == 0,
              "history: %s", err);
        CHECK(access(entry, F_OK) == 0, "no history entry");
        trial_free(back);
        trial_free(t);

        /* Without files: no files= key. */
        t = NULL;
        CHECK(trial_begin(s, s0, s1, touched, 1, NULL, 0, deadline, 7, 0, "plain", &t, err, sizeof(err)) == 0,
              "begin plain: %s", err);
        free(rec);
        rec = slurp(record, &len);
        CHECK(!strstr(rec, "\nfile") , "a record without files names files:\n%s", rec);
        trial_free(t);
        trial_store_free(s);
}

static void test_sysctls(Ruleset *s0, Ruleset *s1, uint64_t deadline) {
        _cleanup_free_ char *dir = path_in(base, "state-sysctl"), *record = path_in(dir, "trial/record"), *rec = NULL;
        const TrialSysctl v[] = {
                { "net/ipv4/ip_forward", "0", "1" },
                { "net/ipv4/tcp_fin_timeout", "60", "-5" },
        };
        TrialSysctl bad[] = { { "net/ipv4/tcp_syncookies", "1", "0" } };
        TrialStore *s = NULL;
        Trial *t = NULL, *back = NULL;
        size_t len;

        CHECK(trial_store_open(dir, 3, 0, &s) == 0, "open");
        CHECK(trial_begin_run(s, s0, s1, NULL, 0, NULL, 0, deadline, 7, 0, "run", NULL, 0, bad, 1, &t, err,
                              sizeof(err)) == -EINVAL && !t, "a sysctl outside the list was accepted");
        snprintf(bad[0].name, sizeof(bad[0].name), "net/ipv4/ip_forward");
        snprintf(bad[0].new_value, sizeof(bad[0].new_value), "1 2");
        CHECK(trial_begin_run(s, s0, s1, NULL, 0, NULL, 0, deadline, 7, 0, "run", NULL, 0, bad, 1, &t, err,
                              sizeof(err)) == -EINVAL && !t, "a value that is no integer was accepted");
        CHECK(access(record, F_OK) < 0, "a refused trial left a record");
        CHECK(trial_begin_run(s, s0, s1, NULL, 0, NULL, 0, deadline, 7, 0, "run", NULL, 0, v, 2, &t, err,
                              sizeof(err)) == 0, "begin: %s", err);
        rec = slurp(record, &len);
        CHECK(strstr(rec, "\nsysctl=net/ipv4/ip_forward 0 1\n") &&
              strstr(rec, "\nsysctl=net/ipv4/tcp_fin_timeout 60 -5\n") && strstr(rec, "\nfiles=pending\n"),
              "record:\n%s", rec);
        CHECK(trial_set_files_state(s, t, TRIAL_FILES_RESTORED, err, sizeof(err)) == 0, "state: %s", err);
        trial_store_free(s);
        CHECK(trial_store_open(dir, 3, 0, &s) == 0, "reopen");
        CHECK(trial_load(s, &back, err, sizeof(err)) == 0 && back, "load: %s", err);
        CHECK(back->n_sysctls == 2 && back->n_files == 0 && back->files_state == TRIAL_FILES_RESTORED, "sysctls back");
        for (size_t i = 0; i < 2; i++)
                CHECK(streq(back->sysctls[i].name, v[i].name) && streq(back->sysctls[i].old_value, v[i].old_value) &&
                      streq(back->sysctls[i].new_value, v[i].new_value), "sysctl %zu", i);
        trial_free(back);
        trial_free(t);
        trial_store_free(s);
}

static void test_fileio(void) {
        _cleanup_free_ char *dir = path_in(base, "etc"), *f = path_in(dir, "f"), *target = path_in(base, "target"),
                *link = path_in(dir, "link"), *ldir = path_in(dir, "ldir"), *via = path_in(ldir, "target"),
                *left = path_in(dir, ".f.fwguard-1-2"), *data = NULL;
        bool exists;
        unsigned mode;
        size_t len;
        struct stat st;

        CHECK(mkdir(dir, 0755) == 0, "mkdir");
        CHECK(fileio_read_nofollow(f, 100, &exists, &mode, &data, &len) == 0 && !exists, "absent");
        CHECK(fileio_install(left, true, 0600, "left", 4) == 0, "a leftover");
        CHECK(fileio_install(f, true, 0640, "one\n", 4) == 0, "install");
        CHECK(access(left, F_OK) < 0, "the leftover temporary file was kept");
        CHECK(fileio_read_nofollow(f, 100, &exists, &mode, &data, &len) == 0 && exists && mode == 0640 &&
              len == 4 && memcmp(data, "one\n", 4) == 0, "read back");
        free(data);
        data = NULL;
        CHECK(fileio_read_nofollow(f, 3, &exists, &mode, &data, &len) == -EFBIG, "bound");
        CHECK(fileio_install(f, true, 0600, "two", 3) == 0 && stat(f, &st) == 0 && (st.st_mode & 07777) == 0600 &&
              st.st_size == 3, "replace");
        CHECK(fileio_install(f, false, 0, NULL, 0) == 0 && access(f, F_OK) < 0, "delete");
        CHECK(fileio_install(f, false, 0, NULL, 0) == 0, "delete again");
        /* Only the file is left in the directory: no temporary files. */
        CHECK(rmdir(dir) == 0, "the directory is not empty: %m");
        CHECK(mkdir(dir, 0755) == 0, "mkdir");

        CHECK(fileio_install(target, true, 0644, "target", 6) == 0, "target");
        CHECK(symlink(target, link) == 0 && symlink(base, ldir) == 0, "symlinks");
        CHECK(fileio_read_nofollow(link, 100, &exists, &mode, &data, &len) == -ELOOP, "read through a symlink");
        CHECK(fileio_read_nofollow(via, 100, &exists, &mode, &data, &len) < 0, "read through a symlinked dir");
        CHECK(fileio_install(via, true, 0600, "evil", 4) < 0, "write through a symlinked dir");
        CHECK(fileio_install(f, true, 0600, "x", 1) == 0, "a file beside");
        data = slurp(target, &len);
        CHECK(len == 6 && memcmp(data, "target", 6) == 0, "the symlink's target was changed");
        CHECK(fileio_read_nofollow("/tmp/../b", 100, &exists, &mode, &data, &len) == -EINVAL, "..");
}

int main(void) {
        struct timespec ts;
        Ruleset *s0, *s1;
        char cmd[128];

        CHECK(mkdtemp(base), "mkdtemp: %m");
        clock_gettime(CLOCK_BOOTTIME, &ts);
        s0 = model("table filter\nchain input hook policy drop\nrule input tcp 22 accept\n");
        s1 = model("table filter\nchain input hook policy drop\nrule input tcp 22 accept\nrule input tcp 443 accept\n");
        test_record(s0, s1, (uint64_t) ts.tv_sec * 1000000000ULL + 120ULL * 1000000000ULL);
        test_sysctls(s0, s1, (uint64_t) ts.tv_sec * 1000000000ULL + 120ULL * 1000000000ULL);
        test_fileio();
        (void) model_table;
        ruleset_free(s0);
        ruleset_free(s1);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        CHECK(system(cmd) == 0, "cleanup");
        printf("ok\n");
        return 0;
}

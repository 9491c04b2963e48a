/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-sshperm.c — sshd's StrictModes rule on a tree of files made here:
 * which paths are faulted, in which order, where the walk stops, symlinks,
 * and the expansion of AuthorizedKeysFile. Runs as any user: ownership
 * faults are made by checking for another uid. tests/e2e/doctor/keys.sh
 * holds the rule against a real sshd. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "macro.h"
#include "sshperm.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static char root[PATH_MAX];     /* canonical */
static char home[PATH_MAX + 16], ssh[PATH_MAX + 32], keys[PATH_MAX + 64];

/* Check @path for @uid and compare the faulted paths with @want (NULL-terminated,
 * each "PATH:FAULTS"). */
static void expect(const char *path, uid_t uid, const char *const *want) {
        SshPermProblem *p = NULL;
        size_t n = 0, i;

        CHECK(sshperm_check(path, home, uid, false, &p, &n) == 0, "check %s", path);
        for (i = 0; want[i]; i++) {
                char buf[PATH_MAX + 64];

                CHECK(i < n, "missing fault %s", want[i]);
                snprintf(buf, sizeof(buf), "%s:%u", p[i].path, p[i].faults);
                CHECK(streq(buf, want[i]), "fault %zu: %s, want %s", i, buf, want[i]);
        }
        CHECK(i == n, "%zu faults, want %zu (first extra: %s)", n, i, n > i ? p[i].path : "");
        sshperm_problems_free(p, n);
}

static void setup(void) {
        char tmpl[] = "/tmp/test-sshperm.XXXXXX";

        CHECK(mkdtemp(tmpl), "mkdtemp");
        CHECK(realpath(tmpl, root), "realpath");
        snprintf(home, sizeof(home), "%s/home", root);
        snprintf(ssh, sizeof(ssh), "%s/.ssh", home);
        snprintf(keys, sizeof(keys), "%s/authorized_keys", ssh);
        CHECK(mkdir(home, 0755) == 0 && mkdir(ssh, 0700) == 0, "mkdir");
        FILE *f = fopen(keys, "w");
        CHECK(f && fclose(f) == 0, "create %s", keys);
        CHECK(chmod(keys, 0600) == 0 && chmod(root, 0777) == 0, "chmod");
}

static void test_modes(void) {
        char buf[3][PATH_MAX + 80];
        uid_t me = getuid();

        expect(keys, me, (const char *[]) { NULL });

        /* Above the home directory nothing counts: root is 0777. */
        chmod(keys, 0666);
        snprintf(buf[0], sizeof(buf[0]), "%s:%u", keys, SSHPERM_WRITABLE);
        expect(keys, me, (const char *[]) { buf[0], NULL });

        /* Every fault on the way, the file first, the home included. */
        chmod(ssh, 0770);
        chmod(home, 0757);
        snprintf(buf[1], sizeof(buf[1]), "%s:%u", ssh, SSHPERM_WRITABLE);
        snprintf(buf[2], sizeof(buf[2]), "%s:%u", home, SSHPERM_WRITABLE);
        expect(keys, me, (const char *[]) { buf[0], buf[1], buf[2], NULL });
        chmod(keys, 0600);
        chmod(ssh, 0700);
        chmod(home, 0755);

        /* Readable by all is fine; the setgid bit too. */
        chmod(keys, 0644);
        chmod(ssh, 02755);
        expect(keys, me, (const char *[]) { NULL });
        chmod(ssh, 0700);
}

static void test_owner(void) {
        char buf[2][PATH_MAX + 80];
        uid_t other = getuid() == 0 ? 4242 : getuid() + 1;

        /* Owned by us, checked for someone else: unless we are root (who
         * may own anything), every path is someone else's. */
        if (getuid() == 0) {
                expect(keys, other, (const char *[]) { NULL });
                CHECK(chown(ssh, 4243, (gid_t) -1) == 0, "chown");
                snprintf(buf[0], sizeof(buf[0]), "%s:%u", ssh, SSHPERM_OWNER);
                expect(keys, other, (const char *[]) { buf[0], NULL });
                chmod(ssh, 0777);
                snprintf(buf[0], sizeof(buf[0]), "%s:%u", ssh, SSHPERM_OWNER | SSHPERM_WRITABLE);
                expect(keys, other, (const char *[]) { buf[0], NULL });
                CHECK(chown(ssh, 0, (gid_t) -1) == 0 && chmod(ssh, 0700) == 0, "chown back");
        } else {
                snprintf(buf[0], sizeof(buf[0]), "%s:%u", keys, SSHPERM_OWNER);
                snprintf(buf[1], sizeof(buf[1]), "%s:%u", ssh, SSHPERM_OWNER);
                char h[PATH_MAX + 80];
                snprintf(h, sizeof(h), "%s:%u", home, SSHPERM_OWNER);
                expect(keys, other, (const char *[]) { buf[0], buf[1], h, NULL });
        }
}

static void test_symlink_and_outside(void) {
        char target_dir[PATH_MAX + 16], target[PATH_MAX + 32], buf[2][PATH_MAX + 80];
        SshPermProblem *p = NULL;
        size_t n = 0;

        /* The canonical path is walked: a link to a file in a writable
         * directory outside the home is judged there, up to /. */
        snprintf(target_dir, sizeof(target_dir), "%s/elsewhere", root);
        snprintf(target, sizeof(target), "%s/keys", target_dir);
        CHECK(mkdir(target_dir, 0777) == 0 && chmod(target_dir, 0777) == 0, "mkdir");
        FILE *f = fopen(target, "w");
        CHECK(f && fclose(f) == 0 && chmod(target, 0600) == 0, "create");
        CHECK(unlink(keys) == 0 && symlink(target, keys) == 0, "symlink");
        snprintf(buf[0], sizeof(buf[0]), "%s:%u", target_dir, SSHPERM_WRITABLE);
        snprintf(buf[1], sizeof(buf[1]), "%s:%u", root, SSHPERM_WRITABLE);
        CHECK(sshperm_check(keys, home, getuid(), false, &p, &n) == 0, "check");
        /* Whatever lies above the test's directory (/tmp is 1777) comes after. */
        CHECK(n >= 2, "%zu faults", n);
        CHECK(streq(p[0].path, target_dir) && p[0].dir && p[0].faults == SSHPERM_WRITABLE, "%s", p[0].path);
        CHECK(streq(p[1].path, root), "%s", p[1].path);
        CHECK(streq(p[n - 1].path, "/tmp") || n == 2, "last: %s", p[n - 1].path);
        sshperm_problems_free(p, n);

        /* Not a regular file. */
        CHECK(unlink(keys) == 0 && mkdir(keys, 0700) == 0, "mkdir keys");
        snprintf(buf[0], sizeof(buf[0]), "%s:%u", keys, SSHPERM_NOT_REGULAR);
        expect(keys, getuid(), (const char *[]) { buf[0], NULL });
        CHECK(rmdir(keys) == 0, "rmdir");

        CHECK(sshperm_check(keys, home, getuid(), false, &p, &n) == -ENOENT, "absent: not -ENOENT");
}

static void test_expand(void) {
        static const struct {
                const char *pattern, *want;
                int r;
        } cases[] = {
                { ".ssh/authorized_keys",       "/home/u/.ssh/authorized_keys", 0 },
                { "%h/.ssh/keys2",              "/home/u/.ssh/keys2", 0 },
                { "/etc/ssh/keys/%u",           "/etc/ssh/keys/u", 0 },
                { "/etc/ssh/keys/%U.%%",        "/etc/ssh/keys/1000.%", 0 },
                { "%u/keys",                    "/home/u/u/keys", 0 },
                { "/etc/%k",                    NULL, -EINVAL },
                { "/etc/%",                     NULL, -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL;
                int r = sshperm_expand(cases[i].pattern, "u", "/home/u", 1000, &out);

                CHECK(r == cases[i].r, "%s: %d, want %d", cases[i].pattern, r, cases[i].r);
                CHECK(!cases[i].want || streq(out, cases[i].want), "%s: %s, want %s", cases[i].pattern, out,
                      cases[i].want);
        }
}

int main(void) {
        char cmd[PATH_MAX + 16];

        setup();
        test_modes();
        test_owner();
        test_symlink_and_outside();
        test_expand();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : 1;
}

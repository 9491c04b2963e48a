/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sshperm.c — would sshd's StrictModes accept a user's authorized_keys file?
 *
 * With StrictModes (the default), sshd ignores an authorized_keys file that
 * anyone but the user (or root) could have written: the file or a directory
 * above it owned by someone else, or writable by a group or by everyone. The
 * key login then fails with one line in sshd's log ("Authentication
 * refused: bad ownership or modes for ..."), and on a host with password
 * logins off that is a lockout no firewall rule explains. `fwguard doctor`
 * applies OpenSSH's own rule (auth_secure_path() in misc.c): the canonical
 * path of the file is walked upwards, the file and each directory checked,
 * up to and including the home directory, or to / for a file outside it.
 * The parents of the home directory are never looked at, as in sshd.
 * Debian's sshd is laxer about group-writable paths (group_only_owner()),
 * and that is the one fwguard's package meets.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "sshperm.h"

void sshperm_problems_free(SshPermProblem *p, size_t n) {
        for (size_t i = 0; p && i < n; i++)
                free(p[i].path);
        free(p);
}

/* Debian's sshd (its "Allow harmless group-writability" patch, for the
 * per-user groups and umask 002 that Debian sets up) accepts a
 * group-writable path whose group has exactly one member, the owner: the
 * users whose primary group it is are @uid alone, and its member list is
 * empty or only the owner. */
static bool group_only_owner(const struct stat *st, uid_t uid) {
        struct group *gr = getgrgid(st->st_gid);
        struct passwd *pw;
        unsigned members = 0;
        bool ok = gr != NULL;

        setpwent();
        while (ok && (pw = getpwent()))
                if (pw->pw_gid == st->st_gid) {
                        members++;
                        ok = pw->pw_uid == uid;
                }
        endpwent();
        pw = ok ? getpwuid(st->st_uid) : NULL;
        if (!pw)
                return false;
        if (gr->gr_mem[0]) {
                members++;
                ok = streq(pw->pw_name, gr->gr_mem[0]) && !gr->gr_mem[1];
        }
        return ok && members > 0;
}

static unsigned faults_of(const struct stat *st, uid_t uid, bool debian) {
        unsigned f = 0;

        if (st->st_uid != 0 && st->st_uid != uid)
                f |= SSHPERM_OWNER;
        if ((st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && !(debian && group_only_owner(st, uid))))
                f |= SSHPERM_WRITABLE;
        return f;
}

static int add_problem(SshPermProblem **list, size_t *n, const char *path, bool dir, unsigned faults,
                       const struct stat *st) {
        SshPermProblem *grown = reallocarray(*list, *n + 1, sizeof(**list));
        char *copy = strdup(path);

        if (grown)
                *list = grown;
        if (!grown || !copy) {
                free(copy);
                return -ENOMEM;
        }
        (*list)[(*n)++] = (SshPermProblem) { .path = copy, .dir = dir, .faults = faults,
                                             .owner = st->st_uid, .mode = st->st_mode & 07777 };
        return 0;
}

int sshperm_check(const char *path, const char *home, uid_t uid, bool debian, SshPermProblem **ret,
                  size_t *ret_n) {
        SshPermProblem *list = NULL;
        char buf[PATH_MAX], homedir[PATH_MAX];
        bool comparehome;
        struct stat st;
        size_t n = 0;
        unsigned f;
        int r;

        if (!realpath(path, buf) || stat(buf, &st) < 0)
                return negative_errno();
        comparehome = home && realpath(home, homedir);

        f = faults_of(&st, uid, debian) | (S_ISREG(st.st_mode) ? 0 : SSHPERM_NOT_REGULAR);
        r = f ? add_problem(&list, &n, buf, false, f, &st) : 0;
        while (r >= 0 && !streq(buf, "/")) {
                char *slash = strrchr(buf, '/');

                if (slash == buf)
                        slash[1] = '\0';
                else
                        *slash = '\0';
                if (stat(buf, &st) < 0) {
                        r = negative_errno();
                        break;
                }
                f = faults_of(&st, uid, debian);
                if (f)
                        r = add_problem(&list, &n, buf, true, f, &st);
                if (comparehome && streq(buf, homedir))
                        break;
        }
        if (r < 0) {
                sshperm_problems_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int sshperm_expand(const char *pattern, const char *user, const char *home, uid_t uid, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        for (const char *p = pattern; *p; p++) {
                if (*p != '%') {
                        fputc(*p, f);
                        continue;
                }
                switch (*++p) {
                case '%': fputc('%', f); break;
                case 'h': fputs(home, f); break;
                case 'u': fputs(user, f); break;
                case 'U': fprintf(f, "%lu", (unsigned long) uid); break;
                default:
                        fclose(f);
                        return -EINVAL;
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        /* sshd anchors what is still relative after the expansion. */
        if (out[0] != '/') {
                char *abs;

                if (asprintf(&abs, "%s/%s", home, out) < 0)
                        return -ENOMEM;
                free(out);
                out = abs;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sshperm.h — would sshd's StrictModes accept a user's authorized_keys file? */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
        SSHPERM_NOT_REGULAR = 1u << 0,  /* the file is not a regular file */
        SSHPERM_OWNER       = 1u << 1,  /* owned by neither the user nor root */
        SSHPERM_WRITABLE    = 1u << 2,  /* writable by its group or by others */
};

/* One path on the way that sshd would refuse. */
typedef struct SshPermProblem {
        char *path;             /* canonical: symlinks resolved */
        bool dir;               /* a directory above the file, not the file */
        unsigned faults;        /* SSHPERM_* */
        uid_t owner;
        mode_t mode;            /* permission bits, 07777 */
} SshPermProblem;

void sshperm_problems_free(SshPermProblem *p, size_t n);

/* Check @path as @uid's authorized_keys file, whose home is @home, by
 * OpenSSH's rule (auth_secure_path()): the file, and every directory above
 * its canonical path up to and including @home (up to / if the file is not
 * below @home), must be owned by @uid or root and not group- or
 * world-writable, and the file must be a regular file. sshd stops at the
 * first fault; here every fault on the way is listed, in sshd's order (the
 * file first, then upwards). @debian: as Debian's sshd, which accepts a
 * group-writable path whose group has no member but its owner. 0 with
 * *ret_n == 0: sshd accepts it. -ENOENT: @path does not exist (sshd skips
 * it silently). Reads the passwd and group databases: not while the caller
 * iterates them with getpwent(). */
int sshperm_check(const char *path, const char *home, uid_t uid, bool debian, SshPermProblem **ret,
                  size_t *ret_n);

/* One entry of sshd's AuthorizedKeysFile for a user: %% %h %u %U expanded,
 * and a relative path taken from @home, as sshd does. -EINVAL for an
 * unknown %-token. */
int sshperm_expand(const char *pattern, const char *user, const char *home, uid_t uid, char **ret);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* runfiles.h — the files `fwguard run` captured, as the CLI hands them to fwguardd
 *
 * The bus method (org.fwguard.Manager1):
 *   Run(h seed, h result, a(shu) files, a(ss) sysctls, t timeout_sec, t flags)
 *       → (t trial_id, t deadline_realtime_usec, s changes, as warnings)
 * seed:   the live ruleset the command started from, with its genid (a snapshot, lib/snapshot.h);
 * result: the ruleset the command left in the sandbox (a snapshot, genid 0);
 * files:  one (path, fd, mode) per allow-listed file the command created,
 *         changed (content or mode) or deleted. path is absolute and normalized;
 *         fd holds the new content, a sealed memfd; mode is the permission bits
 *         (07777) of the new file. A DELETED file has mode 0 (RUN_FILE_DELETED)
 *         and an fd of /dev/null (D-Bus needs some fd).
 * sysctls: one (name, value) per network sysctl of lib/netsysctl.h that the
 *         command changed in the sandbox: name "net/ipv4/ip_forward", the new
 *         value as text ("1"). The daemon refuses any other name.
 * flags:  as Apply's: RUN_FLAG_ALLOW_DELETE, RUN_FLAG_NO_PREFLIGHT.
 * The daemon must check every path again against [run] overlay_dirs and
 * private_files (run_file_allowed()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#include "netsysctl.h"

#define RUN_FILES_SIGNATURE "a(shu)"
#define RUN_FILE_SIGNATURE "(shu)"
#define RUN_FILE_DELETED 0u
#define RUN_SYSCTLS_SIGNATURE "a(ss)"
#define RUN_SYSCTL_SIGNATURE "(ss)"

#define RUN_FLAG_ALLOW_DELETE (UINT64_C(1) << 0)
#define RUN_FLAG_NO_PREFLIGHT (UINT64_C(1) << 1)

typedef struct RunFile {
        char *path;             /* absolute, normalized */
        int fd;                 /* the new content (a sealed memfd); -1 when deleted */
        bool deleted;
        mode_t mode;            /* permission bits of the new file; 0 when deleted */
} RunFile;

/* A network sysctl that the command changed in the sandbox. */
typedef struct RunSysctl {
        char name[NETSYSCTL_NAME_MAX];
        char value[NETSYSCTL_VALUE_MAX];       /* the new one */
} RunSysctl;

static inline void run_files_free(RunFile *files, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(files[i].path);
                if (files[i].fd >= 0)
                        close(files[i].fd);
        }
        free(files);
}

/* Is @path (absolute, normalized) one that `run` may capture: one of
 * @private_files, or strictly below one of @overlay_dirs? */
static inline bool run_file_allowed(const char *path, char *const *overlay_dirs, size_t n_overlay_dirs,
                                    char *const *private_files, size_t n_private_files) {
        if (!path || path[0] != '/' || strstr(path, "/../") || strstr(path, "//") || strstr(path, "/./"))
                return false;
        for (size_t i = 0; i < n_private_files; i++)
                if (strcmp(path, private_files[i]) == 0)
                        return true;
        for (size_t i = 0; i < n_overlay_dirs; i++) {
                size_t n = strlen(overlay_dirs[i]);

                if (strncmp(path, overlay_dirs[i], n) == 0 && path[n] == '/' && path[n + 1])
                        return true;
        }
        return false;
}

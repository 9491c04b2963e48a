/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run-sandbox — sandbox_run() alone, for tests: no daemon, no trial
 *
 * run-sandbox OUTDIR [--overlay DIR]... [--file FILE]... -- COMMAND [ARGS...]
 *
 * Dumps this namespace's ruleset, runs COMMAND in the run sandbox (stdin and
 * stdout relayed through its pty) and writes into OUTDIR:
 *   s1.fwg      the ruleset the command left (a snapshot; `fwguard show` prints it)
 *   exit        the command's exit code
 *   files       one line per captured file: "PATH MODE" (octal), "PATH deleted"
 *   content/PATH  the captured content of each file that was not deleted
 *   sysctls     one line per captured network sysctl: "NAME VALUE"
 * Without --overlay/--file, the defaults of [run] in lib/config.c.
 * Exit: 0 when the sandbox worked (whatever the command's exit code), 1 on
 * an error of the sandbox, 3 when refused (not root). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "nl.h"
#include "ruleset.h"
#include "sandbox.h"
#include "snapshot.h"

static int mkdir_p(char *path) {
        for (char *p = path + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(config_freep) Config *cfg = NULL;
        Ruleset *s0 = NULL;
        Nl *nl = NULL;
        SandboxRunResult res = {};
        char *errors = NULL, path[8192];
        char *overlays[64], *files[64];
        size_t n_overlays = 0, n_files = 0;
        bool given = false;
        FILE *f;
        int i, r, fd;

        if (argc < 4)
                return fprintf(stderr, "usage: run-sandbox OUTDIR [--overlay DIR]... [--file F]... -- CMD...\n"), 2;
        for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
                if (i + 1 >= argc || n_overlays >= 64 || n_files >= 64)
                        return 2;
                if (!strcmp(argv[i], "--overlay"))
                        overlays[n_overlays++] = argv[++i];
                else if (!strcmp(argv[i], "--file"))
                        files[n_files++] = argv[++i];
                else
                        return fprintf(stderr, "run-sandbox: unknown option %s\n", argv[i]), 2;
                given = true;
        }
        if (i + 1 >= argc)
                return 2;
        if (config_new(&cfg) < 0)
                return 1;
        if (geteuid() == 0) {
                if (nl_open(&nl) < 0 || ruleset_dump(nl, &s0) < 0)
                        return fprintf(stderr, "run-sandbox: cannot read the ruleset\n"), 1;
        } else if (ruleset_new(&s0) < 0)
                return 1;

        SandboxRunRequest req = {
                .argv = argv + i + 1, .seed = s0,
                .overlay_dirs = given ? overlays : cfg->run_overlay_dirs.items,
                .n_overlay_dirs = given ? n_overlays : cfg->run_overlay_dirs.n,
                .private_files = given ? files : cfg->run_private_files.items,
                .n_private_files = given ? n_files : cfg->run_private_files.n,
                .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .timeout_sec = 60,
        };
        fflush(stdout);
        r = sandbox_run(&req, &res, &errors);
        if (r < 0) {
                fprintf(stderr, "run-sandbox: %s\n", errors ? errors : strerror(-r));
                free(errors);
                ruleset_free(s0);
                nl_free(nl);
                return r == -EPERM ? 3 : 1;
        }
        snprintf(path, sizeof(path), "%s/s1.fwg", argv[1]);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || snapshot_write(fd, res.s1, 0) < 0)
                return fprintf(stderr, "run-sandbox: cannot write %s\n", path), 1;
        close(fd);
        snprintf(path, sizeof(path), "%s/exit", argv[1]);
        f = fopen(path, "we");
        if (!f)
                return 1;
        fprintf(f, "%d\n", res.exit_code);
        fclose(f);
        snprintf(path, sizeof(path), "%s/files", argv[1]);
        f = fopen(path, "we");
        if (!f)
                return 1;
        for (size_t k = 0; k < res.n_files; k++) {
                const RunFile *rf = &res.files[k];
                int out;

                if (rf->deleted) {
                        fprintf(f, "%s deleted\n", rf->path);
                        continue;
                }
                fprintf(f, "%s %04o\n", rf->path, (unsigned) rf->mode);
                snprintf(path, sizeof(path), "%s/content%s", argv[1], rf->path);
                if (mkdir_p(path) < 0)
                        return 1;
                out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (out < 0 || lseek(rf->fd, 0, SEEK_SET) < 0 || fileio_copy(rf->fd, out) < 0)
                        return fprintf(stderr, "run-sandbox: cannot write %s\n", path), 1;
                close(out);
        }
        fclose(f);
        snprintf(path, sizeof(path), "%s/sysctls", argv[1]);
        f = fopen(path, "we");
        if (!f)
                return 1;
        for (size_t k = 0; k < res.n_sysctls; k++)
                fprintf(f, "%s %s\n", res.sysctls[k].name, res.sysctls[k].value);
        fclose(f);
        sandbox_run_result_done(&res);
        ruleset_free(s0);
        nl_free(nl);
        free(errors);
        return 0;
}

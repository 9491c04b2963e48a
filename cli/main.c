/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c — fwguard: argument dispatch */
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>

#include "cli.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} verbs[] = {
        { "save", verb_save, "save [FILE|-]                   exact snapshot of this namespace's ruleset" },
        { "restore", verb_restore, "restore FILE|- [--tables F:N,...] put a snapshot back, atomically" },
        { "show", verb_show, "show FILE|-                     print a snapshot as nft text" },
        { "check", verb_check, "check FILE|--live [--json] [-o OUT] would it lock SSH out? (nothing changes)" },
        { "diff", verb_diff, "diff FILE [--json]              what applying FILE would change" },
        { "apply", verb_apply, "apply FILE|- [--timeout SEC] [--wait] a guarded trial of a change (see --help)" },
        { "run", verb_run, "run [OPTIONS] -- COMMAND [ARGS] a firewall tool (ufw, iptables) as a guarded trial (root)" },
        { "ufw", verb_ufw, "ufw ARGS...                     the same as run -- ufw ARGS..." },
        { "confirm", verb_confirm, "confirm [--auto] [--json]       keep the pending trial's change" },
        { "rollback", verb_rollback, "rollback [--to ID] [--json]     undo the pending trial now, or go back to a confirmed state" },
        { "extend", verb_extend, "extend SECONDS [--json]         move the pending trial's deadline" },
        { "status", verb_status, "status [--json]                 the pending trial, from fwguardd" },
        { "history", verb_history, "history [--json]                the finished trials" },
        { "doctor", verb_doctor, "doctor [--json]                 what else could lock SSH out, and the fix of each" },
        { "unguard", verb_unguard, "unguard [--force]               remove fwguard's SSH guards from the live ruleset (root)" },
        { "persist", verb_persist, "persist on|off|status|load      confirmed applies loaded again at boot (root)" },
        /* fwguard-boot.service's (fwguard(8), BOOT); by hand it is harmless */
        { "boot", verb_boot, "boot                            end a trial that a reboot interrupted, files back (root)" },
        /* systemd's, for the second dead-man (fwguard(8)): not in --help */
        { "deadman", verb_deadman, NULL },
};

static void help(FILE *f) {
        fprintf(f, "Usage: fwguard COMMAND [OPTIONS]\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (verbs[i].summary)
                        fprintf(f, "  %s\n", verbs[i].summary);
        fprintf(f, "\nOptions:\n  -h, --help     this help\n  --version      the version\n"
                   "\nExit codes: 0 done, 1 error, 2 usage, 3 refused (check: SSH would be locked out),\n4 rolled back (apply --wait).\nSee fwguard(8).\n");
}

int cli_error(const char *fmt, ...) {
        va_list ap;

        fputs("fwguard: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_ERROR;
}

int cli_usage(const char *fmt, ...) {
        va_list ap;

        fputs("fwguard: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'fwguard --help'.\n", stderr);
        return EXIT_USAGE;
}

int cli_parse_positive(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v == 0 || *s == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

int cli_open_input(const char *path) {
        int fd;

        if (streq(path, "-"))
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? negative_errno() : fd;
}

int main(int argc, char **argv) {
        if (argc < 2)
                return help(stderr), EXIT_USAGE;
        if (streq(argv[1], "-h") || streq(argv[1], "--help"))
                return help(stdout), EXIT_OK;
        if (streq(argv[1], "--version")) {
                printf("fwguard %s\n", PACKAGE_VERSION);
                return EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].run(argc - 1, argv + 1);
        return cli_usage("unknown command '%s'", argv[1]);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli.h — the verbs of the fwguard command and their shared helpers */
#pragma once

#include "macro.h"

enum {
        EXIT_OK = 0,
        EXIT_ERROR = 1,
        EXIT_USAGE = 2,
        EXIT_REFUSED = 3,
        EXIT_ROLLED_BACK = 4,
};

/* Each verb gets argv with argv[0] = the verb and returns an exit code. */
int verb_save(int argc, char **argv);
int verb_restore(int argc, char **argv);
int verb_show(int argc, char **argv);

_printf_(1, 2) int cli_error(const char *fmt, ...);     /* prints, returns EXIT_ERROR */
_printf_(1, 2) int cli_usage(const char *fmt, ...);     /* prints, returns EXIT_USAGE */

/* Open FILE for reading, or stdin for "-". Returns an fd or a negative errno. */
int cli_open_input(const char *path);

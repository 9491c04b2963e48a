/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli.h — the verbs of the fwguard command and their shared helpers */
#pragma once

#include <stdint.h>

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
int verb_check(int argc, char **argv);
int verb_diff(int argc, char **argv);
int verb_doctor(int argc, char **argv);
int verb_status(int argc, char **argv);
int verb_apply(int argc, char **argv);
int verb_confirm(int argc, char **argv);
int verb_rollback(int argc, char **argv);
int verb_extend(int argc, char **argv);
int verb_history(int argc, char **argv);
int verb_run(int argc, char **argv);
int verb_ufw(int argc, char **argv);
int verb_unguard(int argc, char **argv);
int verb_boot(int argc, char **argv);
int verb_persist(int argc, char **argv);
int verb_deadman(int argc, char **argv);

_printf_(1, 2) int cli_error(const char *fmt, ...);     /* prints, returns EXIT_ERROR */
_printf_(1, 2) int cli_usage(const char *fmt, ...);     /* prints, returns EXIT_USAGE */

typedef struct Ruleset Ruleset;
typedef struct Config Config;

/* Load the config (NULL: the default path) and dump the live ruleset.
 * Prints what goes wrong; returns an exit code. */
int cli_read_live(const char *config_path, Config **ret_cfg, Ruleset **ret_s0);

/* A fileio_writer that writes the Ruleset @userdata as a snapshot. */
int cli_write_snapshot(int fd, void *userdata);

/* What FILE (nft text, compiled in the sandbox with our credentials, or a
 * snapshot whose tables replace the live ones) makes of @s0. Prints what
 * goes wrong; returns an exit code. */
int cli_load_change(const char *path, const Ruleset *s0, const Config *cfg, Ruleset **ret);

/* A whole positive decimal number (seconds, a trial id): 0, or -EINVAL. */
int cli_parse_positive(const char *s, uint64_t *ret);

/* Open FILE for reading, or stdin for "-". Returns an fd or a negative errno. */
int cli_open_input(const char *path);

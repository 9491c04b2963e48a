/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bus.h — the CLI's side of fwguardd's private bus */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#define CLI_RUNTIME_DIR_DEFAULT "/run/fwguard"

/* The runtime directory: @opt (from --runtime-dir), else $FWGUARD_RUNTIME_DIR,
 * else CLI_RUNTIME_DIR_DEFAULT. */
const char *cli_runtime_dir(const char *opt);

/* Connect to the daemon. Returns an exit code, having printed what went
 * wrong (with the command that starts the daemon when it does not run). */
int cli_bus_open(const char *runtime_dir, sd_bus **ret);

/* Is a daemon listening in @runtime_dir? */
bool cli_bus_daemon_runs(const char *runtime_dir);

/* The process that listens on @runtime_dir's socket (fwguardd, or the
 * service manager with socket activation), 0 if none. */
pid_t cli_bus_listener_pid(const char *runtime_dir);

/* Call @member of the Manager with the arguments @types... and wait as long
 * as a pre-flight may take. Returns an exit code: on an error reply it
 * prints the daemon's message, prefixed with @what, and maps the error's
 * name to 1 (error), 3 (refused) or 0 (nothing to do). */
int cli_bus_call(sd_bus *bus, const char *what, const char *member, sd_bus_message **reply,
                 const char *types, ...);

/* The same in two steps, for arguments that varargs cannot carry (arrays
 * of any length): a method call of the Manager to fill, then the call. */
int cli_bus_new_call(sd_bus *bus, const char *member, sd_bus_message **ret);
int cli_bus_call_message(sd_bus *bus, const char *what, sd_bus_message *call, sd_bus_message **reply);

/* The name of the last error reply cli_bus_call() printed, or NULL. */
const char *cli_bus_last_error(void);
/* Its message ("" if none). */
const char *cli_bus_last_message(void);
/* @quiet: cli_bus_call() prints nothing for error replies (the caller asks
 * cli_bus_last_error() and cli_bus_last_message() and says what it wants). */
void cli_bus_set_quiet(bool quiet);

/* @usec (CLOCK_REALTIME) as local time, for people. */
void cli_format_time(uint64_t usec, char *buf, size_t len);

/* `fwguard check` or `diff` (@member "Check" or "Diff") of FILE through the
 * daemon, for callers who cannot read the live ruleset themselves: the file
 * is opened here, with our permissions. Prints the report; returns its exit
 * code. */
int cli_bus_report(const char *runtime_dir, const char *member, const char *path, bool json);

/* The answer to Status. The strings live in @reply. */
typedef struct CliStatus {
        sd_bus_message *reply;
        const char *state;              /* "idle", "preparing", "armed", ... */
        uint64_t id;                    /* the trial's, 0 if none */
        uint64_t deadline_realtime_usec;
        const char *summary;
} CliStatus;

static inline void cli_status_done(CliStatus *st) {
        sd_bus_message_unref(st->reply);
}

/* Ask the daemon in @runtime_dir for its Status, waiting at most
 * @timeout_usec (0: sd-bus's default) for the answer. Prints nothing.
 * -ENOENT or -ECONNREFUSED when nothing listens, -ETIMEDOUT when it does
 * not answer in time. */
int cli_bus_status(const char *runtime_dir, uint64_t timeout_usec, CliStatus *ret);

/* The id of the trial a running daemon has pending (or is preparing: 1),
 * 0 when none is, or when no daemon answers. Prints nothing. */
uint64_t cli_bus_pending(const char *runtime_dir);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_trial.c — fwguard apply, confirm, rollback, extend, history: a trial through fwguardd
 *
 * The CLI only asks: the daemon decides, commits and rolls back, so the
 * trial's fate never depends on this process or its terminal. `--wait`
 * watches the trial (signals, and Status once a second in case a signal
 * is missed across a daemon restart) and Ctrl-C merely stops watching.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bus.h"
#include "cli.h"
#include "trial.h"

#define APPLY_ALLOW_DELETE RUN_FLAG_ALLOW_DELETE
#define APPLY_NO_PREFLIGHT RUN_FLAG_NO_PREFLIGHT
#define APPLY_REPLACE_ALL  (UINT64_C(1) << 2)

static int64_t seconds_left(uint64_t deadline_usec) {
        return (int64_t) (deadline_usec / 1000000) - (int64_t) time(NULL);
}

static json_t *strv_json(char **strv) {
        json_t *a = json_array();

        for (char **s = strv; a && s && *s; s++)
                json_array_append_new(a, json_string(*s));
        return a;
}

/* Lines of @text as a JSON array. */
static json_t *lines_json(const char *text) {
        json_t *a = json_array();

        while (a && text && *text) {
                size_t n = strcspn(text, "\n");

                if (n > 0)
                        json_array_append_new(a, json_stringn(text, n));
                text += n + (text[n] == '\n');
        }
        return a;
}

/* Each line of @text on its own line, indented. */
static void print_indented(const char *text) {
        for (const char *p = text; *p; ) {
                size_t n = strcspn(p, "\n");

                if (n > 0)
                        printf("      %.*s\n", (int) n, p);
                p += n + (p[n] == '\n');
        }
}

static void strv_free(char **strv) {
        for (char **s = strv; s && *s; s++)
                free(*s);
        free(strv);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

static int print_armed(const char *what, sd_bus_message *reply, bool json, json_t *json_extra,
                       uint64_t *ret_id, uint64_t *ret_deadline) {
        _cleanup_(strv_freep) char **warnings = NULL;
        const char *changes;
        char when[64];
        int r;

        r = sd_bus_message_read(reply, "tts", ret_id, ret_deadline, &changes);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &warnings);
        if (r < 0)
                return cli_error("cannot read the daemon's answer: %s", strerror(-r));
        cli_format_time(*ret_deadline, when, sizeof(when));
        if (json) {
                _cleanup_free_ char *text = NULL;
                json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:o, s:o, s:s, s:s, s:s}",
                                      "input", what, "trial", (json_int_t) *ret_id,
                                      "deadline_realtime_usec", (json_int_t) *ret_deadline,
                                      "deadline", when, "seconds_left", (json_int_t) seconds_left(*ret_deadline),
                                      "changes", lines_json(changes), "warnings", strv_json(warnings),
                                      "confirm", "fwguard confirm (from a NEW ssh login)",
                                      "rollback", "fwguard rollback", "extend", "fwguard extend SECONDS");
                if (o && json_extra)
                        json_object_update(o, json_extra);
                if (o)
                        text = json_dumps(o, JSON_INDENT(2));
                json_decref(o);
                if (!text)
                        return cli_error("out of memory");
                puts(text);
                return EXIT_OK;
        }
        printf("Trial %" PRIu64 " is armed: %s is live, with the SSH guard.\n", *ret_id, what);
        printf("Changes:\n");
        print_indented(changes);
        if (warnings && *warnings) {
                printf("Warnings:\n");
                for (char **w = warnings; *w; w++)
                        printf("  %s\n", *w);
        }
        printf("It rolls back at %s (in %" PRId64 " s) unless you confirm it.\n"
               "To keep it: open a NEW ssh connection to this host and run 'fwguard confirm'\n"
               "            (only a new login proves that the new rules let you in).\n"
               "To undo it now: fwguard rollback    More time: fwguard extend SECONDS\n",
               when, seconds_left(*ret_deadline));
        return EXIT_OK;
}

/* ---------------------------------------------------------------- --wait */

static volatile sig_atomic_t detached;

static void on_sigint(int sig) {
        detached = 1;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *w = userdata;
        const char *reason = "";
        uint64_t id;

        if (sd_bus_message_read(m, "t", &id) < 0 || id != w->id)
                return 0;
        if (sd_bus_message_is_signal(m, NULL, "Confirmed") > 0)
                w->outcome = OUTCOME_CONFIRMED;
        else if (sd_bus_message_is_signal(m, NULL, "RolledBack") > 0) {
                (void) sd_bus_message_read(m, "s", &reason);
                snprintf(w->reason, sizeof(w->reason), "%s", reason);
                w->outcome = OUTCOME_ROLLED_BACK;
        }
        return 0;
}

/* The trial ended while we were not listening: the history says how. */
static int outcome_from_history(sd_bus *bus, Watch *w) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *outcome, *summary, *report;
        uint64_t id, created, committed;
        uint32_t uid;
        int r;

        r = cli_bus_call(bus, "history", "History", &reply, "");
        if (r != EXIT_OK)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(tsttuss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(tsttuss)", &id, &outcome, &created, &committed,
                                                  &uid, &summary, &report)) > 0)
                if (id == w->id) {
                        w->outcome = streq(outcome, "confirmed") ? OUTCOME_CONFIRMED : OUTCOME_ROLLED_BACK;
                        snprintf(w->reason, sizeof(w->reason), "%s", report);
                        return EXIT_OK;
                }
        return cli_error("trial %" PRIu64 " is neither pending nor in the history", w->id);
}

/* Once a second: is the trial still pending, and when does it end? */
static int poll_status(sd_bus *bus, Watch *w, uint64_t *deadline) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *state, *summary;
        uint64_t id;
        int r;

        r = cli_bus_call(bus, "status", "Status", &reply, "");
        if (r != EXIT_OK)
                return r;
        r = sd_bus_message_read(reply, "stts", &state, &id, deadline, &summary);
        if (r < 0)
                return cli_error("cannot read the daemon's answer: %s", strerror(-r));
        if (id != w->id)
                return outcome_from_history(bus, w);
        return EXIT_OK;
}

static int wait_trial(sd_bus *bus, Watch *w, uint64_t deadline) {
        struct sigaction sa = { .sa_handler = on_sigint };
        bool tty = isatty(STDOUT_FILENO);
        int64_t last_line = INT64_MAX;
        int r;

        (void) sigaction(SIGINT, &sa, NULL);
        while (w->outcome == OUTCOME_PENDING && !detached) {
                int64_t left;

                /* Signals that came while we were in a call first: they
                 * carry the reason, the history does not. */
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (w->outcome != OUTCOME_PENDING)
                        break;
                r = poll_status(bus, w, &deadline);
                if (r != EXIT_OK)
                        return r;
                if (w->outcome != OUTCOME_PENDING)
                        break;
                left = seconds_left(deadline);
                if (left < 0)
                        left = 0;
                if (tty) {
                        printf("\rrolls back in %3" PRId64 " s unless confirmed from a new ssh login "
                               "(Ctrl-C only stops watching) ", left);
                        fflush(stdout);
                } else if (last_line - left >= 10 || left <= 5) {
                        printf("trial %" PRIu64 ": rolls back in %" PRId64 " s unless confirmed\n", w->id, left);
                        fflush(stdout);
                        last_line = left;
                }
                /* A signal, the second, or Ctrl-C: whichever comes first. */
                r = sd_bus_wait(bus, 1000 * 1000);
                while (r >= 0 && (r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0 && r != -EINTR)
                        return cli_error("lost fwguardd: %s; the trial goes on (see 'fwguard status')",
                                         strerror(-r));
        }
        if (tty)
                printf("\n");
        switch (w->outcome) {
        case OUTCOME_CONFIRMED:
                printf("trial %" PRIu64 " confirmed: the change stays.\n", w->id);
                return EXIT_OK;
        case OUTCOME_ROLLED_BACK:
                printf("trial %" PRIu64 " was ROLLED BACK%s%s.\n", w->id, w->reason[0] ? ": " : "", w->reason);
                return EXIT_ROLLED_BACK;
        default:
                printf("stopped watching; trial %" PRIu64 " goes on (see 'fwguard status').\n", w->id);
                return EXIT_OK;
        }
}

int cli_trial_armed(sd_bus *bus, const char *what, sd_bus_message *reply, bool json, json_t *json_extra,
                    bool wait, Watch *w) {
        uint64_t deadline;
        int r;

        r = print_armed(what, reply, json, json_extra, &w->id, &deadline);
        if (r != EXIT_OK || !wait)
                return r;
        return wait_trial(bus, w, deadline);
}

int cli_trial_watch_signals(sd_bus *bus, Watch *w) {
        int r = sd_bus_match_signal(bus, NULL, NULL, "/org/fwguard/Manager", "org.fwguard.Manager1",
                                    "Confirmed", on_signal, w);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, NULL, "/org/fwguard/Manager", "org.fwguard.Manager1",
                                        "RolledBack", on_signal, w);
        return r < 0 ? cli_error("cannot watch the trial: %s", strerror(-r)) : EXIT_OK;
}

/* ---------------------------------------------------------------- apply */

static bool ask_yes(const char *question) {
        char answer[16];

        if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
                return false;
        fprintf(stderr, "%s [y/N] ", question);
        return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

int verb_apply(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "timeout", required_argument, NULL, 't' },
                { "wait", no_argument, NULL, 'w' },
                { "json", no_argument, NULL, 'j' },
                { "allow-delete", no_argument, NULL, 'd' },
                { "no-preflight", no_argument, NULL, 'n' },
                { "replace-all", no_argument, NULL, 'a' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *runtime_dir = NULL, *path;
        bool json = false, wait = false;
        uint64_t timeout = 0, flags = 0;
        Watch w = {};
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard apply FILE|- [--timeout SEC] [--wait] [--json] [--allow-delete]\n"
                               "                     [--no-preflight] [--replace-all] [--runtime-dir DIR]\n");
                        return EXIT_OK;
                case 't':
                        if (cli_parse_positive(optarg, &timeout) < 0)
                                return cli_usage("apply: --timeout takes a number of seconds ('%s')", optarg);
                        break;
                case 'w': wait = true; break;
                case 'j': json = true; break;
                case 'd': flags |= APPLY_ALLOW_DELETE; break;
                case 'n': flags |= APPLY_NO_PREFLIGHT; break;
                case 'a': flags |= APPLY_REPLACE_ALL; break;
                case 'r': runtime_dir = optarg; break;
                default: return cli_usage("apply: unknown option");
                }
        if (argc - optind != 1)
                return cli_usage("apply takes one FILE (or - for stdin)");
        path = argv[optind];

        r = cli_bus_open(cli_runtime_dir(runtime_dir), &bus);
        if (r == EXIT_OK)
                r = cli_trial_watch_signals(bus, &w);
        if (r != EXIT_OK)
                return r;
        for (;;) {
                /* Opened here, with our permissions: the daemon reads only this fd. */
                _cleanup_close_ int fd = cli_open_input(path);

                if (fd < 0)
                        return cli_error("%s: %s", path, strerror(-fd));
                r = cli_bus_call(bus, "apply", "Apply", &reply, "hstt", fd, path, timeout, flags);
                /* A file can be sent again; stdin cannot. */
                if (r == EXIT_REFUSED && !(flags & APPLY_ALLOW_DELETE) && !streq(path, "-") &&
                    streq_ptr(cli_bus_last_error(), "org.fwguard.Error.WouldDelete") &&
                    ask_yes("Delete those tables anyway?")) {
                        flags |= APPLY_ALLOW_DELETE;
                        continue;
                }
                break;
        }
        if (r != EXIT_OK || !reply)
                return r;
        return cli_trial_armed(bus, path, reply, json, NULL, wait, &w);
}

/* ---------------------------------------------------------------- confirm, rollback, extend */

/* Parse the options every verb here shares; returns -1 to go on, else an exit code. */
static int common_options(int argc, char **argv, const char *usage, const struct option *extra,
                          size_t n_extra, int (*on_extra)(int c, void *userdata), void *userdata,
                          const char **runtime_dir, bool *json) {
        struct option options[16] = {
                { "help", no_argument, NULL, 'h' },
                { "runtime-dir", required_argument, NULL, 'r' },
                { "json", no_argument, NULL, 'j' },
        };
        int c, r;

        if (n_extra > 0)
                memcpy(options + 3, extra, n_extra * sizeof(*extra));
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': printf("Usage: fwguard %s\n", usage); return EXIT_OK;
                case 'r': *runtime_dir = optarg; break;
                case 'j': *json = true; break;
                default:
                        r = on_extra ? on_extra(c, userdata) : -EINVAL;
                        if (r < 0)
                                return cli_usage("usage: fwguard %s", usage);
                }
        return -1;
}

/* What confirm, extend and history share: the options, at most one
 * argument (a number of seconds, if @arg), the connection and the call.
 * Returns -1 with *reply set to go on, else an exit code. */
static int simple_call(int argc, char **argv, const char *usage, const char *member, uint64_t *arg,
                       bool *json, sd_bus **bus, sd_bus_message **reply) {
        const char *runtime_dir = NULL;
        int r;

        r = common_options(argc, argv, usage, NULL, 0, NULL, NULL, &runtime_dir, json);
        if (r >= 0)
                return r;
        if (argc - optind != (arg ? 1 : 0))
                return cli_usage("usage: fwguard %s", usage);
        if (arg && cli_parse_positive(argv[optind], arg) < 0)
                return cli_usage("'%s' is not a number of seconds", argv[optind]);
        r = cli_bus_open(cli_runtime_dir(runtime_dir), bus);
        if (r == EXIT_OK)
                r = arg ? cli_bus_call(*bus, argv[0], member, reply, "t", *arg)
                        : cli_bus_call(*bus, argv[0], member, reply, "");
        return r == EXIT_OK ? -1 : r;
}

/* confirm --auto, for the login hook: quiet unless there is something to
 * say, one line on stderr (stdout may be an scp or sftp stream). */
/* Confirm's answer: the trial, and what its persistence has to say ("" if
 * nothing; a daemon from before persistence answers the id alone). */
static int confirm_read(sd_bus_message *reply, uint64_t *ret_id, const char **ret_warnings) {
        int r = sd_bus_message_read(reply, "t", ret_id);

        *ret_warnings = "";
        if (r >= 0 && sd_bus_message_at_end(reply, false) == 0)
                r = sd_bus_message_read(reply, "s", ret_warnings);
        return r;
}

/* Each line of @warnings on stderr. */
static void confirm_warn(const char *warnings) {
        for (const char *p = warnings, *nl; *p; p = *nl ? nl + 1 : nl) {
                nl = strchrnul(p, '\n');
                fprintf(stderr, "fwguard: warning: %.*s\n", (int) (nl - p), p);
        }
}

static int confirm_auto(const char *runtime_dir) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *error, *warnings;
        uint64_t id;
        int r;

        runtime_dir = cli_runtime_dir(runtime_dir);
        if (!cli_bus_daemon_runs(runtime_dir))
                return EXIT_OK;
        cli_bus_set_quiet(true);
        if (cli_bus_open(runtime_dir, &bus) != EXIT_OK)
                return EXIT_OK;
        r = cli_bus_call(bus, "confirm", "Confirm", &reply, "");
        if (r == EXIT_OK && reply && confirm_read(reply, &id, &warnings) >= 0) {
                fprintf(stderr, "fwguard: trial %" PRIu64 " confirmed by this new ssh login: the change stays.\n", id);
                confirm_warn(warnings);
                return EXIT_OK;
        }
        error = cli_bus_last_error();
        /* Nothing pending, or a user who may not confirm: not this login's
         * business. A daemon that does not answer must not hold up logins. */
        if (!error || streq(error, "org.fwguard.Error.NothingPending") ||
            streq(error, "org.freedesktop.DBus.Error.AccessDenied"))
                return EXIT_OK;
        fprintf(stderr, "fwguard: %s\n", cli_bus_last_message());
        return r;
}

static int on_confirm_option(int c, void *userdata) {
        if (c != 'a')
                return -EINVAL;
        *(bool *) userdata = true;
        return 0;
}

int verb_confirm(int argc, char **argv) {
        static const struct option extra[] = { { "auto", no_argument, NULL, 'a' } };
        static const char usage[] = "confirm [--auto] [--json] [--runtime-dir DIR]";
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *runtime_dir = NULL, *warnings;
        bool json = false, autom = false;
        uint64_t id;
        int r;

        r = common_options(argc, argv, usage, extra, ELEMENTSOF(extra), on_confirm_option, &autom,
                           &runtime_dir, &json);
        if (r >= 0)
                return r;
        if (argc != optind)
                return cli_usage("usage: fwguard %s", usage);
        if (autom)
                return confirm_auto(runtime_dir);
        r = cli_bus_open(cli_runtime_dir(runtime_dir), &bus);
        if (r == EXIT_OK)
                r = cli_bus_call(bus, argv[0], "Confirm", &reply, "");
        if (r != EXIT_OK)
                return r;
        if (confirm_read(reply, &id, &warnings) < 0)
                return cli_error("cannot read the daemon's answer");
        if (json) {
                _cleanup_(json_decrefp) json_t *o = json_pack("{s:I, s:s, s:o}", "trial", (json_int_t) id,
                                                              "state", "confirmed", "warnings", lines_json(warnings));

                if (!o || json_dumpf(o, stdout, JSON_COMPACT) < 0)
                        return cli_error("out of memory");
                putchar('\n');
        } else {
                printf("trial %" PRIu64 " confirmed: the change stays.\n", id);
                confirm_warn(warnings);
        }
        return EXIT_OK;
}

typedef struct RollbackArgs {
        uint64_t to;
        uint64_t timeout;
        uint64_t flags;
        bool wait;
} RollbackArgs;

static int rollback_option(int c, void *userdata) {
        RollbackArgs *a = userdata;

        switch (c) {
        case 'o':
                return cli_parse_positive(optarg, &a->to);
        case 't':
                return cli_parse_positive(optarg, &a->timeout);
        case 'w':
                a->wait = true;
                return 0;
        case 'd':
                a->flags |= APPLY_ALLOW_DELETE;
                return 0;
        case 'n':
                a->flags |= APPLY_NO_PREFLIGHT;
                return 0;
        }
        return -EINVAL;
}

int verb_rollback(int argc, char **argv) {
        static const struct option extra[] = {
                { "to", required_argument, NULL, 'o' },
                { "timeout", required_argument, NULL, 't' },
                { "wait", no_argument, NULL, 'w' },
                { "allow-delete", no_argument, NULL, 'd' },
                { "no-preflight", no_argument, NULL, 'n' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *runtime_dir = NULL, *report;
        RollbackArgs a = {};
        bool json = false;
        char what[64];
        uint32_t conflicts;
        uint64_t id;
        int exact, r;
        Watch w = {};

        r = common_options(argc, argv, "rollback [--to ID [--timeout SEC] [--wait] [--allow-delete] [--no-preflight]] [--json] [--runtime-dir DIR]",
                           extra, ELEMENTSOF(extra), rollback_option, &a, &runtime_dir, &json);
        if (r >= 0)
                return r;
        if (optind < argc)
                return cli_usage("rollback takes no argument ('%s')", argv[optind]);
        r = cli_bus_open(cli_runtime_dir(runtime_dir), &bus);
        if (r != EXIT_OK)
                return r;
        if (a.to > 0) {
                snprintf(what, sizeof(what), "the state of trial %" PRIu64, a.to);
                r = cli_trial_watch_signals(bus, &w);
                if (r == EXIT_OK)
                        r = cli_bus_call(bus, "rollback --to", "RollbackTo", &reply, "ttt", a.to, a.timeout,
                                         a.flags);
                return r != EXIT_OK || !reply ? r : cli_trial_armed(bus, what, reply, json, NULL, a.wait, &w);
        }
        r = cli_bus_call(bus, "rollback", "Rollback", &reply, "");
        if (r != EXIT_OK)
                return r;
        if (sd_bus_message_read(reply, "tbus", &id, &exact, &conflicts, &report) < 0)
                return cli_error("cannot read the daemon's answer");
        if (json) {
                _cleanup_free_ char *text = NULL;
                json_t *o = json_pack("{s:I, s:s, s:b, s:i, s:o}", "trial", (json_int_t) id,
                                      "state", "rolled-back", "exact", exact, "conflicts", (int) conflicts,
                                      "report", lines_json(report));
                if (o)
                        text = json_dumps(o, JSON_INDENT(2));
                json_decref(o);
                if (!text)
                        return cli_error("out of memory");
                puts(text);
        } else {
                printf("trial %" PRIu64 " rolled back: the changed tables are as they were before it.\n", id);
                if (*report)
                        printf("Not carried over (saved in 'fwguard history'):\n%s", report);
        }
        return exact ? EXIT_OK : EXIT_ERROR;
}

int verb_extend(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        bool json = false;
        uint64_t sec, deadline;
        char when[64];
        int r;

        r = simple_call(argc, argv, "extend SECONDS [--json] [--runtime-dir DIR]", "Extend", &sec, &json,
                        &bus, &reply);
        if (r >= 0)
                return r;
        if (sd_bus_message_read(reply, "t", &deadline) < 0)
                return cli_error("cannot read the daemon's answer");
        cli_format_time(deadline, when, sizeof(when));
        if (json)
                printf("{\"deadline_realtime_usec\": %" PRIu64 ", \"deadline\": \"%s\", \"seconds_left\": %" PRId64 "}\n",
                       deadline, when, seconds_left(deadline));
        else
                printf("The trial now rolls back at %s (in %" PRId64 " s) unless confirmed.\n", when,
                       seconds_left(deadline));
        return EXIT_OK;
}

/* ---------------------------------------------------------------- history */

int verb_history(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *outcome, *summary, *report;
        uint64_t id, created, committed;
        json_t *list = NULL;
        bool json = false;
        uint32_t uid;
        int r;

        r = simple_call(argc, argv, "history [--json] [--runtime-dir DIR]", "History", NULL, &json, &bus, &reply);
        if (r >= 0)
                return r;
        if (json && !(list = json_array()))
                return cli_error("out of memory");
        r = sd_bus_message_enter_container(reply, 'a', "(tsttuss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(tsttuss)", &id, &outcome, &created, &committed,
                                                  &uid, &summary, &report)) > 0) {
                char when[64];

                cli_format_time(created, when, sizeof(when));
                if (json) {
                        json_array_append_new(list, json_pack("{s:I, s:s, s:I, s:I, s:i, s:o, s:o}",
                                "id", (json_int_t) id, "outcome", outcome, "created_usec", (json_int_t) created,
                                "committed_usec", (json_int_t) committed, "uid", (int) uid,
                                "summary", lines_json(summary), "report", lines_json(report)));
                        continue;
                }
                printf("%4" PRIu64 "  %-13s %s  uid %u  %.*s\n", id, outcome, when, (unsigned) uid,
                       (int) strcspn(summary, "\n"), summary);
                print_indented(report);
        }
        if (r < 0) {
                json_decref(list);
                return cli_error("cannot read the daemon's answer: %s", strerror(-r));
        }
        if (json) {
                _cleanup_free_ char *text = json_dumps(list, JSON_INDENT(2));
                json_decref(list);
                if (!text)
                        return cli_error("out of memory");
                puts(text);
        }
        return EXIT_OK;
}

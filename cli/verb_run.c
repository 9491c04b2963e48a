/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_run.c — fwguard run -- COMMAND, fwguard ufw ARGS: a firewall tool's change as a guarded trial
 *
 * The command runs here, in the sandbox of lib/sandbox.h (sandbox_run()),
 * with our own credentials (root), against a copy of the live ruleset; the
 * daemon never runs it. What it left (the ruleset S1, the allow-listed
 * files and the network sysctls of lib/netsysctl.h it changed) goes to fwguardd's Run method (lib/runfiles.h) with the
 * seed it started from, and becomes one trial like `apply`. A command that
 * fails, or that changes nothing, leaves no trial.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "batch.h"
#include "bus.h"
#include "cli.h"
#include "fileio.h"
#include "config.h"
#include "diff.h"
#include "runfiles.h"
#include "ruleset.h"
#include "sandbox.h"
#include "snapshot.h"
#include "trial.h"

typedef struct RunArgs {
        const char *runtime_dir;
        const char *config;
        uint64_t timeout;
        uint64_t flags;
        bool wait, json;
} RunArgs;

static int print_json(json_t *o) {
        _cleanup_free_ char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

        json_decref(o);
        if (!text)
                return cli_error("out of memory");
        puts(text);
        return EXIT_OK;
}

/* A sealed memfd holding @rs as a snapshot (with its genid). */
static int snapshot_fd(const Ruleset *rs, int *ret) {
        _cleanup_close_ int fd = memfd_create("fwguard-run-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        struct timespec ts;
        int r;

        if (fd < 0)
                return negative_errno();
        clock_gettime(CLOCK_REALTIME, &ts);
        r = snapshot_write(fd, rs, (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000);
        if (r < 0)
                return r;
        r = fileio_seal(fd);
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

/* The command line, for messages: "ufw --force enable". */
static char *command_line(char **cmd) {
        size_t len = 1;
        char *s;

        for (char **a = cmd; *a; a++)
                len += strlen(*a) + 1;
        s = calloc(1, len);
        for (char **a = cmd; s && *a; a++) {
                if (a != cmd)
                        strcat(s, " ");
                strcat(s, *a);
        }
        return s;
}

static int call_run(const RunArgs *a, const char *what, const Ruleset *s0, const SandboxRunResult *res) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_close_ int seed = -1, result = -1, null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        json_t *extra;
        Watch w = {};
        int r;

        if (null < 0)
                return cli_error("/dev/null: %m");
        r = snapshot_fd(s0, &seed);
        if (r >= 0)
                r = snapshot_fd(res->s1, &result);
        if (r < 0)
                return cli_error("run: cannot write the snapshots: %s", strerror(-r));
        r = cli_bus_open(cli_runtime_dir(a->runtime_dir), &bus);
        if (r == EXIT_OK)
                r = cli_trial_watch_signals(bus, &w);
        if (r != EXIT_OK)
                return r;
        r = cli_bus_new_call(bus, "Run", &call);
        if (r >= 0)
                r = sd_bus_message_append(call, "hh", seed, result);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', RUN_FILE_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < res->n_files; i++) {
                const RunFile *f = &res->files[i];

                r = sd_bus_message_append(call, RUN_FILE_SIGNATURE, f->path, f->deleted ? null : f->fd,
                                          (uint32_t) (f->deleted ? RUN_FILE_DELETED : f->mode));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', RUN_SYSCTL_SIGNATURE);
        for (size_t i = 0; r >= 0 && i < res->n_sysctls; i++)
                r = sd_bus_message_append(call, RUN_SYSCTL_SIGNATURE, res->sysctls[i].name, res->sysctls[i].value);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_append(call, "tt", a->timeout, a->flags);
        if (r < 0)
                return cli_error("run: %s", strerror(-r));
        r = cli_bus_call_message(bus, "run", call, &reply);
        if (r != EXIT_OK || !reply)
                return r;
        extra = json_pack("{s:i}", "tool_exit_code", res->exit_code);
        r = cli_trial_armed(bus, what, reply, a->json, extra, a->wait, &w);
        json_decref(extra);
        return r;
}

static int run_command(char **cmd, const RunArgs *a) {
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL;
        _cleanup_free_ char *errors = NULL, *what = command_line(cmd);
        SandboxRunResult res = {};
        TableRef *refs = NULL;
        const char *tool = strrchr(cmd[0], '/') ? strrchr(cmd[0], '/') + 1 : cmd[0];
        size_t n_refs = 0;
        uint64_t pending;
        int r;

        if (!what)
                return cli_error("out of memory");
        if (geteuid() != 0) {
                fprintf(stderr, "fwguard: run: refused: only root may run a firewall tool through fwguard "
                                "(the tool runs with root's powers in the sandbox); nothing was changed\n");
                return EXIT_REFUSED;
        }
        /* Refused before the tool runs, so that its output cannot suggest
         * that something happened. */
        pending = cli_bus_pending(cli_runtime_dir(a->runtime_dir));
        if (pending > 0) {
                fprintf(stderr, "fwguard: run: refused: trial %" PRIu64 " is pending: confirm it from a NEW ssh "
                                "login (`fwguard confirm`), or roll it back now (`fwguard rollback`); %s was "
                                "not run\n", pending, tool);
                return EXIT_REFUSED;
        }
        r = cli_read_live(a->config, &cfg, &s0);
        if (r != EXIT_OK)
                return r;

        SandboxRunRequest req = {
                .argv = cmd, .seed = s0,
                .overlay_dirs = cfg->run_overlay_dirs.items, .n_overlay_dirs = cfg->run_overlay_dirs.n,
                .private_files = cfg->run_private_files.items, .n_private_files = cfg->run_private_files.n,
                .in_fd = STDIN_FILENO,
                /* With --json, stdout carries only the JSON answer. */
                .out_fd = a->json ? STDERR_FILENO : STDOUT_FILENO,
        };
        /* The command's output goes to ours as it comes: ours must not overtake it. */
        fflush(stdout);
        r = sandbox_run(&req, &res, &errors);
        if (r < 0)
                return cli_error("run: %s", errors ? errors : strerror(-r));
        fflush(stdout);

        if (res.exit_code != 0) {
                int code = res.exit_code;

                sandbox_run_result_done(&res);
                if (a->json)
                        return print_json(json_pack("{s:s, s:i, s:b, s:n}", "command", what, "tool_exit_code",
                                                    code, "changed", 0, "trial")) ?: EXIT_ERROR;
                fprintf(stderr, "fwguard: %s exited %d; nothing was changed\n", tool, code);
                return EXIT_ERROR;
        }
        r = diff_changed_tables(s0, res.s1, 0, &refs, &n_refs);
        if (r < 0) {
                sandbox_run_result_done(&res);
                return cli_error("run: cannot compare the rulesets: %s", strerror(-r));
        }
        if (n_refs == 0 && res.n_files == 0 && res.n_sysctls == 0) {
                sandbox_run_result_done(&res);
                table_refs_free(refs, n_refs);
                if (a->json)
                        return print_json(json_pack("{s:s, s:i, s:b, s:n}", "command", what, "tool_exit_code",
                                                    0, "changed", 0, "trial"));
                /* Tests match this text; "nothing" includes the network sysctls. */
                printf("%s changed nothing (neither the ruleset nor a file); no trial.\n", tool);
                return EXIT_OK;
        }
        if (!a->json) {
                printf("%s changed:\n", tool);
                for (size_t i = 0; i < n_refs; i++)
                        printf("  table %s %s\n", family_name(refs[i].family), refs[i].name);
                for (size_t i = 0; i < res.n_files; i++)
                        if (res.files[i].deleted)
                                printf("  file %s (deleted)\n", res.files[i].path);
                        else
                                printf("  file %s (mode %04o)\n", res.files[i].path, (unsigned) res.files[i].mode);
                for (size_t i = 0; i < res.n_sysctls; i++)
                        printf("  sysctl %s = %s\n", res.sysctls[i].name, res.sysctls[i].value);
                printf("Handing the change to fwguardd as a trial...\n");
                fflush(stdout);
        }
        table_refs_free(refs, n_refs);
        r = call_run(a, what, s0, &res);
        sandbox_run_result_done(&res);
        return r;
}

static int parse_run_options(int argc, char **argv, bool is_ufw, RunArgs *a, int *ret_first) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "timeout", required_argument, NULL, 't' },
                { "wait", no_argument, NULL, 'w' },
                { "json", no_argument, NULL, 'j' },
                { "allow-delete", no_argument, NULL, 'd' },
                { "no-preflight", no_argument, NULL, 'n' },
                { "config", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        int c;

        optind = 1;
        /* "+": the first word that is no option of ours starts the command. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard run [--timeout SEC] [--wait] [--json] [--allow-delete] [--no-preflight]\n"
                               "                   [--config FILE] [--runtime-dir DIR] -- COMMAND [ARGS...]\n"
                               "       fwguard ufw ARGS...   (the same as fwguard run -- ufw ARGS...)\n");
                        return EXIT_OK;
                case 't':
                        if (cli_parse_positive(optarg, &a->timeout) < 0)
                                return cli_usage("run: --timeout takes a number of seconds ('%s')", optarg);
                        break;
                case 'w': a->wait = true; break;
                case 'j': a->json = true; break;
                case 'd': a->flags |= RUN_FLAG_ALLOW_DELETE; break;
                case 'n': a->flags |= RUN_FLAG_NO_PREFLIGHT; break;
                case 'c': a->config = optarg; break;
                case 'r': a->runtime_dir = optarg; break;
                default: return cli_usage("run: unknown option");
                }
        if (optind >= argc)
                return cli_usage(is_ufw ? "ufw: which ufw command? (fwguard ufw enable, ...)"
                                        : "run: which command? (fwguard run -- ufw enable, ...)");
        *ret_first = optind;
        return -1;
}

int verb_run(int argc, char **argv) {
        RunArgs a = {};
        int first, r;

        r = parse_run_options(argc, argv, false, &a, &first);
        if (r >= 0)
                return r;
        return run_command(argv + first, &a);
}

/* fwguard ufw [OPTIONS] ARGS: ufw's own options come after ours, so
 * `fwguard ufw --force enable` works; "--" ends ours explicitly. */
int verb_ufw(int argc, char **argv) {
        _cleanup_free_ char **cmd = NULL;
        RunArgs a = {};
        int first = 1, r;

        /* Our options only up to the first word that is not one of them. */
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];

                if (streq(s, "--")) {
                        first = i;
                        break;
                }
                if (strncmp(s, "--timeout", 9) && strncmp(s, "--config", 8) && strncmp(s, "--runtime-dir", 13) &&
                    !streq(s, "--wait") && !streq(s, "--json") && !streq(s, "--allow-delete") &&
                    !streq(s, "--no-preflight") && !streq(s, "--help") && !streq(s, "-h")) {
                        first = i;
                        break;
                }
                if (!strchr(s, '=') && (streq(s, "--timeout") || streq(s, "--config") || streq(s, "--runtime-dir")))
                        i++;
                first = i + 1;
        }
        {
                /* Parse just our part, then put "ufw" in front of the rest. */
                char **ours = calloc((size_t) first + 2, sizeof(char *));
                int end = first < argc && streq(argv[first], "--") ? first + 1 : first;

                if (!ours)
                        return cli_error("out of memory");
                for (int i = 0; i < first; i++)
                        ours[i] = argv[i];
                ours[first] = (char *) "ufw";
                r = parse_run_options(first + 1, ours, true, &a, &(int){ 0 });
                free(ours);
                if (r >= 0)
                        return r;
                cmd = calloc((size_t) (argc - end) + 2, sizeof(char *));
                if (!cmd)
                        return cli_error("out of memory");
                cmd[0] = (char *) "ufw";
                for (int i = end; i < argc; i++)
                        cmd[1 + i - end] = argv[i];
        }
        return run_command(cmd, &a);
}

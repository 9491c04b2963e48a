/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_status.c — fwguard status: the daemon's view of the pending trial
 *
 * Status is for any local user: it says whether a trial is pending and
 * when it ends, and nothing about the rules.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "cli.h"

static int print_json(const char *state, uint64_t id, uint64_t deadline, const char *summary) {
        _cleanup_free_ char *text = NULL;
        json_t *o;

        if (id == 0)
                o = json_pack("{s:s, s:n}", "state", state, "trial");
        else
                o = json_pack("{s:s, s:{s:I, s:I, s:s}}", "state", state, "trial",
                              "id", (json_int_t) id, "deadline_realtime_usec", (json_int_t) deadline,
                              "summary", summary);
        if (o)
                text = json_dumps(o, JSON_SORT_KEYS);
        json_decref(o);
        if (!text)
                return cli_error("out of memory");
        puts(text);
        return EXIT_OK;
}

static void print_text(const char *state, uint64_t id, uint64_t deadline, const char *summary) {
        char when[64];
        int64_t left;

        if (streq(state, "idle")) {
                puts("idle");
                return;
        }
        if (id == 0) {
                printf("%s: a change is being checked; no trial yet\n", state);
                return;
        }
        printf("trial %" PRIu64 ": %s\n", id, state);
        if (deadline > 0) {
                cli_format_time(deadline, when, sizeof(when));
                left = (int64_t) (deadline / 1000000) - (int64_t) time(NULL);
                printf("deadline: %s (%s%" PRId64 " s)\n", when, left >= 0 ? "in " : "passed ",
                       left >= 0 ? left : -left);
        }
        if (*summary)
                printf("%s\n", summary);
        printf("To keep it: open a NEW ssh connection and run 'fwguard confirm'. To undo it now: 'fwguard rollback'.\n");
}

int verb_status(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *runtime_dir = NULL;
        const char *state, *summary;
        uint64_t id, deadline;
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'h': printf("Usage: fwguard status [--json] [--runtime-dir DIR]\n"); return EXIT_OK;
                case 'j': json = true; break;
                case 'r': runtime_dir = optarg; break;
                default: return cli_usage("status [--json] [--runtime-dir DIR]");
                }
        if (optind < argc)
                return cli_usage("status takes no argument ('%s')", argv[optind]);
        r = cli_bus_open(cli_runtime_dir(runtime_dir), &bus);
        if (r != EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, NULL, "/org/fwguard/Manager", "org.fwguard.Manager1", "Status",
                               &error, &reply, "");
        if (r < 0)
                return cli_error("status failed: %s", error.message ? error.message : strerror(-r));
        r = sd_bus_message_read(reply, "stts", &state, &id, &deadline, &summary);
        if (r < 0)
                return cli_error("cannot read the daemon's answer: %s", strerror(-r));

        if (json)
                return print_json(state, id, deadline, summary);
        print_text(state, id, deadline, summary);
        return EXIT_OK;
}

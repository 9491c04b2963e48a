/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_status.c — fwguard status: the daemon's view of the pending trial
 *
 * The CLI is a plain client of fwguardd's private socket: no system bus is
 * involved, so this works in a namespace with a private runtime directory
 * (--runtime-dir, or FWGUARD_RUNTIME_DIR) as well as on the host. A daemon
 * that does not answer is the common mistake, so the message says how to
 * start it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "cli.h"

#define RUNTIME_DIR_DEFAULT "/run/fwguard"

static int connect_daemon(const char *runtime_dir, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *address = NULL;
        int r;

        if (asprintf(&address, "unix:path=%s/bus", runtime_dir) < 0)
                return cli_error("out of memory");
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return cli_error("fwguardd is not running (nothing listens on %s/bus).\n"
                                 "Start it with 'systemctl start fwguardd' (or run 'fwguardd').",
                                 runtime_dir);
        if (r < 0)
                return cli_error("cannot reach fwguardd at %s/bus: %s", runtime_dir, strerror(-r));
        *ret = TAKE_PTR(bus);
        return EXIT_OK;
}

/* The deadline as local time, for people; scripts read the number. */
static void format_deadline(uint64_t usec, char *buf, size_t len) {
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&sec, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, len, "@%" PRIu64, usec / 1000000);
}

static int print_json(const char *state, uint64_t id, uint64_t deadline, const char *summary) {
        _cleanup_free_ char *text = NULL;
        json_t *o;

        if (streq(state, "idle"))
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
        printf("trial %" PRIu64 ": %s\n", id, state);
        if (deadline > 0) {
                format_deadline(deadline, when, sizeof(when));
                left = (int64_t) (deadline / 1000000) - (int64_t) time(NULL);
                printf("deadline: %s (%s%" PRId64 " s)\n", when, left >= 0 ? "in " : "passed ",
                       left >= 0 ? left : -left);
        }
        if (*summary)
                printf("%s\n", summary);
}

int verb_status(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *runtime_dir = getenv("FWGUARD_RUNTIME_DIR");
        const char *state, *summary;
        uint64_t id, deadline;
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'j': json = true; break;
                case 'r': runtime_dir = optarg; break;
                default: return cli_usage("status [--json] [--runtime-dir DIR]");
                }
        if (optind < argc)
                return cli_usage("status takes no argument ('%s')", argv[optind]);
        if (!runtime_dir || !*runtime_dir)
                runtime_dir = RUNTIME_DIR_DEFAULT;

        r = connect_daemon(runtime_dir, &bus);
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

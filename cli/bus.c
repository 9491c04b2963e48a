/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bus.c — the CLI's side of fwguardd's private bus
 *
 * The CLI is a plain client of the daemon's own socket: no system bus is
 * involved, so it works in a namespace with a private runtime directory as
 * well as on the host. A daemon that does not answer is the common mistake,
 * so the message says how to start it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "bus.h"
#include "cli.h"

/* A pre-flight runs the sandbox twice or more: minutes would be absurd, but
 * the daemon's own limits decide, not this. */
#define CALL_TIMEOUT_USEC (10ULL * 60 * 1000 * 1000)

/* How long Status may take when the caller does not say: sd-bus's own
 * default for a method call. */
#define STATUS_TIMEOUT_DEFAULT_USEC (25ULL * 1000 * 1000)

static char last_error[128];
static char last_message[2048];
static bool quiet;

void cli_bus_set_quiet(bool q) {
        quiet = q;
}

const char *cli_bus_last_message(void) {
        return last_message;
}

const char *cli_runtime_dir(const char *opt) {
        const char *e = getenv("FWGUARD_RUNTIME_DIR");

        if (opt && *opt)
                return opt;
        return e && *e ? e : CLI_RUNTIME_DIR_DEFAULT;
}

/* A connection to the daemon's socket, or a negative errno. */
static int connect_bus(const char *runtime_dir) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return negative_errno();
        if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus", runtime_dir) >= (int) sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

bool cli_bus_daemon_runs(const char *runtime_dir) {
        _cleanup_close_ int fd = connect_bus(runtime_dir);

        return fd >= 0;
}

pid_t cli_bus_listener_pid(const char *runtime_dir) {
        _cleanup_close_ int fd = connect_bus(runtime_dir);
        struct ucred cred = {};
        socklen_t len = sizeof(cred);

        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return 0;
        return cred.pid;
}

int cli_bus_open(const char *runtime_dir, sd_bus **ret) {
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

static int exit_code_of(const char *name) {
        static const struct {
                const char *name;
                int code;
        } map[] = {
                { "org.fwguard.Error.Refused", EXIT_REFUSED },
                { "org.fwguard.Error.WouldDelete", EXIT_REFUSED },
                { "org.freedesktop.DBus.Error.AccessDenied", EXIT_REFUSED },
                { "org.fwguard.Error.NoChange", EXIT_OK },
        };

        for (size_t i = 0; name && i < ELEMENTSOF(map); i++)
                if (streq(name, map[i].name))
                        return map[i].code;
        return EXIT_ERROR;
}

const char *cli_bus_last_error(void) {
        return last_error[0] ? last_error : NULL;
}

int cli_bus_new_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, NULL, "/org/fwguard/Manager", "org.fwguard.Manager1",
                                              member);
}

int cli_bus_call_message(sd_bus *bus, const char *what, sd_bus_message *call, sd_bus_message **reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, code;

        last_error[0] = 0;
        last_message[0] = 0;
        r = sd_bus_call(bus, call, CALL_TIMEOUT_USEC, &error, reply);
        if (r >= 0)
                return EXIT_OK;
        if (!sd_bus_error_is_set(&error))
                return cli_error("%s: fwguardd did not answer: %s", what, strerror(-r));
        snprintf(last_error, sizeof(last_error), "%s", error.name);
        snprintf(last_message, sizeof(last_message), "%s", error.message ?: "");
        code = exit_code_of(error.name);
        if (quiet)
                return code;
        if (code == EXIT_OK)
                printf("%s\n", error.message ?: "");
        else
                fprintf(stderr, "fwguard: %s: %s\n", what, error.message ?: error.name);
        return code;
}

int cli_bus_call(sd_bus *bus, const char *what, const char *member, sd_bus_message **reply,
                 const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        va_list ap;
        int r;

        last_error[0] = 0;
        last_message[0] = 0;
        r = cli_bus_new_call(bus, member, &call);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(call, types, ap);
                va_end(ap);
        }
        if (r < 0)
                return cli_error("%s: %s", what, strerror(-r));
        return cli_bus_call_message(bus, what, call, reply);
}

void cli_format_time(uint64_t usec, char *buf, size_t len) {
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&sec, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, len, "@%llu", (unsigned long long) (usec / 1000000));
}

int cli_bus_report(const char *runtime_dir, const char *member, const char *path, bool json) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_close_ int fd = cli_open_input(path);
        const char *report;
        int32_t code;
        int r;

        if (fd < 0)
                return cli_error("%s: %s", path, strerror(-fd));
        r = cli_bus_open(runtime_dir, &bus);
        if (r == EXIT_OK)
                r = cli_bus_call(bus, member, member, &reply, "hsb", fd, path, (int) json);
        if (r != EXIT_OK)
                return r;
        if (sd_bus_message_read(reply, "is", &code, &report) < 0)
                return cli_error("cannot read the daemon's answer");
        fputs(report, stdout);
        return code;
}

static int on_status_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        sd_bus_message **reply = userdata;

        *reply = sd_bus_message_ref(m);
        return 0;
}

int cli_bus_status(const char *runtime_dir, uint64_t timeout_usec, CliStatus *ret) {
        /* Not flushed: that waits for the authentication, too. */
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ char *address = NULL;
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + (timeout_usec ?: STATUS_TIMEOUT_DEFAULT_USEC);
        CliStatus st = {};
        int r;

        if (asprintf(&address, "unix:path=%s/bus", runtime_dir) < 0)
                return -ENOMEM;
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, &slot, NULL, "/org/fwguard/Manager", "org.fwguard.Manager1",
                                             "Status", on_status_reply, &st.reply, "");
        /* Our own loop and deadline: sd-bus waits up to 90 s for the
         * authentication of a connection, which a stopped daemon never
         * answers, and its method call timeout starts only after it. */
        while (r >= 0 && !st.reply) {
                uint64_t now;

                r = sd_bus_process(bus, NULL);
                if (r != 0)
                        continue;       /* more to process, or an error */
                now = now_usec(CLOCK_MONOTONIC);
                r = now >= deadline ? -ETIMEDOUT : sd_bus_wait(bus, deadline - now);
        }
        if (r >= 0 && sd_bus_message_is_method_error(st.reply, NULL))
                r = sd_bus_message_get_errno(st.reply) ?: -EIO;
        if (r >= 0)
                r = sd_bus_message_read(st.reply, "stts", &st.state, &st.id, &st.deadline_realtime_usec,
                                        &st.summary);
        if (r < 0) {
                sd_bus_message_unref(st.reply);
                return r;
        }
        *ret = st;
        return 0;
}

uint64_t cli_bus_pending(const char *runtime_dir) {
        _cleanup_(cli_status_done) CliStatus st = {};

        if (!cli_bus_daemon_runs(runtime_dir) || cli_bus_status(runtime_dir, 0, &st) < 0)
                return 0;
        return streq(st.state, "idle") ? 0 : st.id ?: 1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-systemd.c — test helper: a system bus where "systemd" records what it is asked
 *
 * Usage: fake-systemd SOCKET LOG. Listens on the unix socket SOCKET, for
 * fwguardd started with DBUS_SYSTEM_BUS_ADDRESS=unix:path=SOCKET, and
 * answers each connection as the bus daemon and systemd would (Hello, then
 * org.freedesktop.systemd1.Manager):
 *   StartTransientUnit  the unit is loaded from then on; UnitExists if it is
 *                       already (as systemd refuses a second one)
 *   StopUnit            unloads it (a real timer is gone once stopped);
 *                       NoSuchUnit if it is not loaded
 *   ListUnitsByPatterns the loaded units whose names match (fnmatch)
 *   GetUnit             NoSuchUnit (fwguard asks for ssh.socket)
 * Anything else is UnknownMethod. No timer ever fires: the tests run the
 * service's command themselves. LOG gets one JSON line per event:
 * {"event":"connect"} for each connection, and for each call
 * {"event":"call","member":M,"args":[...]} (tests/lib/busjson.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "tests/lib/busjson.h"

#define UNITS_MAX 64

static FILE *log_file;
static char *loaded[UNITS_MAX];
static unsigned jobs;

static void log_event(json_t *event) {
        char *line = json_dumps(event, JSON_COMPACT);

        if (line) {
                fprintf(log_file, "%s\n", line);
                fflush(log_file);
        }
        free(line);
        json_decref(event);
}

static int unit_index(const char *name) {
        for (int i = 0; i < UNITS_MAX; i++)
                if (streq_ptr(loaded[i], name))
                        return i;
        return -1;
}

static int reply_job(sd_bus_message *m) {
        char path[64];

        snprintf(path, sizeof(path), "/org/freedesktop/systemd1/job/%u", ++jobs);
        return sd_bus_reply_method_return(m, "o", path);
}

static int start_transient(sd_bus_message *m) {
        const char *name;
        int free_slot;

        if (sd_bus_message_read(m, "s", &name) < 0)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "no unit name");
        if (unit_index(name) >= 0)
                return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.UnitExists",
                                                  "Unit %s was already loaded or has a fragment file.", name);
        free_slot = unit_index(NULL);
        if (free_slot < 0)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many units");
        loaded[free_slot] = strdup(name);
        return reply_job(m);
}

static int stop_unit(sd_bus_message *m) {
        const char *name;
        int i;

        if (sd_bus_message_read(m, "s", &name) < 0)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "no unit name");
        i = unit_index(name);
        if (i < 0)
                return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
        free(loaded[i]);
        loaded[i] = NULL;
        return reply_job(m);
}

static int list_units(sd_bus_message *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *pattern;
        char **patterns = NULL;
        int r;

        r = sd_bus_message_skip(m, "as");
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &patterns);
        if (r >= 0)
                r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
        for (int i = 0; r >= 0 && i < UNITS_MAX; i++) {
                bool match = false;

                for (char **p = patterns; loaded[i] && p && (pattern = *p); p++)
                        match = match || fnmatch(pattern, loaded[i], 0) == 0;
                if (match)
                        r = sd_bus_message_append(reply, "(ssssssouso)", loaded[i], "", "loaded", "active",
                                                  "waiting", "", "/org/freedesktop/systemd1/unit/x", 0, "", "/");
        }
        for (char **p = patterns; p && *p; p++)
                free(*p);
        free(patterns);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *member = sd_bus_message_get_member(m);
        json_t *args;

        uint8_t type = 0;

        if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return 0;
        if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "Hello") > 0)
                return sd_bus_reply_method_return(m, "s", ":1.42"), 1;
        args = busjson_read(m);
        log_event(json_pack("{s:s, s:s, s:o}", "event", "call", "member", member ?: "", "args", args ?: json_null()));
        (void) sd_bus_message_rewind(m, true);
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "StartTransientUnit") > 0)
                return start_transient(m), 1;
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "StopUnit") > 0)
                return stop_unit(m), 1;
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "ListUnitsByPatterns") > 0)
                return list_units(m), 1;
        if (sd_bus_message_is_method_call(m, "org.freedesktop.systemd1.Manager", "GetUnit") > 0)
                return sd_bus_reply_method_errorf(m, "org.freedesktop.systemd1.NoSuchUnit", "no such unit"), 1;
        return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD, "fake-systemd: no %s", member), 1;
}

static int on_disconnect(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        sd_bus_close_unref(userdata);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        sd_id128_t id = SD_ID128_MAKE(6b,2e,7d,0c,5a,91,4f,2d,8e,33,10,c4,77,19,ab,01);
        sd_bus *bus = NULL;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        log_event(json_pack("{ss}", "event", "connect"));
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, cfd, cfd);
        if (r >= 0)
                r = sd_bus_set_server(bus, 1, id);
        if (r >= 0)
                r = sd_bus_add_filter(bus, NULL, on_message, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                        "Disconnected", on_disconnect, bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, sd_event_source_get_event(s), 0);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "fake-systemd: cannot serve a connection: %s\n", strerror(-r));
                sd_bus_close_unref(bus);
        }
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: fake-systemd SOCKET LOG\n");
                return 2;
        }
        log_file = fopen(argv[2], "ae");
        if (!log_file) {
                fprintf(stderr, "fake-systemd: %s: %m\n", argv[2]);
                return 1;
        }
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
                fprintf(stderr, "fake-systemd: %s: %m\n", argv[1]);
                return 1;
        }
        if (sd_event_default(&event) < 0 || sd_event_add_io(event, NULL, fd, EPOLLIN, on_accept, NULL) < 0 ||
            sd_event_loop(event) < 0)
                return 1;
        return 0;
}

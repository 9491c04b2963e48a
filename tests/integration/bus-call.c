/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bus-call.c — test helper: call a method of fwguardd's bus, fds included
 *
 * Usage: bus-call SOCKET MEMBER [SIGNATURE ARG...]. busctl (systemd 252)
 * cannot pass a file descriptor, and Apply, Check and Diff take one: for an
 * 'h' the ARG is a path that this helper opens read-only with its own
 * permissions, as the CLI does. Other types: s, b (true/false), u, t.
 * The answer's top-level basic fields are printed one per line; an error
 * prints "NAME: message" on stderr and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "macro.h"

static int append(sd_bus_message *m, char type, const char *arg) {
        switch (type) {
        case 'h': {
                _cleanup_close_ int fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOCTTY);

                if (fd < 0) {
                        fprintf(stderr, "bus-call: %s: %m\n", arg);
                        return -errno;
                }
                return sd_bus_message_append_basic(m, 'h', &fd);
        }
        case 's':
                return sd_bus_message_append_basic(m, 's', arg);
        case 'b': {
                int b = streq(arg, "true");
                return sd_bus_message_append_basic(m, 'b', &b);
        }
        case 'u': {
                uint32_t u = (uint32_t) strtoul(arg, NULL, 10);
                return sd_bus_message_append_basic(m, 'u', &u);
        }
        case 't': {
                uint64_t t = strtoull(arg, NULL, 10);
                return sd_bus_message_append_basic(m, 't', &t);
        }
        }
        return -EINVAL;
}

static void print_reply(sd_bus_message *reply) {
        const char *contents;
        char type;

        while (sd_bus_message_peek_type(reply, &type, &contents) > 0) {
                union { int32_t i; uint32_t u; uint64_t t; int b; const char *s; } v;

                switch (type) {
                case 'i': (void) sd_bus_message_read_basic(reply, type, &v.i); printf("%" PRIi32 "\n", v.i); break;
                case 'u': (void) sd_bus_message_read_basic(reply, type, &v.u); printf("%" PRIu32 "\n", v.u); break;
                case 't': (void) sd_bus_message_read_basic(reply, type, &v.t); printf("%" PRIu64 "\n", v.t); break;
                case 'b': (void) sd_bus_message_read_basic(reply, type, &v.b); printf("%s\n", v.b ? "true" : "false"); break;
                case 's':
                        /* A report ends with its own newline. */
                        (void) sd_bus_message_read_basic(reply, type, &v.s);
                        printf("%s%s", v.s, *v.s && v.s[strlen(v.s) - 1] == '\n' ? "" : "\n");
                        break;
                default:
                        printf("(%c%s)\n", type, contents ?: "");
                        if (sd_bus_message_skip(reply, NULL) < 0)
                                return;
                }
        }
}

int main(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *address = NULL;
        const char *sig = argc > 3 ? argv[3] : "";
        int r;

        if (argc < 3 || (int) strlen(sig) != argc - 4 + (argc == 3)) {
                fprintf(stderr, "usage: bus-call SOCKET MEMBER [SIGNATURE ARG...]\n");
                return 2;
        }
        if (asprintf(&address, "unix:path=%s", argv[1]) < 0)
                return 1;
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &call, NULL, "/org/fwguard/Manager",
                                                   getenv("BUS_CALL_NO_INTERFACE") ? NULL : "org.fwguard.Manager1",
                                                   argv[2]);
        for (size_t i = 0; r >= 0 && sig[i]; i++)
                r = append(call, sig[i], argv[4 + i]);
        if (r < 0) {
                fprintf(stderr, "bus-call: %s\n", strerror(-r));
                return 1;
        }
        r = sd_bus_call(bus, call, 60 * 1000 * 1000, &error, &reply);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", error.name ?: "(no error name)", error.message ?: strerror(-r));
                return 1;
        }
        print_reply(reply);
        return 0;
}

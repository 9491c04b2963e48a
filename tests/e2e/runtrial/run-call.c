/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run-call.c — test helper: call fwguardd's Run, as `fwguard run` will
 *
 * Usage: run-call SOCKET SEED RESULT TIMEOUT FLAGS [PATH MODE CONTENT]...
 * SEED and RESULT are snapshot files (`fwguard save`); each file is given
 * by its path, its mode in octal (0: the file is to be deleted, CONTENT is
 * then ignored) and a file holding its new content, which is copied into
 * a memfd as the CLI's sandbox would hand it over.
 * Network sysctls come from the environment: RUN_CALL_SYSCTLS="NAME=VALUE ..."
 * (e.g. "net/ipv4/ip_forward=1"); none without it.
 * On success it prints the trial id, the deadline (realtime usec), the
 * changes and the warnings, one per line. On an error it prints
 * "NAME: message" on stderr and exits as the CLI would: 3 for a refusal
 * (Refused, WouldDelete, AccessDenied), 0 for NoChange, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "fileio.h"
#include "macro.h"

static int memfd_of(const char *path) {
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        int fd;

        if (in < 0)
                return -errno;
        fd = memfd_create("run-call", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fileio_copy(in, fd) < 0) {
                close(fd);
                return -EIO;
        }
        return fd;
}

int main(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *address = NULL;
        _cleanup_close_ int seed = -1, result = -1;
        const char *changes;
        uint64_t id, deadline;
        char **warnings = NULL;
        int r;

        if (argc < 6 || (argc - 6) % 3 != 0) {
                fprintf(stderr, "usage: run-call SOCKET SEED RESULT TIMEOUT FLAGS [PATH MODE CONTENT]...\n");
                return 2;
        }
        seed = open(argv[2], O_RDONLY | O_CLOEXEC);
        result = open(argv[3], O_RDONLY | O_CLOEXEC);
        if (seed < 0 || result < 0) {
                fprintf(stderr, "run-call: cannot open the snapshots: %m\n");
                return 1;
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
                                                   "org.fwguard.Manager1", "Run");
        if (r >= 0)
                r = sd_bus_message_append(call, "hh", seed, result);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "(shu)");
        for (int i = 6; r >= 0 && i < argc; i += 3) {
                uint32_t mode = (uint32_t) strtoul(argv[i + 1], NULL, 8);
                _cleanup_close_ int fd = mode ? memfd_of(argv[i + 2]) : memfd_create("none", MFD_CLOEXEC);

                if (fd < 0) {
                        fprintf(stderr, "run-call: %s: %s\n", argv[i + 2], strerror(-fd));
                        return 1;
                }
                r = sd_bus_message_append(call, "(shu)", argv[i], fd, mode);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "(ss)");
        if (r >= 0 && getenv("RUN_CALL_SYSCTLS")) {
                _cleanup_free_ char *list = strdup(getenv("RUN_CALL_SYSCTLS"));
                char *save = NULL;

                if (!list)
                        return 1;
                for (char *w = strtok_r(list, " ", &save); r >= 0 && w; w = strtok_r(NULL, " ", &save)) {
                        char *eq = strchr(w, '=');

                        if (!eq) {
                                fprintf(stderr, "run-call: RUN_CALL_SYSCTLS: %s is not NAME=VALUE\n", w);
                                return 2;
                        }
                        *eq = '\0';
                        r = sd_bus_message_append(call, "(ss)", w, eq + 1);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_append(call, "tt", strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
        if (r < 0) {
                fprintf(stderr, "run-call: %s\n", strerror(-r));
                return 1;
        }
        r = sd_bus_call(bus, call, 120 * 1000 * 1000, &error, &reply);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", error.name ?: "(no error name)", error.message ?: strerror(-r));
                if (sd_bus_error_has_names(&error, "org.fwguard.Error.Refused", "org.fwguard.Error.WouldDelete",
                                           SD_BUS_ERROR_ACCESS_DENIED))
                        return 3;
                return sd_bus_error_has_name(&error, "org.fwguard.Error.NoChange") ? 0 : 1;
        }
        r = sd_bus_message_read(reply, "tts", &id, &deadline, &changes);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &warnings);
        if (r < 0) {
                fprintf(stderr, "run-call: bad reply: %s\n", strerror(-r));
                return 1;
        }
        printf("%" PRIu64 "\n%" PRIu64 "\n%s%s", id, deadline, changes,
               *changes && changes[strlen(changes) - 1] == '\n' ? "" : "\n");
        for (char **w = warnings; w && *w; w++) {
                printf("warning: %s\n", *w);
                free(*w);
        }
        free(warnings);
        return 0;
}

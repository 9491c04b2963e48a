/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwguard-sandbox-spawner.c — the sandbox service: one fwguard-sandbox child per connection
 *
 * Started by systemd for each connection to fwguard-sandbox.socket
 * (Accept=yes: the connection is fd 3), never by a user. It holds the
 * privileges that the child needs and fwguardd does not have; all it does
 * is sandbox_child_serve() (lib/sandbox-child.h). What goes wrong goes to
 * stderr, the journal.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "sandbox-child.h"

int main(int argc, char **argv) {
        char err[512] = "";

        /* true: LISTEN_FDS and LISTEN_PID are ours, not the child's. */
        if (argc > 1 || sd_listen_fds(true) != 1 ||
            sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 0, NULL, 0) <= 0) {
                fprintf(stderr, "fwguard-sandbox-spawner is started by systemd for a connection to "
                                "fwguard-sandbox.socket; it is not a command.\n");
                return EXIT_FAILURE;
        }
        if (sandbox_child_serve(SD_LISTEN_FDS_START, err, sizeof(err)) < 0) {
                fprintf(stderr, "fwguard-sandbox-spawner: %s\n", err);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

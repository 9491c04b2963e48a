/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ports-discover.c — print what ports_discover() finds, for ports.sh.
 *
 *   ports-discover [--sshd PATH] [--sshd-config FILE] [--no-sshd-t]
 *                  [--no-systemd] [--port N]...
 *
 * prints "PORT<TAB>SOURCES" per port, then "note: ..." per note. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ports.h"

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "sshd",        required_argument, NULL, 's' },
                { "sshd-config", required_argument, NULL, 'f' },
                { "no-sshd-t",   no_argument,       NULL, 'T' },
                { "no-systemd",  no_argument,       NULL, 'S' },
                { "port",        required_argument, NULL, 'p' },
                {}
        };
        _cleanup_free_ SshPort *ports = NULL;
        uint16_t config_ports[16];
        PortsOptions opt = { .config_ports = config_ports };
        char notes[4096], names[256];
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': opt.sshd_path = optarg; break;
                case 'f': opt.sshd_config = optarg; break;
                case 'T': opt.skip_sshd_t = true; break;
                case 'S': opt.skip_socket_unit = true; break;
                case 'p':
                        if (opt.n_config_ports == ELEMENTSOF(config_ports))
                                return 2;
                        config_ports[opt.n_config_ports++] = (uint16_t) atoi(optarg);
                        break;
                default:
                        return 2;
                }

        r = ports_discover(&opt, &ports, &n, notes, sizeof(notes));
        if (r < 0) {
                fprintf(stderr, "ports_discover: %s\n", strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < n; i++)
                printf("%u\t%s\n", ports[i].port, ports_source_names(&ports[i], names, sizeof(names)));
        for (char *line = strtok(notes, "\n"); line; line = strtok(NULL, "\n"))
                printf("note: %s\n", line);
        return 0;
}

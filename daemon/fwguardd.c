/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwguardd.c — the fwguard daemon: arguments, then the Manager
 *
 * main() only calls run(): everything the daemon does lives in the Manager
 * (manager.c), so that this file stays the place that says how it starts.
 * The directories are options so that tests run a daemon inside a network
 * namespace with private directories; the daemon acts on the namespace it
 * runs in and never on another. So is the sandbox service: the unit
 * (units/fwguardd.service) sets it, tests and the demo fork the sandbox.
 */
#include <getopt.h>
#include <stdio.h>

#include "manager.h"
#include "sandbox.h"

#define RUNTIME_DIR_DEFAULT "/run/fwguard"

static void help(FILE *f) {
        fprintf(f, "Usage: fwguardd [--state-dir DIR] [--runtime-dir DIR] [--config FILE]\n"
                   "                [--sandbox-socket PATH]\n\n"
                   "  --state-dir DIR    trial records and history (default: the config's\n"
                   "                     [daemon] state_dir, /var/lib/fwguard)\n"
                   "  --runtime-dir DIR  where the bus socket listens (" RUNTIME_DIR_DEFAULT "),\n"
                   "                     unless systemd passes it\n"
                   "  --config FILE      settings (" CONFIG_PATH_DEFAULT ")\n"
                   "  --sandbox-socket PATH\n"
                   "                     run the sandbox through the sandbox service listening\n"
                   "                     at PATH (default: fork it)\n"
                   "  -h, --help         this help\n      --version      the version\n"
                   "\nSee fwguardd(8).\n");
}

static int run(int argc, char **argv) {
        static const struct option options[] = {
                { "state-dir", required_argument, NULL, 's' },
                { "runtime-dir", required_argument, NULL, 'r' },
                { "config", required_argument, NULL, 'c' },
                { "sandbox-socket", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *state_dir = NULL, *runtime_dir = RUNTIME_DIR_DEFAULT;
        const char *config_path = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 's': state_dir = optarg; break;
                case 'r': runtime_dir = optarg; break;
                case 'c': config_path = optarg; break;
                case 'S': sandbox_set_service(optarg); break;
                case 'h': help(stdout); return 0;
                case 'V': printf("fwguardd %s\n", PACKAGE_VERSION); return 0;
                default: help(stderr); return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "fwguardd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        r = manager_new(state_dir, runtime_dir, config_path, &m);
        if (r < 0)
                return 1;
        r = manager_start(m);
        if (r < 0)
                return 1;
        return manager_run(m) < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        return run(argc, argv);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_diff.c — fwguard diff: what applying FILE would change, as nft text */
#include <getopt.h>
#include <stdio.h>

#include <unistd.h>

#include "bus.h"
#include "change.h"
#include "cli.h"
#include "config.h"

int verb_diff(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "config", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        const char *config_path = NULL, *runtime_dir = NULL;
        char err[512] = "";
        bool json = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard diff FILE [--json] [--config FILE] [--runtime-dir DIR]\n");
                        return EXIT_OK;
                case 'j': json = true; break;
                case 'c': config_path = optarg; break;
                case 'r': runtime_dir = optarg; break;
                default:
                        return cli_usage("diff: unknown option");
                }
        if (argc - optind != 1)
                return cli_usage("diff takes one FILE (or - for stdin)");
        /* As for check: an administrator who is not root asks the daemon. */
        if (geteuid() != 0 && !config_path && cli_bus_daemon_runs(cli_runtime_dir(runtime_dir)))
                return cli_bus_report(cli_runtime_dir(runtime_dir), "Diff", argv[optind], json);

        r = cli_read_live(config_path, &cfg, &s0);
        if (r != EXIT_OK)
                return r;
        r = cli_load_change(argv[optind], s0, cfg, &s1);
        if (r != EXIT_OK)
                return r;
        r = change_report_diff(stdout, stderr, argv[optind], s0, s1, json, err, sizeof(err));
        return r < 0 ? cli_error("%s", err) : EXIT_OK;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_check.c — fwguard check: would this change lock SSH out? */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "change.h"
#include "bus.h"
#include "cli.h"
#include "config.h"
#include "fileio.h"
#include "nl.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

int cli_load_change(const char *path, const Ruleset *s0, const Config *cfg, Ruleset **ret) {
        _cleanup_close_ int fd = cli_open_input(path);
        _cleanup_free_ char *errors = NULL;
        gid_t groups[1024];
        int r, n_groups;

        if (fd < 0)
                return cli_error("%s: %s", path, strerror(-fd));
        n_groups = getgroups(ELEMENTSOF(groups), groups);
        if (n_groups < 0)
                return cli_error("cannot read our groups: %m");
        ChangeCaller caller = {
                .uid = getuid(), .gid = getgid(), .groups = groups, .n_groups = (size_t) n_groups,
                .pid = getpid(),
        };
        r = change_load(fd, path, s0, cfg, &caller, false, ret, &errors);
        if (r == -EINVAL) {
                fprintf(stderr, "%s", errors ? errors : "");
                return cli_error("%s does not compile; nothing was changed", path);
        }
        if (r < 0)
                return cli_error("%s: %s", path, errors ? errors : strerror(-r));
        return EXIT_OK;
}

int cli_read_live(const char *config_path, Config **ret_cfg, Ruleset **ret_s0) {
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        char err[512] = "";
        int r;

        r = config_load(config_path, &cfg, err, sizeof(err));
        if (r < 0)
                return cli_error("%s", err[0] ? err : strerror(-r));
        r = nl_open(&nl);
        if (r < 0)
                return cli_error("cannot open the nftables netlink socket: %s", strerror(-r));
        r = ruleset_dump(nl, ret_s0);
        if (r < 0)
                return cli_error("cannot read the ruleset: %s", r == -EPERM ? "run as root" : strerror(-r));
        *ret_cfg = TAKE_PTR(cfg);
        return EXIT_OK;
}

int verb_check(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "live", no_argument, NULL, 'l' },
                { "json", no_argument, NULL, 'j' },
                { "output", required_argument, NULL, 'o' },
                { "config", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        _cleanup_(change_check_freep) ChangeCheck *check = NULL;
        const char *runtime_dir = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *errors = NULL;
        const char *out = NULL, *config_path = NULL, *what;
        bool live = false, json = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard check FILE|--live [--json] [-o OUT] [--config FILE] [--runtime-dir DIR]\n");
                        return EXIT_OK;
                case 'l': live = true; break;
                case 'j': json = true; break;
                case 'o': out = optarg; break;
                case 'c': config_path = optarg; break;
                case 'r': runtime_dir = optarg; break;
                default:
                        return cli_usage("check: unknown option");
                }
        if (live == (argc - optind == 1) || argc - optind > 1)
                return cli_usage("check takes one FILE (or - for stdin), or --live");
        what = live ? "the live ruleset" : argv[optind];
        /* Only root reads the live ruleset; an administrator who is not
         * root asks the daemon, with the file opened here. */
        if (geteuid() != 0 && !live && !out && !config_path &&
            cli_bus_daemon_runs(cli_runtime_dir(runtime_dir)))
                return cli_bus_report(cli_runtime_dir(runtime_dir), "Check", argv[optind], json);

        r = cli_read_live(config_path, &cfg, &s0);
        if (r != EXIT_OK)
                return r;
        r = live ? (ruleset_copy(s0, &s1) < 0 ? cli_error("out of memory") : EXIT_OK)
                 : cli_load_change(argv[optind], s0, cfg, &s1);
        if (r != EXIT_OK)
                return r;

        r = change_check(s0, s1, cfg, getpid(), true, &check, &errors);
        if (r < 0)
                return cli_error("%s", errors ? errors : strerror(-r));
        if (out) {
                r = fileio_write_atomic(out, 0600, cli_write_snapshot, check->preflight->guarded);
                if (r < 0)
                        return cli_error("%s: %s", out, strerror(-r));
        }
        return change_report_check(stdout, what, check, json);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-tool.c — drive sandbox_compile() from sandbox.sh
 *
 *   sandbox-tool [--user NAME] [--timeout SEC] [--memory MIB] FILE|- NAME
 *
 * S0 is the live ruleset of the current network namespace. FILE ("-": stdin)
 * is opened here, as the tool's user, like the CLI opens it for its caller;
 * the sandbox reads includes as --user (default: the tool's own user).
 * On success S1 is printed as nft text; on failure the errno name goes to
 * stderr on a line "sandbox_compile: NAME", then the error text; exit 1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "nl.h"
#include "ruleset.h"
#include "sandbox.h"
#include "show.h"

#define MAX_GROUPS 1024

static int die(const char *what) {
        fprintf(stderr, "sandbox-tool: %s\n", what);
        return 2;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "user", required_argument, NULL, 'u' },
                { "timeout", required_argument, NULL, 't' },
                { "memory", required_argument, NULL, 'm' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        _cleanup_free_ char *errors = NULL;
        _cleanup_close_ int file_fd = -1;
        gid_t groups[MAX_GROUPS];
        SandboxRequest req = {};
        const char *user = NULL;
        char err[512] = "";
        Nl *nl = NULL;
        int c, n, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'u': user = optarg; break;
                case 't': req.limits.timeout_sec = (unsigned) atoi(optarg); break;
                case 'm': req.limits.memory_bytes = strtoull(optarg, NULL, 10) << 20; break;
                default: return die("bad option");
                }
        if (argc - optind != 2)
                return die("usage: sandbox-tool [--user NAME] [--timeout SEC] [--memory MIB] FILE|- NAME");

        if (user) {
                struct passwd *pw = getpwnam(user);

                n = MAX_GROUPS;
                if (!pw || getgrouplist(user, pw->pw_gid, groups, &n) < 0)
                        return die("unknown user, or too many groups");
                req.uid = pw->pw_uid;
                req.gid = pw->pw_gid;
        } else {
                n = getgroups(MAX_GROUPS, groups);
                if (n < 0)
                        return die("getgroups");
                req.uid = getuid();
                req.gid = getgid();
        }
        req.groups = groups;
        req.n_groups = (size_t) n;

        if (streq(argv[optind], "-"))
                req.rules_fd = STDIN_FILENO;
        else {
                file_fd = open(argv[optind], O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (file_fd < 0)
                        return die("cannot open FILE");
                req.rules_fd = file_fd;
        }
        req.display_name = argv[optind + 1];

        if (nl_open(&nl) < 0 || ruleset_dump(nl, &s0) < 0)
                return die("cannot read the live ruleset");
        nl_free(nl);
        req.s0 = s0;

        r = sandbox_compile(&req, &s1, &errors);
        if (r < 0) {
                fprintf(stderr, "sandbox_compile: %s\n%s\n", strerrorname_np(-r), errors ? errors : "(no text)");
                return 1;
        }
        if (errors)
                return die("errors set on success");
        fflush(stdout);
        if (show_ruleset(s1, STDOUT_FILENO, err, sizeof(err)) < 0) {
                fprintf(stderr, "sandbox-tool: cannot show S1: %s\n", err);
                return 2;
        }
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-tool.c — drive sandbox_compile() and sandbox_probe() from the tests
 *
 *   sandbox-tool [--service SOCKET] [--user NAME] [--timeout SEC] [--memory MIB] FILE|- NAME
 *   sandbox-tool probe [--service SOCKET] [--rules FILE] [--server ADDR] [--client ADDR]
 *                [--probe-timeout MS] [--timeout SEC] [--user NAME] HOST_IF [PORT...]
 *
 * S0 is the live ruleset of the current network namespace. FILE ("-": stdin)
 * is opened here, as the tool's user, like the CLI opens it for its caller;
 * the sandbox reads includes as --user (default: the tool's own user).
 * On success S1 is printed as nft text; on failure the errno name goes to
 * stderr on a line "sandbox_compile: NAME", then the error text; exit 1.
 *
 * probe: the ruleset tested is S0, or with --rules S1 compiled from S0 and
 * FILE; it is probed from --client (default 198.51.100.77) to --server
 * (default 192.0.2.1) on the ports (default 22) through the placeholder of
 * HOST_IF, as --user if given (the tool becomes that user once it has the
 * ruleset, so the sandbox starts unprivileged). Prints what probe-tool prints; exit 0 when every port is
 * reachable, 3 when one is not, 1 with "sandbox_probe: NAME" and the text
 * when sandbox_probe() fails.
 *
 * --service: the sandbox runs in the sandbox service at SOCKET
 * (sandbox_set_service()), not as our child. */
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
#include "probe-print.h"
#include "probe.h"
#include "ruleset.h"
#include "sandbox.h"
#include "show.h"

#define MAX_GROUPS 1024

static int die(const char *what) {
        fprintf(stderr, "sandbox-tool: %s\n", what);
        return 2;
}

static int report(const char *fn, int r, const char *errors) {
        fprintf(stderr, "%s: %s\n%s\n", fn, strerrorname_np(-r), errors ? errors : "(no text)");
        return 1;
}

static int live_ruleset(Ruleset **ret) {
        Nl *nl = NULL;
        int r;

        r = nl_open(&nl);
        if (r >= 0)
                r = ruleset_dump(nl, ret);
        nl_free(nl);
        return r;
}

/* Compile FILE against @s0 as @user (NULL: ourselves): 0, 1 (reported) or 2. */
static int compile(const char *file, const char *name, const char *user, const SandboxLimits *lim,
                   const Ruleset *s0, Ruleset **ret_s1) {
        _cleanup_free_ char *errors = NULL;
        _cleanup_close_ int file_fd = -1;
        gid_t groups[MAX_GROUPS];
        SandboxRequest req = { .limits = *lim, .display_name = name, .s0 = s0, .groups = groups };
        int n, r;

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
        req.n_groups = (size_t) n;

        if (streq(file, "-"))
                req.rules_fd = STDIN_FILENO;
        else {
                file_fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (file_fd < 0)
                        return die("cannot open FILE");
                req.rules_fd = file_fd;
        }
        r = sandbox_compile(&req, ret_s1, &errors);
        if (r < 0)
                return report("sandbox_compile", r, errors);
        return errors ? die("errors set on success") : 0;
}

static int compile_main(int argc, char **argv) {
        static const struct option opts[] = {
                { "user", required_argument, NULL, 'u' },
                { "timeout", required_argument, NULL, 't' },
                { "memory", required_argument, NULL, 'm' },
                { "service", required_argument, NULL, 'S' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        SandboxLimits lim = {};
        const char *user = NULL;
        char err[512] = "";
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'u': user = optarg; break;
                case 't': lim.timeout_sec = (unsigned) atoi(optarg); break;
                case 'm': lim.memory_bytes = strtoull(optarg, NULL, 10) << 20; break;
                case 'S': sandbox_set_service(optarg); break;
                default: return die("bad option");
                }
        if (argc - optind != 2)
                return die("usage: sandbox-tool [--service SOCKET] [--user NAME] [--timeout SEC] [--memory MIB] "
                           "FILE|- NAME");
        if (live_ruleset(&s0) < 0)
                return die("cannot read the live ruleset");
        r = compile(argv[optind], argv[optind + 1], user, &lim, s0, &s1);
        if (r != 0)
                return r;
        fflush(stdout);
        if (show_ruleset(s1, STDOUT_FILENO, err, sizeof(err)) < 0) {
                fprintf(stderr, "sandbox-tool: cannot show S1: %s\n", err);
                return 2;
        }
        return 0;
}

static int become(const char *user) {
        struct passwd *pw = getpwnam(user);

        if (!pw || setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                return -errno;
        return 0;
}

static int probe_main(int argc, char **argv) {
        static const struct option opts[] = {
                { "rules", required_argument, NULL, 'r' },
                { "server", required_argument, NULL, 's' },
                { "client", required_argument, NULL, 'c' },
                { "probe-timeout", required_argument, NULL, 'p' },
                { "timeout", required_argument, NULL, 't' },
                { "user", required_argument, NULL, 'u' },
                { "service", required_argument, NULL, 'S' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        _cleanup_(probe_result_free) ProbeResult res = {};
        _cleanup_free_ char *errors = NULL;
        const char *rules = NULL, *user = NULL, *server = "192.0.2.1", *client = "198.51.100.77";
        uint16_t ports[SANDBOX_PROBE_PORTS_MAX + 8];
        SandboxProbeRequest req = { .ports = ports };
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'r': rules = optarg; break;
                case 's': server = optarg; break;
                case 'c': client = optarg; break;
                case 'p': req.timeout_ms = (unsigned) strtoul(optarg, NULL, 10); break;
                case 't': req.limits.timeout_sec = (unsigned) atoi(optarg); break;
                case 'u': user = optarg; break;
                case 'S': sandbox_set_service(optarg); break;
                default: return die("bad option");
                }
        /* More ports than the sandbox takes may be given: it must refuse them. */
        if (optind >= argc || (size_t) (argc - optind - 1) > ELEMENTSOF(ports))
                return die("usage: sandbox-tool probe [--service SOCKET] [--rules FILE] [--server ADDR] [--client ADDR] "
                           "[--probe-timeout MS] [--timeout SEC] [--user NAME] HOST_IF [PORT...]");
        if (probe_addr_parse(server, &req.server) < 0 || probe_addr_parse(client, &req.client) < 0)
                return die("bad address");
        req.host_if = argv[optind];
        for (int i = optind + 1; i < argc; i++)
                ports[req.n_ports++] = (uint16_t) strtoul(argv[i], NULL, 10);
        if (req.n_ports == 0)
                ports[req.n_ports++] = 22;

        if (live_ruleset(&s0) < 0)
                return die("cannot read the live ruleset");
        if (rules) {
                r = compile(rules, rules, NULL, &req.limits, s0, &s1);
                if (r != 0)
                        return r;
        }
        req.rs = s1 ? s1 : s0;
        if (user && become(user) < 0)
                return die("cannot become --user");

        r = sandbox_probe(&req, &res, &errors);
        if (r < 0)
                return report("sandbox_probe", r, errors);
        if (errors)
                return die("errors set on success");
        return probe_print(&res) ? 0 : 3;
}

int main(int argc, char **argv) {
        if (argc > 1 && streq(argv[1], "probe"))
                return probe_main(argc - 1, argv + 1);
        return compile_main(argc, argv);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe-tool.c — run the reachability probe against an nft file, for probe.sh
 *
 *   probe-tool [-6] [-s SERVER] [-c CLIENT] [-t MS] [-S IF] [-C IF] FILE [PORT...]
 *
 * Runs in a network namespace the test created (unshare --net) that holds
 * the veth pair IF (server end, default fgs) and IF (client end, default
 * fgc). Loads FILE with libnftables, probes the ports (default 22) and
 * prints one block of "key: value" lines per port. Exit 0: every port is
 * reachable; 3: some port is not; 1: error; 2: usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <nftables/libnftables.h>

#include "macro.h"
#include "probe-print.h"
#include "probe.h"

static int load(const char *path) {
        struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
        int r;

        if (!nft)
                return -ENOMEM;
        r = nft_run_cmd_from_filename(nft, path);
        nft_ctx_free(nft);
        return r == 0 ? 0 : -EINVAL;
}

int main(int argc, char **argv) {
        _cleanup_(probe_result_free) ProbeResult res = {};
        const char *server = NULL, *client = NULL;
        uint16_t ports[PROBE_PORTS_MAX];
        char err[512] = "";
        ProbeRequest req = {
                .server_if = "fgs", .client_if = "fgc", .ports = ports,
                .err = err, .errlen = sizeof(err),
        };
        bool v6 = false;
        int c, r;

        while ((c = getopt(argc, argv, "6s:c:t:S:C:")) >= 0)
                switch (c) {
                case '6': v6 = true; break;
                case 's': server = optarg; break;
                case 'c': client = optarg; break;
                case 't': req.timeout_ms = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'S': req.server_if = optarg; break;
                case 'C': req.client_if = optarg; break;
                default: return 2;
                }
        if (optind >= argc || argc - optind - 1 > PROBE_PORTS_MAX) {
                fprintf(stderr, "usage: probe-tool [-6] [-s SERVER] [-c CLIENT] [-t MS] [-S IF] [-C IF] "
                                "FILE [PORT...]\n");
                return 2;
        }
        if (probe_addr_parse(server ? server : v6 ? "2001:db8::1" : "192.0.2.1", &req.server) < 0 ||
            probe_addr_parse(client ? client : v6 ? "2001:db8:ffff::77" : "198.51.100.77", &req.client) < 0) {
                fprintf(stderr, "bad address\n");
                return 2;
        }
        for (int i = optind + 1; i < argc; i++)
                ports[req.n_ports++] = (uint16_t) strtoul(argv[i], NULL, 10);
        if (req.n_ports == 0)
                ports[req.n_ports++] = 22;

        if (load(argv[optind]) < 0) {
                fprintf(stderr, "cannot load %s\n", argv[optind]);
                return 1;
        }
        r = probe_run(&req, &res);
        if (r < 0) {
                fprintf(stderr, "probe: %s (%s)\n", err, strerror(-r));
                return 1;
        }
        return probe_print(&res) ? 0 : 3;
}

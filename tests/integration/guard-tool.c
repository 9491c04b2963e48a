/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guard-tool.c — guard tables of a snapshot, for tests/integration/guard.sh.
 *
 *   guard-tool [-p PORT]... [-s NET]... [-c FAMILY:TABLE:CHAIN]... IN OUT [FAMILY:NAME,...]
 *
 * Reads snapshot IN (- for stdin), runs guard_table() on the named tables (all
 * tables without the argument) and guard_chain() on each -c chain, and writes
 * OUT (- for stdout) with IN's creation time, so that guarding a guarded
 * snapshot gives the same bytes. Ports default to 22. Prints "changed" or
 * "unchanged" on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libnftnl/chain.h>

#include "batch.h"
#include "guard.h"
#include "macro.h"
#include "ruleset.h"
#include "snapshot.h"

#define MAX_ITEMS 16

static int die(const char *fmt, const char *arg) {
        fprintf(stderr, "guard-tool: ");
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
        return 1;
}

static int parse_net(const char *s, GuardNet *ret) {
        _cleanup_free_ char *addr = strdup(s);
        char *slash, *end;
        GuardNet n = {};

        if (!addr)
                return -ENOMEM;
        slash = strchr(addr, '/');
        if (slash)
                *slash = '\0';
        n.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(n.family, addr, &n.addr) != 1)
                return -EINVAL;
        n.prefixlen = n.family == AF_INET ? 32 : 128;
        if (slash) {
                errno = 0;
                unsigned long len = strtoul(slash + 1, &end, 10);
                if (errno || end == slash + 1 || *end || len > n.prefixlen)
                        return -EINVAL;
                n.prefixlen = (unsigned) len;
        }
        *ret = n;
        return 0;
}

static int open_arg(const char *path, int flags) {
        if (streq(path, "-"))
                return dup(flags == O_RDONLY ? STDIN_FILENO : STDOUT_FILENO);
        return open(path, flags | O_CLOEXEC, 0644);
}

int main(int argc, char **argv) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL;
        _cleanup_close_ int in = -1, out = -1;
        uint16_t ports[MAX_ITEMS];
        GuardNet nets[MAX_ITEMS];
        const char *chains[MAX_ITEMS];
        size_t n_ports = 0, n_nets = 0, n_chains = 0;
        GuardSources src = { nets, 0 };
        SnapshotInfo info;
        char err[512] = "";
        bool changed = false;
        int c, r;

        while ((c = getopt(argc, argv, "p:s:c:")) >= 0) {
                switch (c) {
                case 'p': {
                        char *end;
                        unsigned long p = strtoul(optarg, &end, 10);
                        if (n_ports == MAX_ITEMS || *end || end == optarg || p == 0 || p > UINT16_MAX)
                                return die("bad port '%s'", optarg);
                        ports[n_ports++] = (uint16_t) p;
                        break;
                }
                case 's':
                        if (n_nets == MAX_ITEMS || parse_net(optarg, &nets[n_nets]) < 0)
                                return die("bad network '%s'", optarg);
                        n_nets++;
                        break;
                case 'c':
                        if (n_chains == MAX_ITEMS)
                                return die("too many chains at '%s'", optarg);
                        chains[n_chains++] = optarg;
                        break;
                default:
                        return die("%s", "usage: guard-tool [-p PORT]... [-s NET]... [-c FAMILY:TABLE:CHAIN]... IN OUT [FAMILY:NAME,...]");
                }
        }
        if (argc - optind < 2 || argc - optind > 3)
                return die("%s", "usage: guard-tool [-p PORT]... [-s NET]... [-c FAMILY:TABLE:CHAIN]... IN OUT [FAMILY:NAME,...]");
        if (n_ports == 0)
                ports[n_ports++] = 22;
        src.n = n_nets;

        in = open_arg(argv[optind], O_RDONLY);
        if (in < 0)
                return die("cannot open %s", argv[optind]);
        r = snapshot_read(in, &rs, &info, err, sizeof(err));
        if (r < 0)
                return die("cannot read the snapshot: %s", err);

        if (argc - optind == 3) {
                TableRef *refs = NULL;
                size_t n_refs = 0;

                r = table_refs_parse(argv[optind + 2], &refs, &n_refs, err, sizeof(err));
                if (r < 0)
                        return die("%s", err);
                for (size_t i = 0; r >= 0 && i < n_refs; i++) {
                        RsTable *t = ruleset_find_table(rs, refs[i].family, refs[i].name);
                        r = t ? guard_table(t, ports, n_ports, &src) : -ENOENT;
                        if (r < 0)
                                die("cannot guard table %s", refs[i].name);
                        changed = changed || r > 0;
                }
                table_refs_free(refs, n_refs);
                if (r < 0)
                        return 1;
        } else {
                for (size_t i = 0; i < rs->tables.n; i++) {
                        r = guard_table(ruleset_table(rs, i), ports, n_ports, &src);
                        if (r < 0)
                                return die("cannot guard table %s", ruleset_table(rs, i)->name);
                        changed = changed || r > 0;
                }
        }

        for (size_t i = 0; i < n_chains; i++) {
                _cleanup_free_ char *spec = strdup(chains[i]);
                char *table = spec ? strchr(spec, ':') : NULL;
                char *chain = table ? strchr(table + 1, ':') : NULL;
                struct nftnl_chain *ch;
                uint32_t family;
                RsTable *t;

                if (!chain)
                        return die("'%s' is not FAMILY:TABLE:CHAIN", chains[i]);
                *table++ = '\0';
                *chain++ = '\0';
                if (family_from_name(spec, &family) < 0 || !(t = ruleset_find_table(rs, family, table)) ||
                    !(ch = rstable_find_chain(t, chain)))
                        return die("no chain %s", chains[i]);
                r = guard_chain(t, ch, ports, n_ports, &src);
                if (r < 0)
                        return die("cannot guard chain %s", chains[i]);
                changed = changed || r > 0;
        }

        out = open_arg(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC);
        if (out < 0)
                return die("cannot open %s", argv[optind + 1]);
        r = snapshot_write(out, rs, info.created_usec);
        if (r < 0)
                return die("cannot write the snapshot: %s", strerror(-r));
        fprintf(stderr, "%s\n", changed ? "changed" : "unchanged");
        return 0;
}

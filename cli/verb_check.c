/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verb_check.c — fwguard check: would this change lock SSH out? */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "fileio.h"
#include "nl.h"
#include "peer.h"
#include "ports.h"
#include "preflight.h"
#include "snapshot.h"


DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

static const char *const verdict_names[] = {
        [PROBE_REACHABLE] = "reachable",
        [PROBE_BLOCKED_RULE] = "blocked-by-rule",
        [PROBE_BLOCKED_POLICY] = "blocked-by-policy",
        [PROBE_REDIRECTED] = "redirected",
        [PROBE_UNEXPLAINED] = "unexplained",
};

static const char *const packet_names[] = {
        [PROBE_PACKET_NONE] = NULL,
        [PROBE_PACKET_TCP] = "tcp",
        [PROBE_PACKET_ARP] = "arp",
        [PROBE_PACKET_ND] = "neighbour-discovery",
};

static const char *addr_str(const ProbeAddr *a, char *buf, size_t len) {
        return inet_ntop(a->family, a->family == AF_INET ? (const void *) &a->in : (const void *) &a->in6, buf, (socklen_t) len);
}

/* The input as one sealed memfd: it may be a pipe, and it is read twice
 * (its magic decides between a snapshot and nft text). */
static int input_memfd(const char *path, int *ret) {
        _cleanup_close_ int in = cli_open_input(path), fd = -1;
        int r;

        if (in < 0)
                return in;
        fd = memfd_create("fwguard-input", MFD_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = fileio_copy(in, fd);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

/* S1 for a snapshot: its tables replace the live ones of the same name;
 * tables it does not hold stay as they are. */
static int apply_snapshot(const Ruleset *s0, Ruleset *snap, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        int r = ruleset_copy(s0, &s1);

        while (r >= 0 && snap->tables.n > 0) {
                RsTable *t = ruleset_table(snap, 0), *old;

                if (t->owned) {
                        r = ruleset_drop_table(snap, t);
                        continue;
                }
                old = ruleset_find_table(s1, t->family, t->name);
                if (old && old->owned)
                        return -EPERM;
                if (old)
                        ruleset_drop_table(s1, old);
                r = ruleset_take_table(s1, snap, t);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s1);
        return 0;
}

/* Compile FILE (nft text, in the sandbox, with our own credentials) or read
 * it as a snapshot. Prints and returns an exit code. */
int cli_load_change(const char *path, const Ruleset *s0, const Config *cfg, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *snap = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *errors = NULL;
        gid_t groups[1024];
        char magic[SNAPSHOT_MAGIC_LEN], err[256] = "";
        ssize_t n;
        int r, n_groups;

        r = input_memfd(path, &fd);
        if (r < 0)
                return cli_error("%s: %s", path, strerror(-r));
        n = pread(fd, magic, sizeof(magic), 0);
        if (n == (ssize_t) sizeof(magic) && snapshot_has_magic(magic, sizeof(magic))) {
                r = snapshot_read(fd, &snap, NULL, err, sizeof(err));
                if (r < 0)
                        return cli_error("%s: %s", path, r == -EBADMSG ? err : strerror(-r));
                r = apply_snapshot(s0, snap, ret);
                if (r == -EPERM)
                        return cli_error("%s: a table of the snapshot is owned by another process here", path);
                return r < 0 ? cli_error("%s: %s", path, strerror(-r)) : EXIT_OK;
        }

        n_groups = getgroups(ELEMENTSOF(groups), groups);
        if (n_groups < 0)
                return cli_error("cannot read our groups: %m");
        SandboxRequest req = {
                .uid = getuid(), .gid = getgid(), .groups = groups, .n_groups = (size_t) n_groups,
                .rules_fd = fd, .display_name = path, .s0 = s0,
                .limits = { .timeout_sec = cfg->sandbox_timeout_sec,
                            .memory_bytes = (uint64_t) cfg->sandbox_memory_mb << 20 },
        };
        r = sandbox_compile(&req, ret, &errors);
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

/* iptables-legacy tables live beside nftables: their drops win over any
 * nftables accept, the guard's included. */
static int legacy_tables(char *buf, size_t len) {
        static const char *const files[] = {
                "/proc/net/ip_tables_names", "/proc/net/ip6_tables_names", "/proc/net/arp_tables_names",
        };
        int found = 0;

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_fclose_ FILE *f = fopen(files[i], "re");
                char line[64];

                while (f && fgets(line, sizeof(line), f)) {
                        line[strcspn(line, "\n")] = 0;
                        size_t used = strlen(buf);
                        snprintf(buf + used, len - used, "%s%s (%s)", found++ ? ", " : "", line,
                                 strstr(files[i], "ip6") ? "ip6tables" : strstr(files[i], "arp") ? "arptables" : "iptables");
                }
        }
        return found;
}

static json_t *port_json(const ProbePort *p) {
        json_t *o = json_pack("{s:i, s:b, s:s, s:s}", "port", p->port, "reachable", p->ok,
                              "verdict", verdict_names[p->verdict], "message", p->message ? p->message : "");

        if (!o)
                return NULL;
        if (!p->ok) {
                json_object_set_new(o, "guard_fixable", json_boolean(p->guard_fixable));
                if (packet_names[p->packet])
                        json_object_set_new(o, "packet", json_string(packet_names[p->packet]));
                if (p->table) {
                        json_object_set_new(o, "family", json_string(family_name(p->family) ? family_name(p->family) : "?"));
                        json_object_set_new(o, "table", json_string(p->table));
                        json_object_set_new(o, "chain", json_string(p->chain ? p->chain : ""));
                        json_object_set_new(o, "rule", p->rule ? json_string(p->rule) : json_null());
                }
        }
        return o;
}

static json_t *verdict_json(const PreflightVerdict *v, const PreflightTarget *targets) {
        json_t *probes = json_array();

        for (size_t i = 0; i < v->n_results; i++) {
                char s[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];
                json_t *ports = json_array();

                for (size_t j = 0; j < v->results[i].n_ports; j++)
                        json_array_append_new(ports, port_json(&v->results[i].ports[j]));
                json_array_append_new(probes, json_pack("{s:s, s:s, s:s, s:o}",
                        "interface", targets[i].host_if,
                        "server", addr_str(&targets[i].server, s, sizeof(s)),
                        "client", addr_str(&targets[i].client, c, sizeof(c)),
                        "ports", ports));
        }
        return json_pack("{s:b, s:o}", "reachable", v->reachable, "probes", probes);
}

static void print_verdict(const PreflightVerdict *v, const PreflightTarget *targets) {
        for (size_t i = 0; i < v->n_results; i++) {
                char s[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];

                for (size_t j = 0; j < v->results[i].n_ports; j++) {
                        const ProbePort *p = &v->results[i].ports[j];
                        printf("  %s %s port %u from %s: %s\n", targets[i].host_if,
                               addr_str(&targets[i].server, s, sizeof(s)), p->port,
                               addr_str(&targets[i].client, c, sizeof(c)), p->message ? p->message : "");
                }
        }
}

static int report(const char *what, const Preflight *p, const SshPort *ports, size_t n_ports,
                  const char *notes, const PreflightTarget *targets, const char *legacy, bool json) {
        char src[256];

        if (json) {
                _cleanup_(json_decrefp) json_t *o = NULL;
                json_t *jp = json_array(), *touched = json_array(), *extra = json_array(), *warn = json_array();

                for (size_t i = 0; i < n_ports; i++)
                        json_array_append_new(jp, json_pack("{s:i, s:s}", "port", ports[i].port,
                                              "found_by", ports_source_names(&ports[i], src, sizeof(src))));
                for (size_t i = 0; i < p->n_touched; i++)
                        json_array_append_new(touched, json_sprintf("%s %s", family_name(p->touched[i].family), p->touched[i].name));
                for (size_t i = 0; i < p->n_extra; i++)
                        json_array_append_new(extra, json_string(p->extra[i]));
                if (legacy[0])
                        json_array_append_new(warn, json_sprintf("iptables-legacy tables exist: %s; nftables accepts cannot override their drops", legacy));
                o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
                              "input", what, "port_notes", notes,
                              "verdict", p->as_written.reachable ? "safe" : "locks-ssh-out",
                              "ssh_ports", jp, "touched_tables", touched, "guarded_blocking_chains", extra,
                              "as_written", verdict_json(&p->as_written, targets),
                              "with_guard", verdict_json(&p->with_guard, targets),
                              "apply", p->with_guard.reachable ? "proceeds-guarded" : "refuses",
                              "warnings", warn);
                json_dumpf(o, stdout, JSON_INDENT(2));
                putchar('\n');
                return p->as_written.reachable ? EXIT_OK : EXIT_REFUSED;
        }

        printf("SSH ports:");
        for (size_t i = 0; i < n_ports; i++)
                printf("%s %u (%s)", i ? "," : "", ports[i].port, ports_source_names(&ports[i], src, sizeof(src)));
        printf("\n");
        if (notes[0])
                printf("Note on the ports: %s\n", notes);
        if (legacy[0])
                printf("WARNING: iptables-legacy tables exist: %s. nftables accepts, the guard's included, "
                       "cannot override their drops.\n", legacy);
        printf("Tables %s changes:", what);
        for (size_t i = 0; i < p->n_touched; i++)
                printf("%s %s %s", i ? "," : "", family_name(p->touched[i].family), p->touched[i].name);
        printf("%s\n", p->n_touched ? " (the guard goes at the head of each of their base chains)" : " none");
        if (p->n_extra) {
                printf("Base chains of other tables that block SSH, guarded too:");
                for (size_t i = 0; i < p->n_extra; i++)
                        printf("%s %s", i ? "," : "", p->extra[i]);
                printf("\n");
        }
        if (p->as_written.reachable) {
                printf("As written: SSH stays reachable.\n");
                print_verdict(&p->as_written, targets);
                return EXIT_OK;
        }
        printf("As written: %s would LOCK SSH OUT.\n", what);
        print_verdict(&p->as_written, targets);
        if (p->with_guard.reachable) {
                printf("With the fwguard guard: SSH stays reachable; `fwguard apply` would go ahead, guarded.\n");
        } else {
                printf("With the fwguard guard: SSH would STILL be unreachable; `fwguard apply` would refuse it:\n");
                print_verdict(&p->with_guard, targets);
        }
        return EXIT_REFUSED;
}

static int probe_addrs(const Config *cfg, ProbeAddr *ret, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < cfg->probe_addresses.n && n < max; i++) {
                ret[n].family = cfg->probe_addresses.items[i].family;
                if (ret[n].family == AF_INET)
                        ret[n].in = cfg->probe_addresses.items[i].addr.in;
                else
                        ret[n].in6 = cfg->probe_addresses.items[i].addr.in6;
                n++;
        }
        return (int) n;
}

int verb_check(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "live", no_argument, NULL, 'l' },
                { "json", no_argument, NULL, 'j' },
                { "output", required_argument, NULL, 'o' },
                { "config", required_argument, NULL, 'c' },
                {}
        };
        _cleanup_(ruleset_freep) Ruleset *s0 = NULL, *s1 = NULL;
        _cleanup_(preflight_freep) Preflight *p = NULL;
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ SshPort *ports = NULL;
        _cleanup_free_ uint16_t *port_nums = NULL;
        _cleanup_free_ PreflightTarget *targets = NULL;
        _cleanup_free_ char *errors = NULL;
        const char *out = NULL, *config_path = NULL, *what;
        char err[512] = "", notes[1024] = "", legacy[256];
        bool live = false, json = false;
        size_t n_ports = 0, n_targets = 0;
        ProbeAddr paddrs[8];
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: fwguard check FILE|--live [--json] [-o OUT] [--config FILE]\n");
                        return EXIT_OK;
                case 'l': live = true; break;
                case 'j': json = true; break;
                case 'o': out = optarg; break;
                case 'c': config_path = optarg; break;
                default:
                        return cli_usage("check: unknown option");
                }
        if (live == (argc - optind == 1) || argc - optind > 1)
                return cli_usage("check takes one FILE (or - for stdin), or --live");
        what = live ? "the live ruleset" : argv[optind];

        r = cli_read_live(config_path, &cfg, &s0);
        if (r != EXIT_OK)
                return r;
        r = ports_discover(&(PortsOptions) { .config_ports = cfg->ssh_ports.items,
                                             .n_config_ports = cfg->ssh_ports.n },
                           &ports, &n_ports, notes, sizeof(notes));
        if (r < 0)
                return cli_error("cannot find the SSH ports: %s", strerror(-r));
        r = live ? (ruleset_copy(s0, &s1) < 0 ? cli_error("out of memory") : EXIT_OK)
                 : cli_load_change(argv[optind], s0, cfg, &s1);
        if (r != EXIT_OK)
                return r;

        port_nums = calloc(n_ports, sizeof(uint16_t));
        if (!port_nums)
                return cli_error("out of memory");
        for (size_t i = 0; i < n_ports; i++)
                port_nums[i] = ports[i].port;
        /* Probe from where the admin is connected, else from the probe addresses. */
        PeerConn conn;
        PreflightTarget admin;
        if (peer_ssh_connection(getpid(), PORTS_SSHD_PATH_DEFAULT, &conn) >= 0 &&
            preflight_target_from_peer(&conn, &admin) >= 0) {
                targets = malloc(sizeof(*targets));
                if (!targets)
                        return cli_error("out of memory");
                targets[0] = admin;
                n_targets = 1;
        } else {
                r = preflight_targets(paddrs, (size_t) probe_addrs(cfg, paddrs, ELEMENTSOF(paddrs)),
                                      &targets, &n_targets, err, sizeof(err));
                if (r < 0)
                        return cli_error("%s", err);
        }

        PreflightRequest req = {
                .s0 = s0, .s1 = s1, .ports = port_nums, .n_ports = n_ports,
                .sources = &(GuardSources) { .items = cfg->sources.items, .n = cfg->sources.n },
                .targets = targets, .n_targets = n_targets,
                .limits = { .timeout_sec = cfg->sandbox_timeout_sec,
                            .memory_bytes = (uint64_t) cfg->sandbox_memory_mb << 20 },
        };
        r = preflight_run(&req, &p, &errors);
        if (r < 0)
                return cli_error("the pre-flight failed: %s", errors ? errors : strerror(-r));
        if (out) {
                r = fileio_write_atomic(out, 0600, cli_write_snapshot, p->guarded);
                if (r < 0)
                        return cli_error("%s: %s", out, strerror(-r));
        }
        legacy_tables(legacy, sizeof(legacy));
        return report(what, p, ports, n_ports, notes, targets, legacy, json);
}

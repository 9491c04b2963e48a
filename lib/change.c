/* SPDX-License-Identifier: GPL-2.0-or-later */
/* change.c — from a caller's file to a guarded, checked change: what check, diff and apply share
 *
 * `fwguard check`, `fwguard diff` and the daemon take the same steps from a
 * file to a verdict, and must say the same words about it: read the input
 * (it may be a pipe, and its magic is sniffed before it is read as a whole,
 * so it is first copied into a sealed memfd), make S1 of it (a snapshot's
 * tables replace the live ones; nft text is compiled in the sandbox with
 * the caller's credentials, never ours), find the SSH ports and where to
 * probe from, and run the pre-flight. The reports are written to a FILE the
 * caller names (stdout for the CLI, a buffer for the daemon): this module
 * never prints on its own.
 *
 * The diff is of nft's own listing, not of our model: each side is listed
 * once by nft in a private namespace (show_ruleset), and the tables that
 * the change touches are compared line by line. Deleting a table that
 * another tool owns is the surprise users meet after `flush ruleset`: it is
 * named loudly, with the tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>
#include <libnftnl/chain.h>

#include "change.h"
#include "diff.h"
#include "fileio.h"
#include "errtext.h"
#include "macro.h"
#include "peer.h"
#include "sandbox.h"
#include "show.h"
#include "snapshot.h"

/* ------------------------------------------------------------------ load */

/* The input as one memfd: it may be a pipe, and it is read twice (its magic
 * decides between a snapshot and nft text). Sealed, because the sandbox
 * child that compiles it runs as the caller: what it reads stays what was
 * sniffed here. */
static int input_memfd(int in, int *ret) {
        _cleanup_close_ int fd = memfd_create("fwguard-input", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        int r;

        if (fd < 0)
                return negative_errno();
        r = fileio_copy(in, fd);
        if (r < 0)
                return r;
        r = fileio_seal(fd);
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

/* S1 for a snapshot: its tables replace the live ones of the same name.
 * Owned tables belong to a process alive here and can be written by no one
 * else: the snapshot's copies of them are skipped, and live ones are never
 * replaced (-EPERM) nor deleted. */
static int apply_snapshot(const Ruleset *s0, Ruleset *snap, bool replace_all, Ruleset **ret) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        int r = ruleset_copy(s0, &s1);

        if (r < 0)
                return r;
        /* Backwards, as dropping shifts the tables after the dropped one. */
        for (size_t i = s1->tables.n; replace_all && i > 0; i--) {
                RsTable *t = ruleset_table(s1, i - 1);

                if (!t->owned && !ruleset_find_table(snap, t->family, t->name))
                        ruleset_drop_table(s1, t);
        }
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

int change_load(int fd, const char *display_name, const Ruleset *s0, const Config *cfg,
                const ChangeCaller *caller, bool replace_all, Ruleset **ret_s1, char **ret_errors) {
        _cleanup_(ruleset_freep) Ruleset *snap = NULL;
        _cleanup_close_ int input = -1;
        char magic[SNAPSHOT_MAGIC_LEN], err[256] = "";
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        r = input_memfd(fd, &input);
        if (r < 0)
                return errtext(ret_errors, r, "%s", strerror(-r));
        if (pread(input, magic, sizeof(magic), 0) == (ssize_t) sizeof(magic) &&
            snapshot_has_magic(magic, sizeof(magic))) {
                r = snapshot_read(input, &snap, NULL, err, sizeof(err));
                if (r < 0)
                        return errtext(ret_errors, r, "%s", r == -EBADMSG && err[0] ? err : strerror(-r));
                r = apply_snapshot(s0, snap, replace_all, ret_s1);
                if (r == -EPERM)
                        return errtext(ret_errors, r, "a table of the snapshot is owned by another process here");
                return r < 0 ? errtext(ret_errors, r, "%s", strerror(-r)) : 0;
        }

        SandboxRequest req = {
                .uid = caller->uid, .gid = caller->gid, .groups = caller->groups, .n_groups = caller->n_groups,
                .rules_fd = input, .display_name = display_name, .s0 = s0,
                .limits = { .timeout_sec = cfg->sandbox_timeout_sec,
                            .memory_bytes = (uint64_t) cfg->sandbox_memory_mb << 20 },
        };
        return sandbox_compile(&req, ret_s1, ret_errors);
}

/* ------------------------------------------------------------------ check */

ChangeCheck *change_check_free(ChangeCheck *c) {
        if (!c)
                return NULL;
        free(c->ports);
        free(c->targets);
        preflight_free(c->preflight);
        free(c);
        return NULL;
}

static size_t probe_addrs(const Config *cfg, ProbeAddr *ret, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < cfg->probe_addresses.n && n < max; i++) {
                ret[n].family = cfg->probe_addresses.items[i].family;
                if (ret[n].family == AF_INET)
                        ret[n].in = cfg->probe_addresses.items[i].addr.in;
                else
                        ret[n].in6 = cfg->probe_addresses.items[i].addr.in6;
                n++;
        }
        return n;
}

/* Probe from where the caller is connected: that is the path that must stay
 * open. Without one (a console, ssh from the host itself), from the probe
 * addresses to the host's own. */
static int find_targets(const Config *cfg, pid_t caller_pid, ChangeCheck *c, char *err, size_t errlen) {
        ProbeAddr paddrs[8];
        PreflightTarget admin;
        PeerConn conn;

        if (caller_pid > 0 && peer_ssh_connection(caller_pid, PORTS_SSHD_PATH_DEFAULT, &conn) >= 0 &&
            preflight_target_from_peer(&conn, &admin) >= 0) {
                c->targets = malloc(sizeof(*c->targets));
                if (!c->targets)
                        return -ENOMEM;
                c->targets[0] = admin;
                c->n_targets = 1;
                return 0;
        }
        return preflight_targets(paddrs, probe_addrs(cfg, paddrs, ELEMENTSOF(paddrs)),
                                 &c->targets, &c->n_targets, err, errlen);
}

/* iptables-legacy tables live beside nftables: their drops win over any
 * nftables accept, the guard's included. */
void change_legacy_tables(char *buf, size_t len) {
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
}

int change_check(const Ruleset *s0, const Ruleset *s1, const Config *cfg, pid_t caller_pid,
                 bool probe, ChangeCheck **ret, char **ret_errors) {
        _cleanup_(change_check_freep) ChangeCheck *c = calloc(1, sizeof(ChangeCheck));
        _cleanup_free_ uint16_t *port_nums = NULL;
        _cleanup_free_ char *errors = NULL;
        char err[512] = "";
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        if (!c)
                return -ENOMEM;
        r = ports_discover(&(PortsOptions) { .config_ports = cfg->ssh_ports.items,
                                             .n_config_ports = cfg->ssh_ports.n },
                           &c->ports, &c->n_ports, c->notes, sizeof(c->notes));
        if (r < 0)
                return errtext(ret_errors, r, "cannot find the SSH ports: %s", strerror(-r));
        port_nums = calloc(c->n_ports, sizeof(uint16_t));
        if (!port_nums)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_ports; i++)
                port_nums[i] = c->ports[i].port;
        /* Targets matter only to probes: without them, a host with no
         * address to probe must not fail the check. */
        if (probe) {
                r = find_targets(cfg, caller_pid, c, err, sizeof(err));
                if (r < 0)
                        return errtext(ret_errors, r, "%s", err[0] ? err : strerror(-r));
        }

        PreflightRequest req = {
                .s0 = s0, .s1 = s1, .ports = port_nums, .n_ports = c->n_ports,
                .sources = &(GuardSources) { .items = cfg->sources.items, .n = cfg->sources.n },
                .targets = c->targets, .n_targets = c->n_targets,
                .limits = { .timeout_sec = cfg->sandbox_timeout_sec,
                            .memory_bytes = (uint64_t) cfg->sandbox_memory_mb << 20 },
                .no_probe = !probe,
        };
        r = preflight_run(&req, &c->preflight, &errors);
        if (r < 0)
                return errtext(ret_errors, r, "the pre-flight failed: %s", errors ? errors : strerror(-r));
        change_legacy_tables(c->legacy, sizeof(c->legacy));
        *ret = TAKE_PTR(c);
        return 0;
}

/* ------------------------------------------------------------------ check report */

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
                        "server", probe_addr_str(&targets[i].server, s),
                        "client", probe_addr_str(&targets[i].client, c),
                        "ports", ports));
        }
        return json_pack("{s:b, s:o}", "reachable", v->reachable, "probes", probes);
}

static void report_check_json(FILE *f, const char *what, const ChangeCheck *c) {
        const Preflight *p = c->preflight;
        _cleanup_(json_decrefp) json_t *o = NULL;
        json_t *jp = json_array(), *touched = json_array(), *extra = json_array(), *warn = json_array();
        char src[256];

        for (size_t i = 0; i < c->n_ports; i++)
                json_array_append_new(jp, json_pack("{s:i, s:s}", "port", c->ports[i].port,
                                      "found_by", ports_source_names(&c->ports[i], src, sizeof(src))));
        for (size_t i = 0; i < p->n_touched; i++)
                json_array_append_new(touched, json_sprintf("%s %s", family_name(p->touched[i].family), p->touched[i].name));
        for (size_t i = 0; i < p->n_extra; i++)
                json_array_append_new(extra, json_string(p->extra[i]));
        if (c->legacy[0])
                json_array_append_new(warn, json_sprintf("iptables-legacy tables exist: %s; nftables accepts cannot override their drops", c->legacy));
        o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
                      "input", what, "port_notes", c->notes,
                      "verdict", p->as_written.reachable ? "safe" : "locks-ssh-out",
                      "ssh_ports", jp, "touched_tables", touched, "guarded_blocking_chains", extra,
                      "as_written", verdict_json(&p->as_written, c->targets),
                      "with_guard", verdict_json(&p->with_guard, c->targets),
                      "apply", p->with_guard.reachable ? "proceeds-guarded" : "refuses",
                      "warnings", warn);
        json_dumpf(o, f, JSON_INDENT(2));
        fputc('\n', f);
}

static void print_verdict(FILE *f, const PreflightVerdict *v, const PreflightTarget *targets) {
        for (size_t i = 0; i < v->n_results; i++) {
                char s[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];

                for (size_t j = 0; j < v->results[i].n_ports; j++) {
                        const ProbePort *p = &v->results[i].ports[j];
                        fprintf(f, "  %s %s port %u from %s: %s\n", targets[i].host_if,
                                probe_addr_str(&targets[i].server, s), p->port,
                                probe_addr_str(&targets[i].client, c), p->message ? p->message : "");
                }
        }
}

static void report_check_text(FILE *f, const char *what, const ChangeCheck *c) {
        const Preflight *p = c->preflight;
        char src[256];

        fprintf(f, "SSH ports:");
        for (size_t i = 0; i < c->n_ports; i++)
                fprintf(f, "%s %u (%s)", i ? "," : "", c->ports[i].port, ports_source_names(&c->ports[i], src, sizeof(src)));
        fprintf(f, "\n");
        if (c->notes[0])
                fprintf(f, "Note on the ports: %s\n", c->notes);
        if (c->legacy[0])
                fprintf(f, "WARNING: iptables-legacy tables exist: %s. nftables accepts, the guard's included, "
                        "cannot override their drops.\n", c->legacy);
        fprintf(f, "Tables %s changes:", what);
        for (size_t i = 0; i < p->n_touched; i++)
                fprintf(f, "%s %s %s", i ? "," : "", family_name(p->touched[i].family), p->touched[i].name);
        fprintf(f, "%s\n", p->n_touched ? " (the guard goes at the head of each of their base chains)" : " none");
        if (p->n_extra) {
                fprintf(f, "Base chains of other tables that block SSH, guarded too:");
                for (size_t i = 0; i < p->n_extra; i++)
                        fprintf(f, "%s %s", i ? "," : "", p->extra[i]);
                fprintf(f, "\n");
        }
        if (p->as_written.reachable) {
                fprintf(f, "As written: SSH stays reachable.\n");
                print_verdict(f, &p->as_written, c->targets);
                return;
        }
        fprintf(f, "As written: %s would LOCK SSH OUT.\n", what);
        print_verdict(f, &p->as_written, c->targets);
        if (p->with_guard.reachable) {
                fprintf(f, "With the fwguard guard: SSH stays reachable; `fwguard apply` would go ahead, guarded.\n");
        } else {
                fprintf(f, "With the fwguard guard: SSH would STILL be unreachable; `fwguard apply` would refuse it:\n");
                print_verdict(f, &p->with_guard, c->targets);
        }
}

int change_report_check(FILE *f, const char *what, const ChangeCheck *c, bool json) {
        if (json)
                report_check_json(f, what, c);
        else
                report_check_text(f, what, c);
        return c->preflight->as_written.reachable ? 0 : 3;
}

/* ------------------------------------------------------------------ diff */

const char *change_table_owner(const RsTable *t) {
        if (strstr(t->name, "f2b") || strstr(t->name, "fail2ban"))
                return "fail2ban";
        if (streq(t->name, "firewalld"))
                return "firewalld";
        for (size_t i = 0; i < t->chains.n; i++) {
                const char *c = nftnl_chain_get_str(t->chains.items[i], NFTNL_CHAIN_NAME);
                if (strncmp(c, "DOCKER", 6) == 0)
                        return "docker";
                if (strncmp(c, "ufw-", 4) == 0 || strncmp(c, "ufw6-", 5) == 0)
                        return "ufw";
                if (strncmp(c, "f2b-", 4) == 0)
                        return "fail2ban";
        }
        return NULL;
}

/* The nft listing of @rs, with each table's text found by its header. */
static int listing(const Ruleset *rs, char **ret, char *err, size_t errlen) {
        _cleanup_close_ int fd = memfd_create("fwguard-listing", MFD_CLOEXEC);
        char showerr[512] = "";
        off_t size;
        char *text;
        int r;

        r = fd < 0 ? negative_errno() : show_ruleset(rs, fd, showerr, sizeof(showerr));
        if (r < 0) {
                snprintf(err, errlen, "cannot list the ruleset: %s", showerr[0] ? showerr : strerror(-r));
                return r;
        }
        size = lseek(fd, 0, SEEK_END);
        text = size < 0 ? NULL : calloc(1, (size_t) size + 1);
        if (!text || pread(fd, text, (size_t) size, 0) != size) {
                free(text);
                snprintf(err, errlen, "cannot read the listing");
                return -EIO;
        }
        *ret = text;
        return 0;
}

/* The lines of table @ref in @text (NULL-terminated array of pointers into
 * a copy), or an empty array. */
static char **table_lines(const char *text, const TableRef *ref, size_t *ret_n) {
        char header[300], *copy, *start, **lines = NULL;
        size_t n = 0;

        snprintf(header, sizeof(header), "table %s %s {", family_name(ref->family), ref->name);
        start = strstr(text, header);
        while (start && start != text && start[-1] != '\n')
                start = strstr(start + 1, header);
        copy = start ? strdup(start) : NULL;
        for (char *line = copy, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char **nl = realloc(lines, (n + 2) * sizeof(char *));
                if (!nl)
                        break;
                lines = nl;
                lines[n++] = line;
                if (streq(line, "}"))
                        break;
        }
        if (!lines) {
                free(copy);
                lines = calloc(2, sizeof(char *));
        }
        *ret_n = n;
        return lines;   /* lines[0] owns the copy */
}

/* The number of @line in @tab: equal text, equal number. The table is a
 * caller's own (hsearch_r), as diffs may run in several threads at once. */
static uint32_t line_id(struct hsearch_data *tab, uint32_t *next, const char *line) {
        ENTRY e = { .key = (char *) line }, *found = NULL;

        if (hsearch_r(e, FIND, &found, tab) && found)
                return (uint32_t) (uintptr_t) found->data;
        e.data = (void *) (uintptr_t) *next;
        return hsearch_r(e, ENTER, &found, tab) ? (*next)++ : 0;
}

static int diff_table(FILE *f, const char *before, const char *after, const TableRef *ref, const char *change,
                      json_t *jtables, char *err, size_t errlen) {
        size_t na, nb;
        char **a = table_lines(before, ref, &na), **b = table_lines(after, ref, &nb);
        _cleanup_free_ uint32_t *ia = calloc(na + 1, sizeof(uint32_t)), *ib = calloc(nb + 1, sizeof(uint32_t));
        _cleanup_free_ size_t *ma = calloc(na + 1, sizeof(size_t)), *mb = calloc(nb + 1, sizeof(size_t));
        json_t *removed = json_array(), *added = json_array();
        struct hsearch_data tab = {};
        uint32_t next = 1;
        int r = 0;

        /* Lines compare as numbers: equal text, equal number. */
        if (!a || !b || !ia || !ib || !ma || !mb || !hcreate_r((na + nb) * 2 + 16, &tab)) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < na; i++)
                ia[i] = line_id(&tab, &next, a[i]);
        for (size_t i = 0; i < nb; i++)
                ib[i] = line_id(&tab, &next, b[i]);
        r = diff_lcs(ia, na, ib, nb, ma, mb);
        if (r < 0)
                goto out;
        r = 0;
        if (!jtables)
                fprintf(f, "--- table %s %s (%s)\n", family_name(ref->family), ref->name, change);
        /* Walk both sides in order: a line matched on both sides is context. */
        for (size_t i = 0, j = 0; i < na || j < nb;) {
                if (i < na && ma[i] == DIFF_NONE) {
                        jtables ? json_array_append_new(removed, json_string(a[i])) : fprintf(f, "-%s\n", a[i]);
                        i++;
                } else if (j < nb && mb[j] == DIFF_NONE) {
                        jtables ? json_array_append_new(added, json_string(b[j])) : fprintf(f, "+%s\n", b[j]);
                        j++;
                } else {
                        i++;
                        j++;
                }
        }
        if (jtables)
                json_array_append_new(jtables, json_pack("{s:s, s:s, s:s, s:O, s:O}", "table", ref->name,
                        "family", family_name(ref->family), "change", change, "removed", removed, "added", added));
out:
        if (r < 0)
                snprintf(err, errlen, "out of memory");
        hdestroy_r(&tab);
        json_decref(removed);
        json_decref(added);
        if (a)
                free(a[0]);
        if (b)
                free(b[0]);
        free(a);
        free(b);
        return r;
}

int change_report_diff(FILE *f, FILE *warn, const char *what, const Ruleset *s0, const Ruleset *s1, bool json,
                       char *err, size_t errlen) {
        _cleanup_(json_decrefp) json_t *jtables = json ? json_array() : NULL, *jwarn = json ? json_array() : NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        TableRef *changed = NULL;
        size_t n_changed = 0;
        int r;

        if (json && (!jtables || !jwarn)) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        r = diff_changed_tables(s0, s1, 0, &changed, &n_changed);
        if (r < 0) {
                snprintf(err, errlen, "cannot compare: %s", strerror(-r));
                return r;
        }
        if (n_changed == 0) {
                table_refs_free(changed, n_changed);
                if (json)
                        fprintf(f, "{\"tables\": [], \"warnings\": []}\n");
                else
                        fprintf(f, "%s changes nothing.\n", what);
                return 0;
        }
        r = listing(s0, &before, err, errlen);
        if (r >= 0)
                r = listing(s1, &after, err, errlen);
        for (size_t i = 0; r >= 0 && i < n_changed; i++) {
                const RsTable *a = ruleset_find_table(s0, changed[i].family, changed[i].name);
                const RsTable *b = ruleset_find_table(s1, changed[i].family, changed[i].name);
                const char *owner = a && !b ? change_table_owner(a) : NULL;

                if (a && !b) {
                        char w[512];
                        snprintf(w, sizeof(w), "WARNING: %s deletes table %s %s%s%s%s and does not create it again",
                                 what, family_name(a->family), a->name, owner ? " (it belongs to " : "",
                                 owner ? owner : "", owner ? ")" : "");
                        json ? json_array_append_new(jwarn, json_string(w)) : fprintf(warn ? warn : f, "%s\n", w);
                }
                r = diff_table(f, before, after, &changed[i], !a ? "created" : !b ? "deleted" : "changed",
                               jtables, err, errlen);
        }
        table_refs_free(changed, n_changed);
        if (r >= 0 && json) {
                _cleanup_(json_decrefp) json_t *o = json_pack("{s:O, s:O}", "tables", jtables, "warnings", jwarn);
                json_dumpf(o, f, JSON_INDENT(2));
                fputc('\n', f);
        }
        return r;
}

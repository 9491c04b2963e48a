/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor.c — fwguard doctor: what else can lock SSH out, each with its fix
 *
 * fwguard guards the firewall; people get locked out by other things too:
 * sshd stopped, or moved to a port at its next restart; key files that
 * StrictModes refuses; a full disk; iptables-legacy tables that nftables
 * cannot see; a daemon that is not there to roll back; another service
 * that loads its own ruleset at boot. Each check looks at the system as it
 * is, changes nothing, and says what it found in three parts: what (one
 * line), why it matters for SSH access, and the command that fixes it.
 *
 * Only problems count against health: an INFO finding explains how things
 * fit together (docker rewrites its chains), nothing needs doing. A check
 * that cannot look (not root, no sshd to ask) says so rather than passing
 * in silence.
 *
 * Everything is about the network namespace the doctor runs in: sockets,
 * ruleset and sshd processes are those of this namespace. systemd is asked
 * only from the namespace of PID 1, the one its units act on.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <systemd/sd-daemon.h>

#include "change.h"
#include "doctor.h"
#include "guard.h"
#include "nl.h"
#include "ports.h"
#include "ruleset.h"
#include "sshperm.h"
#include "trial.h"
#include "unitstate.h"

/* Below these, a filesystem is nearly full: a trial's snapshots are a few
 * MiB at most, a login writes a few KiB. */
#define DISK_LOW_BYTES (32ULL << 20)
#define DISK_LOW_PERCENT 5
#define DISK_FULL_BYTES (1ULL << 20)
#define INODES_LOW 1000
#define INODES_FULL 16
/* A trial armed this long past its deadline: the dead-man did not fire. */
#define DEADMAN_LATE_USEC (10ULL * 1000000)
/* A check that could not look: nothing is known to be wrong, nor right. */
#define WHY_UNCHECKED "this check could not look, so it cannot say that all is well here"
/* How sshd says that its privilege separation directory is missing. */
#define PRIVSEP_MISSING "privilege separation directory: "

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);
DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);

const char *doctor_severity_to_string(DoctorSeverity s) {
        static const char *const names[] = {
                [DOCTOR_INFO] = "info", [DOCTOR_WARNING] = "warning", [DOCTOR_ERROR] = "error",
        };

        return s < ELEMENTSOF(names) ? names[s] : NULL;
}

static char *strf(const char *fmt, ...) _printf_(1, 2);
static char *strf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        return k < 0 ? NULL : s;
}

/* Add a finding: @why and @fix (NULL: nothing to run) are copied, @what is
 * formatted. */
static int add(Doctor *d, DoctorSeverity sev, const char *id, const char *why, const char *fix,
               const char *what_fmt, ...) _printf_(6, 7);
static int add(Doctor *d, DoctorSeverity sev, const char *id, const char *why, const char *fix,
               const char *what_fmt, ...) {
        DoctorFinding f = { .severity = sev }, *grown;
        va_list ap;
        int k;

        va_start(ap, what_fmt);
        k = vasprintf(&f.what, what_fmt, ap);
        va_end(ap);
        if (k < 0)
                f.what = NULL;
        f.id = strdup(id);
        f.why = strdup(why);
        f.fix = fix ? strdup(fix) : NULL;
        grown = reallocarray(d->findings, d->n_findings + 1, sizeof(*grown));
        if (!grown || !f.what || !f.id || !f.why || (fix && !f.fix)) {
                free(f.what);
                free(f.id);
                free(f.why);
                free(f.fix);
                return -ENOMEM;
        }
        d->findings = grown;
        d->findings[d->n_findings++] = f;
        return 0;
}

/* ------------------------------------------------------------------ the Doctor */

/* Is this process in PID 1's network namespace? If we may not look, assume
 * so: then systemd's answers are at worst about a namespace next door. */
static bool in_init_netns(void) {
        struct stat self, init;

        if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/1/ns/net", &init) < 0)
                return true;
        return self.st_dev == init.st_dev && self.st_ino == init.st_ino;
}

int doctor_new(const Config *cfg, const char *sshd_path, Doctor **ret) {
        Doctor *d = calloc(1, sizeof(Doctor));

        if (!d)
                return -ENOMEM;
        d->cfg = cfg;
        d->sshd_path = sshd_path ?: PORTS_SSHD_PATH_DEFAULT;
        if (sd_booted() > 0 && in_init_netns() && sd_bus_open_system(&d->bus) >= 0)
                (void) sd_bus_set_method_call_timeout(d->bus, 10 * 1000000ULL);
        else
                d->bus = NULL;
        *ret = d;
        return 0;
}

Doctor *doctor_free(Doctor *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_findings; i++) {
                free(d->findings[i].id);
                free(d->findings[i].what);
                free(d->findings[i].why);
                free(d->findings[i].fix);
        }
        free(d->findings);
        sd_bus_flush_close_unref(d->bus);
        free(d->sshd_t);
        free(d);
        return NULL;
}

size_t doctor_problems(const Doctor *d) {
        size_t n = 0;

        for (size_t i = 0; i < d->n_findings; i++)
                n += d->findings[i].severity != DOCTOR_INFO;
        return n;
}

/* The value of @key in `sshd -T` output ("strictmodes yes"), or NULL. */
static const char *sshd_t_value(const Doctor *d, const char *key, char *buf, size_t len) {
        size_t k = strlen(key);

        for (const char *line = d->sshd_t; line && *line; ) {
                const char *eol = strchrnul(line, '\n');

                if ((size_t) (eol - line) > k && strncmp(line, key, k) == 0 && line[k] == ' ') {
                        snprintf(buf, len, "%.*s", (int) (eol - line - k - 1), line + k + 1);
                        return buf;
                }
                line = *eol ? eol + 1 : NULL;
        }
        return NULL;
}

/* Call @fn for each process of /proc; it returns < 0 to stop. */
static int each_process(int (*fn)(pid_t pid, void *userdata), void *userdata) {
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        struct dirent *de;
        int r;

        if (!proc)
                return negative_errno();
        while ((de = readdir(proc))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (pid <= 0 || pid > INT_MAX || *end)
                        continue;
                r = fn((pid_t) pid, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ------------------------------------------------------------------ sshd */

typedef struct SshdScan {
        const char *sshd;       /* resolved */
        struct stat netns;
        unsigned n;             /* sshd processes in our network namespace */
} SshdScan;

static int scan_sshd(pid_t pid, void *userdata) {
        SshdScan *s = userdata;
        char exe[PATH_MAX], ns[64];
        const char *base;
        struct stat st;

        if (ports_process_exe(pid, exe, sizeof(exe)) < 0)
                return 0;
        base = strrchr(exe, '/');
        if (!streq(exe, s->sshd) && !streq(base ? base + 1 : exe, "sshd-session"))
                return 0;
        snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int) pid);
        if (stat(ns, &st) == 0 && st.st_dev == s->netns.st_dev && st.st_ino == s->netns.st_ino)
                s->n++;
        return 0;
}

/* "ssh.service" or "sshd.service", whichever systemd has; NULL without systemd. */
static const char *ssh_unit(Doctor *d) {
        static const char *const units[] = { "ssh.service", "sshd.service" };
        char err[256];

        for (size_t i = 0; d->bus && i < ELEMENTSOF(units); i++) {
                UnitState st;

                if (unitstate_get(d->bus, units[i], &st, err, sizeof(err)) >= 0 && st.installed)
                        return units[i];
        }
        return NULL;
}

/* "22, 2222" */
static void ports_text(const uint16_t *ports, size_t n, char *buf, size_t len) {
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && used < len; i++)
                used += (size_t) snprintf(buf + used, len - used, "%s%u", i ? ", " : "", ports[i]);
}

static bool port_in(uint16_t p, const uint16_t *ports, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (ports[i] == p)
                        return true;
        return false;
}

/* Add @p to the set @ports of *@n ports, unless it is there already or the
 * set is full at @max. */
static void port_add(uint16_t p, uint16_t *ports, size_t *n, size_t max) {
        if (!port_in(p, ports, *n) && *n < max)
                ports[(*n)++] = p;
}

static bool same_ports(const uint16_t *a, size_t na, const uint16_t *b, size_t nb) {
        for (size_t i = 0; i < na; i++)
                if (!port_in(a[i], b, nb))
                        return false;
        for (size_t i = 0; i < nb; i++)
                if (!port_in(b[i], a, na))
                        return false;
        return true;
}

/* @privsep: sshd's privilege separation directory when it is missing (the
 * unit makes it at start; by hand it must be made first), else NULL. */
static int check_listening(Doctor *d, const char *sshd, const char *unit, const char *privsep) {
        _cleanup_free_ SshPort *ports = NULL;
        _cleanup_free_ uint16_t *configured = NULL;
        _cleanup_free_ char *fix = NULL;
        uint16_t listen[64], socket_unit[64], conf[64];
        size_t n = 0, n_listen = 0, n_socket = 0, n_configured = 0, n_conf = 0;
        SshdScan scan = { .sshd = sshd };
        char a[512], b[512];
        pid_t listener = 0;
        int r;

        r = ports_discover(&(PortsOptions) { .sshd_path = d->sshd_path, .skip_sshd_t = true,
                                             .skip_socket_unit = !d->bus },
                           &ports, &n, NULL, 0);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add(d, DOCTOR_WARNING, "sshd-not-checked",
                           "without the listening sockets nothing here can tell whether a new SSH login is possible",
                           "sudo fwguard doctor",
                           "could not list the listening sockets and processes: %s", strerror(-r));
        for (size_t i = 0; i < n; i++) {
                if (ports[i].sources & PORT_SRC_LISTEN) {
                        port_add(ports[i].port, listen, &n_listen, ELEMENTSOF(listen));
                        listener = listener ?: ports[i].pid;
                }
                if (ports[i].sources & PORT_SRC_SOCKET_UNIT)
                        port_add(ports[i].port, socket_unit, &n_socket, ELEMENTSOF(socket_unit));
        }

        if (n_listen == 0 && n_socket == 0) {
                if (stat("/proc/self/ns/net", &scan.netns) < 0)
                        return add(d, DOCTOR_WARNING, "sshd-not-checked", WHY_UNCHECKED, NULL,
                                   "cannot read our network namespace: %m");
                r = each_process(scan_sshd, &scan);
                if (r == -ENOMEM)
                        return r;
                fix = unit ? strf("systemctl %s %s", scan.n ? "restart" : "start", unit) :
                      privsep ? strf("mkdir -p -m 0755 %s && %s", privsep, d->sshd_path) : strdup(d->sshd_path);
                if (!fix)
                        return -ENOMEM;
                if (scan.n > 0)
                        return add(d, DOCTOR_ERROR, "sshd-not-listening",
                                   "sessions that are open keep working, but no NEW login is possible: close "
                                   "yours and you are locked out, and no trial can be confirmed (it needs a new "
                                   "login), so every change rolls back",
                                   fix, "no sshd listens for new connections (%u sshd process%s of open sessions "
                                   "still run%s)", scan.n, scan.n == 1 ? "" : "es", scan.n == 1 ? "s" : "");
                return add(d, DOCTOR_ERROR, "sshd-not-running",
                           "no SSH login is possible at all, and no trial can be confirmed (it needs a new "
                           "login), so every change rolls back",
                           fix, "sshd is not running in this network namespace (%s listens on no port)", sshd);
        }

        /* A restart pending: sshd serves what it read when it started;
         * `sshd -T` says what the next start will serve. With ssh.socket,
         * systemd owns the ports and sshd's Port setting is not used. */
        if (n_listen == 0 || !d->sshd_t)
                return 0;
        r = ports_parse_sshd_t(d->sshd_t, &configured, &n_configured);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_configured; i++)
                port_add(configured[i], conf, &n_conf, ELEMENTSOF(conf));
        if (n_conf == 0 || same_ports(listen, n_listen, conf, n_conf))
                return 0;
        ports_text(listen, n_listen, a, sizeof(a));
        ports_text(conf, n_conf, b, sizeof(b));
        fix = unit ? strf("sshd -t && systemctl restart %s", unit) : strf("sshd -t && kill -HUP %d", (int) listener);
        if (!fix)
                return -ENOMEM;
        return add(d, DOCTOR_WARNING, "ssh-ports-restart-pending",
                   "the next restart of sshd (an upgrade of openssh-server or a reboot does one) moves SSH to the "
                   "configured ports: if the firewall does not let them in by then, new logins fail. The "
                   "pre-flight below probes both sets; restart sshd while this session is open, then log in "
                   "anew on the new port before closing it",
                   fix, "sshd listens on port %s, but its configuration says %s: the change waits for a restart of sshd",
                   a, b);
}

int doctor_check_sshd(Doctor *d) {
        _cleanup_free_ char *sshd = realpath(d->sshd_path, NULL);
        const char *unit, *privsep;
        char err[512] = "";
        int r;

        if (!sshd)
                return errno == ENOMEM ? -ENOMEM :
                        add(d, DOCTOR_ERROR, "sshd-missing",
                            "without an SSH server no one can log in remotely, and no trial can be confirmed",
                            "apt-get install openssh-server", "sshd is not installed (%s: %m)", d->sshd_path);
        if (geteuid() != 0)
                return add(d, DOCTOR_INFO, "sshd-not-checked",
                           "sshd's processes and host keys are root's: only root can see whether it listens and "
                           "loads its configuration", "sudo fwguard doctor", "sshd was not checked (not root)");
        unit = ssh_unit(d);

        r = ports_sshd_t(d->sshd_path, NULL, &d->sshd_t, err, sizeof(err));
        if (r == -ENOMEM)
                return r;
        /* sshd refuses even -T without its privilege separation directory,
         * which ssh.service makes at start and removes at stop: a stopped
         * sshd, not a bad config. */
        privsep = r < 0 ? strstr(err, PRIVSEP_MISSING) : NULL;
        if (privsep)
                privsep += strlen(PRIVSEP_MISSING);
        else if (r < 0) {
                _cleanup_free_ char *fix = strstr(err, "no hostkeys available") ? strdup("ssh-keygen -A") :
                        unit ? strf("sshd -t   (then correct what it names, and `systemctl restart %s`)", unit) :
                        strdup("sshd -t   (then correct what it names)");
                if (!fix)
                        return -ENOMEM;
                r = add(d, DOCTOR_ERROR, "sshd-config-invalid",
                        "the running sshd (if any) keeps its old settings, but a restart or a reboot would leave "
                        "sshd stopped: no new login until someone fixes it from a console",
                        fix, "`%s -T` refuses sshd's configuration: %s", d->sshd_path, err);
                if (r < 0)
                        return r;
        }
        return check_listening(d, sshd, unit, privsep);
}

/* ------------------------------------------------------------------ the live ruleset */

/* The command that lets SSH port @port through the blocker of @p. */
static char *ruleset_fix(const Ruleset *live, const ProbePort *p, uint16_t port) {
        const char *family = family_name(p->family) ?: "inet";
        const char *chain = p->base_chain ?: p->chain;
        const RsTable *t = ruleset_find_table(live, p->family, p->table);
        const char *owner = t ? change_table_owner(t) : NULL;

        if (p->verdict == PROBE_UNEXPLAINED || !p->table || !chain)
                return strdup("fwguard check --live   (its trace says which packet was lost where)");
        if (p->packet == PROBE_PACKET_ARP)
                return strf("nft insert rule %s %s %s arp operation { request, reply } accept", family, p->table, chain);
        if (p->packet == PROBE_PACKET_ND)
                return strf("nft insert rule %s %s %s icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
                            family, p->table, chain);
        if (streq_ptr(owner, "ufw"))
                return strf("ufw allow %u/tcp", port);
        if (streq_ptr(owner, "firewalld"))
                return strf("firewall-cmd --add-port=%u/tcp && firewall-cmd --runtime-to-permanent", port);
        return strf("nft insert rule %s %s %s tcp %s %u accept", family, p->table, chain,
                    p->answer ? "sport" : "dport", port);
}

/* The guards of one base chain against the ports sshd serves: the served
 * ports without one in @missing ("22, 2222"), and whether a guard is for a
 * port that no sshd serves. */
static int chain_guard_ports(const RsTable *t, const char *chain, const uint16_t *served, size_t n_served,
                             char *missing, size_t len, bool *ret_stale) {
        PtrVec rules = {}, guards = {};
        const PtrVec none = {};
        int r = 0;

        missing[0] = '\0';
        *ret_stale = false;
        for (size_t i = 0; r >= 0 && i < t->rules.n; i++)
                if (streq(nftnl_rule_get_str(t->rules.items[i], NFTNL_RULE_CHAIN), chain))
                        r = ptrvec_push(&rules, t->rules.items[i]);
        if (r >= 0)
                r = guard_chain_plan((struct nftnl_rule *const *) rules.items, rules.n, &none, &guards);
        for (size_t i = 0; r > 0 && i < n_served; i++) {
                bool covered = false;

                for (size_t g = 0; g < guards.n && !covered; g++)
                        covered = guard_rule_is_guard(guards.items[g], &served[i], 1);
                if (!covered)
                        snprintf(missing + strlen(missing), len - strlen(missing), "%s%u", *missing ? ", " : "",
                                 served[i]);
        }
        for (size_t g = 0; r > 0 && g < guards.n; g++)
                *ret_stale |= !guard_rule_is_guard(guards.items[g], served, n_served);
        ptrvec_clear(&rules, NULL);
        ptrvec_clear(&guards, NULL);
        return r < 0 ? r : 0;
}

/* fwguard's guards in the live ruleset against the ports sshd serves now.
 * Information only: whether a port is let in is the pre-flight's verdict;
 * this says why a guard does not help it (sshd moved since the guard was
 * placed; fwguardd guards the new ports at its next trial, and its monitor
 * when it sees sshd restart). */
static int check_guard_ports(Doctor *d, const Ruleset *live, const ChangeCheck *check) {
        uint16_t served[64];
        size_t n_served = 0;
        char text[256];
        int r;

        for (size_t i = 0; i < check->n_ports; i++)
                if (check->ports[i].sources & (PORT_SRC_LISTEN | PORT_SRC_SOCKET_UNIT))
                        port_add(check->ports[i].port, served, &n_served, ELEMENTSOF(served));
        if (n_served == 0)
                return 0;
        ports_text(served, n_served, text, sizeof(text));
        for (size_t i = 0; i < live->tables.n; i++) {
                const RsTable *t = live->tables.items[i];

                for (size_t c = 0; !t->owned && c < t->chains.n; c++) {
                        const struct nftnl_chain *ch = t->chains.items[c];
                        const char *name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
                        char missing[256];
                        bool stale;

                        if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM) ||
                            guard_side(t->family, nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM)) == GUARD_SIDE_NONE)
                                continue;
                        r = chain_guard_ports(t, name, served, n_served, missing, sizeof(missing), &stale);
                        if (r < 0)
                                return r;
                        if (!*missing && !stale)
                                continue;
                        r = add(d, DOCTOR_INFO, "guard-ports",
                                "sshd moved since fwguard placed this guard: the guard lets in ports no sshd serves, "
                                "or not the ones it serves. Whether SSH gets in is the pre-flight's verdict above; "
                                "fwguardd guards sshd's ports anew at the next change of the table",
                                NULL, "the guard in %s %s %s %s%s%s (sshd serves %s)",
                                family_name(t->family), t->name, name,
                                *missing ? "does not cover port " : "", missing,
                                stale ? (*missing ? ", and covers ports no sshd serves" :
                                          "covers ports no sshd serves") : "", text);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int doctor_check_ruleset(Doctor *d) {
        _cleanup_(ruleset_freep) Ruleset *live = NULL, *same = NULL;
        _cleanup_(change_check_freep) ChangeCheck *check = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        _cleanup_free_ char *errors = NULL;
        const PreflightVerdict *v;
        int r;

        if (geteuid() != 0)
                return add(d, DOCTOR_INFO, "ruleset-not-checked",
                           "only root can read the ruleset and run the reachability probe",
                           "sudo fwguard doctor", "the live ruleset was not checked (not root)");
        r = nl_open(&nl);
        if (r >= 0)
                r = ruleset_dump(nl, &live);
        if (r >= 0)
                r = ruleset_copy(live, &same);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add(d, DOCTOR_WARNING, "ruleset-not-checked",
                           "fwguard reads the ruleset the same way before every change: it cannot work either",
                           "fwguard save /dev/null", "cannot read the live ruleset: %s", strerror(-r));
        r = change_check(live, same, d->cfg, getpid(), true, &check, &errors);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add(d, DOCTOR_WARNING, "ruleset-not-checked",
                           "`fwguard apply` runs the same pre-flight before every change, so it would fail too",
                           "fwguard check --live", "the reachability pre-flight of the live ruleset failed: %s",
                           errors ?: strerror(-r));

        v = &check->preflight->as_written;
        for (size_t i = 0; i < v->n_results; i++)
                for (size_t j = 0; j < v->results[i].n_ports; j++) {
                        const ProbePort *p = &v->results[i].ports[j];
                        const PreflightTarget *t = &check->targets[i];
                        char server[INET6_ADDRSTRLEN], client[INET6_ADDRSTRLEN];
                        _cleanup_free_ char *fix = NULL;

                        if (p->ok)
                                continue;
                        fix = ruleset_fix(live, p, p->port);
                        if (!fix)
                                return -ENOMEM;
                        r = add(d, DOCTOR_ERROR, "ruleset-blocks-ssh",
                                "new SSH connections to this port fail now: only sessions already open "
                                "(and let through by conntrack) still work",
                                fix, "the live ruleset blocks SSH from %s to %s port %u on %s: %s",
                                probe_addr_str(&t->client, client), probe_addr_str(&t->server, server),
                                p->port, t->host_if, p->message ?: "no explanation");
                        if (r < 0)
                                return r;
                }
        return check_guard_ports(d, live, check);
}

/* ------------------------------------------------------------------ authorized_keys */

typedef struct User {
        char *name, *home;
        uid_t uid;
} User;

static void users_free(User *u, size_t n) {
        for (size_t i = 0; u && i < n; i++) {
                free(u[i].name);
                free(u[i].home);
        }
        free(u);
}

/* The accounts with a home directory, copied: sshperm_check() reads the
 * passwd database itself, which would reset a getpwent() loop. */
static int users_list(User **ret, size_t *ret_n) {
        User *list = NULL, *grown;
        struct passwd *pw;
        size_t n = 0;
        int r = 0;

        setpwent();
        while ((pw = getpwent())) {
                if (!pw->pw_dir || pw->pw_dir[0] != '/')
                        continue;
                grown = reallocarray(list, n + 1, sizeof(*list));
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                list = grown;
                list[n] = (User) { .name = strdup(pw->pw_name), .home = strdup(pw->pw_dir), .uid = pw->pw_uid };
                if (!list[n].name || !list[n].home) {
                        r = -ENOMEM;
                        n++;    /* freed below */
                        break;
                }
                n++;
        }
        endpwent();
        if (r < 0) {
                users_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static int check_key_file(Doctor *d, const User *u, const char *path, bool debian) {
        _cleanup_free_ char *what = NULL, *fix = NULL;
        SshPermProblem *probs = NULL;
        size_t n = 0, wl = 0, fl = 0;
        FILE *w, *f;
        bool ok;
        int r;

        r = sshperm_check(path, u->home, u->uid, debian, &probs, &n);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || n == 0)
                return 0;       /* absent, or hidden from us: sshd skips it, or we cannot tell */

        w = open_memstream(&what, &wl);
        f = open_memstream(&fix, &fl);
        for (size_t i = 0; w && f && i < n; i++) {
                const SshPermProblem *p = &probs[i];
                struct passwd *owner = (p->faults & SSHPERM_OWNER) ? getpwuid(p->owner) : NULL;
                const char *sep = i ? "; " : "";

                if (p->faults & SSHPERM_NOT_REGULAR)
                        fprintf(w, "%s%s is not a regular file", sep, p->path);
                else if (p->faults & SSHPERM_OWNER)
                        fprintf(w, "%s%s is owned by %s (uid %u), not %s or root", sep, p->path,
                                owner ? owner->pw_name : "another user", (unsigned) p->owner, u->name);
                else
                        fprintf(w, "%s%s is %s-writable (mode %04o)", sep, p->path,
                                (p->mode & S_IWOTH) ? "world" : "group", (unsigned) p->mode);
                if ((p->faults & SSHPERM_OWNER) && (p->faults & SSHPERM_WRITABLE))
                        fprintf(w, " and %s-writable (mode %04o)", (p->mode & S_IWOTH) ? "world" : "group",
                                (unsigned) p->mode);
                if (p->faults & SSHPERM_NOT_REGULAR)
                        fprintf(f, "%smv %s %s.bad   (and put the keys in a regular file there)",
                                ftell(f) ? " && " : "", p->path, p->path);
                if (p->faults & SSHPERM_OWNER)
                        fprintf(f, "%schown %s %s", ftell(f) ? " && " : "", u->name, p->path);
                if (p->faults & SSHPERM_WRITABLE)
                        fprintf(f, "%schmod go-w %s", ftell(f) ? " && " : "", p->path);
        }
        sshperm_problems_free(probs, n);
        ok = w && f;
        if (w && fclose(w) != 0)
                ok = false;
        if (f && fclose(f) != 0)
                ok = false;
        if (!ok)
                return -ENOMEM;
        return add(d, DOCTOR_ERROR, "authorized-keys-refused",
                   "with StrictModes (on by default) sshd ignores a key file that someone else could have written: "
                   "key logins as this user fail, and with password logins off the user is locked out",
                   fix, "sshd would refuse %s's %s: %s", u->name, path, what);
}

int doctor_check_keys(Doctor *d) {
        char strict[16], files_buf[1024];
        const char *files;
        User *users = NULL;
        size_t n_users = 0;
        /* Debian's openssh-server carries the patch that allows a
         * group-writable path of a group with only its owner in it (and
         * dpkg's own database is not ours to read: lintian). */
        bool debian = access("/etc/debian_version", F_OK) == 0;
        int r;

        if (sshd_t_value(d, "strictmodes", strict, sizeof(strict)) && streq(strict, "no"))
                return 0;
        /* Without sshd -T, sshd's defaults. */
        files = sshd_t_value(d, "authorizedkeysfile", files_buf, sizeof(files_buf))
                ?: ".ssh/authorized_keys .ssh/authorized_keys2";
        if (streq(files, "none"))
                return 0;
        r = users_list(&users, &n_users);
        for (size_t i = 0; r >= 0 && i < n_users; i++) {
                _cleanup_free_ char *list = strdup(files);
                char *save = NULL;

                if (!list) {
                        r = -ENOMEM;
                        break;
                }
                for (char *pat = strtok_r(list, " ", &save); r >= 0 && pat; pat = strtok_r(NULL, " ", &save)) {
                        _cleanup_free_ char *path = NULL;

                        r = sshperm_expand(pat, users[i].name, users[i].home, users[i].uid, &path);
                        if (r == -EINVAL) {
                                r = 0;  /* a token sshd knows and we do not: not ours to judge */
                                continue;
                        }
                        if (r >= 0)
                                r = check_key_file(d, &users[i], path, debian);
                }
        }
        users_free(users, n_users);
        return r;
}

/* ------------------------------------------------------------------ disk */

typedef struct Fs {
        dev_t dev;
        char *mount;            /* the top of the filesystem, walking up */
        char names[512];        /* the paths of ours on it */
        unsigned roles;
} Fs;

enum { ROLE_STATE = 1, ROLE_LOG = 2, ROLE_ROOT = 4 };

static void cut_last(char *p) {
        char *slash = strrchr(p, '/');

        if (slash == p)
                p[1] = '\0';
        else if (slash)
                *slash = '\0';
}

/* The deepest existing directory of @path (the state directory need not
 * exist yet), and the top of its filesystem. */
static int locate(const char *path, struct stat *ret, char **ret_mount) {
        char cur[PATH_MAX], parent[PATH_MAX];
        struct stat st, up;

        if (snprintf(cur, sizeof(cur), "%s", path) >= (int) sizeof(cur))
                return -ENAMETOOLONG;
        while (stat(cur, &st) < 0) {
                if (errno != ENOENT || streq(cur, "/"))
                        return negative_errno();
                cut_last(cur);
        }
        while (!streq(cur, "/")) {
                memcpy(parent, cur, sizeof(cur));
                cut_last(parent);
                if (stat(parent, &up) < 0 || up.st_dev != st.st_dev)
                        break;
                memcpy(cur, parent, sizeof(cur));
        }
        *ret = st;
        *ret_mount = strdup(cur);
        return *ret_mount ? 0 : -ENOMEM;
}

static const char *why_disk(unsigned roles, char *buf, size_t len) {
        static const struct {
                unsigned role;
                const char *why;
        } whys[] = {
                { ROLE_STATE, "fwguard makes every trial durable in its state directory before it commits: "
                              "without room there, every apply and run fails (and changes nothing), so no "
                              "change can be made safely." },
                { ROLE_LOG, "sshd, PAM and journald write to /var/log at each login: when it is full, logins "
                            "can fail or hang, and the logs that would explain a lockout are lost." },
                { ROLE_ROOT, "With / full, logins can fail (PAM and shells write to /var and /tmp), and so do "
                             "package upgrades and services that keep state." },
        };
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(whys); i++)
                if ((roles & whys[i].role) && used < len)
                        used += (size_t) snprintf(buf + used, len - used, "%s%s", used ? " " : "", whys[i].why);
        return buf;
}

static int check_fs(Doctor *d, const Fs *fs) {
        _cleanup_free_ char *fix = NULL;
        char why[1024];
        struct statvfs sv;
        uint64_t total, avail;
        int r;

        if (statvfs(fs->mount, &sv) < 0)
                return add(d, DOCTOR_WARNING, "disk-not-checked", WHY_UNCHECKED, NULL,
                           "cannot read the free space of %s: %m", fs->mount);
        total = (uint64_t) sv.f_blocks * sv.f_frsize;
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        if (total > 0 && (avail < DISK_LOW_BYTES || avail * 100 < total * DISK_LOW_PERCENT)) {
                fix = strf("%sdu -xh -d1 %s | sort -h | tail -n 15   (then delete or move what is not needed)",
                           (fs->roles & ROLE_LOG) ? "journalctl --vacuum-size=100M; " : "", fs->mount);
                if (!fix)
                        return -ENOMEM;
                r = add(d, avail < DISK_FULL_BYTES ? DOCTOR_ERROR : DOCTOR_WARNING, "disk-full",
                        why_disk(fs->roles, why, sizeof(why)), fix,
                        "the filesystem of %s (mounted on %s) has %llu KiB free of %llu KiB (%llu%%)",
                        fs->names, fs->mount, (unsigned long long) (avail >> 10),
                        (unsigned long long) (total >> 10), (unsigned long long) (avail * 100 / total));
                if (r < 0)
                        return r;
        }
        /* Some filesystems (btrfs) have no inode table: f_files is 0. */
        if (sv.f_files > 0 && (sv.f_favail < INODES_LOW || sv.f_favail * 100 < sv.f_files * DISK_LOW_PERCENT)) {
                free(fix);
                fix = strf("du -x --inodes -d1 %s | sort -n | tail -n 15   (then delete what holds the most files)",
                           fs->mount);
                if (!fix)
                        return -ENOMEM;
                return add(d, sv.f_favail < INODES_FULL ? DOCTOR_ERROR : DOCTOR_WARNING, "inodes-full",
                           why_disk(fs->roles, why, sizeof(why)), fix,
                           "the filesystem of %s (mounted on %s) has %llu inodes free of %llu",
                           fs->names, fs->mount, (unsigned long long) sv.f_favail, (unsigned long long) sv.f_files);
        }
        return 0;
}

int doctor_check_disk(Doctor *d) {
        const struct {
                const char *path;
                unsigned role;
                const char *name;
        } paths[] = {
                { d->cfg->state_dir, ROLE_STATE, "the state directory" },
                { "/var/log", ROLE_LOG, NULL },
                { "/", ROLE_ROOT, NULL },
        };
        Fs fs[ELEMENTSOF(paths)] = {};
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                char *mount = NULL;
                struct stat st;
                size_t k;

                r = locate(paths[i].path, &st, &mount);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        r = add(d, DOCTOR_WARNING, "disk-not-checked", WHY_UNCHECKED, NULL, "cannot look at %s: %s",
                                paths[i].path, strerror(-r));
                        if (r < 0)
                                break;
                        continue;
                }
                for (k = 0; k < n && fs[k].dev != st.st_dev; k++)
                        ;
                if (k == n) {
                        fs[n++] = (Fs) { .dev = st.st_dev, .mount = mount };
                        mount = NULL;
                }
                free(mount);
                size_t used = strlen(fs[k].names);
                snprintf(fs[k].names + used, sizeof(fs[k].names) - used, "%s%s%s%s", used ? ", " : "",
                         paths[i].name ?: "", paths[i].name ? " " : "", paths[i].path);
                fs[k].roles |= paths[i].role;
        }
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = check_fs(d, &fs[i]);
        for (size_t i = 0; i < n; i++)
                free(fs[i].mount);
        return r;
}

/* ------------------------------------------------------------------ iptables-legacy */

int doctor_check_legacy(Doctor *d) {
        char tables[256];

        change_legacy_tables(tables, sizeof(tables));
        if (!tables[0])
                return 0;
        return add(d, DOCTOR_WARNING, "iptables-legacy",
                   "legacy tables live beside nftables, invisible to it: fwguard can neither see, guard nor roll "
                   "them back, and their drops win over any nftables accept, the guard's included",
                   "iptables-legacy-save > /root/legacy.rules && iptables-restore-translate -f /root/legacy.rules "
                   "> /root/legacy.nft && fwguard apply /root/legacy.nft   (then, once confirmed, flush the "
                   "legacy tables: iptables-legacy -t TABLE -F, and the same with ip6tables-legacy)",
                   "iptables-legacy tables exist in this network namespace: %s", tables);
}

/* ------------------------------------------------------------------ fwguardd and the trial */

/* fwguard's own boot units, which fwguardd does not replace. */
static const struct {
        const char *unit, *why;
} boot_units[] = {
        { "fwguard-boot.service",
          "after a crash or reboot during a trial, it puts back the files the trial installed before the services "
          "that load them start: without it, an unconfirmed ufw or nftables configuration faces the network" },
        { "fwguard-persist.service",
          "it loads the confirmed applies at boot: without it, a reboot brings back only what the other services "
          "load, and fwguard's guards are gone" },
};

static int check_unit(Doctor *d) {
        UnitState service, socket, boot[ELEMENTSOF(boot_units)];
        char err[512] = "";
        int r;

        r = unitstate_get(d->bus, "fwguardd.service", &service, err, sizeof(err));
        if (r >= 0)
                r = unitstate_get(d->bus, "fwguardd.socket", &socket, err, sizeof(err));
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(boot_units); i++)
                r = unitstate_get(d->bus, boot_units[i].unit, &boot[i], err, sizeof(err));
        if (r < 0)
                return add(d, DOCTOR_WARNING, "fwguardd-not-checked", WHY_UNCHECKED, NULL,
                           "cannot ask systemd: %s", err);
        if (!service.installed)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(boot_units); i++) {
                _cleanup_free_ char *fix = NULL;

                if (!boot[i].installed || boot[i].enabled)
                        continue;
                fix = strf("systemctl enable %s", boot_units[i].unit);
                if (!fix)
                        return -ENOMEM;
                r = add(d, DOCTOR_WARNING, "boot-unit-not-enabled", boot_units[i].why, fix,
                        "%s does not run at boot", boot_units[i].unit);
                if (r < 0)
                        return r;
        }
        if (!service.enabled && !socket.enabled) {
                r = add(d, DOCTOR_WARNING, "fwguardd-not-enabled",
                        "after a reboot nothing guards changes, and a change made before it is not rolled back",
                        "systemctl enable --now fwguardd.service fwguardd.socket",
                        "fwguardd.service does not start at boot");
                if (r < 0)
                        return r;
        }
        if (streq(service.active, "failed"))
                return add(d, DOCTOR_ERROR, "fwguardd-failed",
                           "systemd gave up on fwguardd: nothing guards changes, and a pending trial is not rolled back",
                           "journalctl -u fwguardd.service -n 50; systemctl restart fwguardd.service",
                           "fwguardd.service failed (%s) after %u restart%s", service.result, service.n_restarts,
                           service.n_restarts == 1 ? "" : "s");
        if (service.n_restarts > 0)
                return add(d, DOCTOR_INFO, "fwguardd-restarted",
                           "each restart recovers the pending trial from the state directory, but repeated ones "
                           "point at a bug or a hang (the watchdog restarts a daemon that stops answering)",
                           "journalctl -u fwguardd.service -n 50",
                           "systemd restarted fwguardd %u time%s (last result: %s)", service.n_restarts,
                           service.n_restarts == 1 ? "" : "s", service.result);
        return 0;
}

/* The state letter of /proc/PID/stat ('R', 'S', 'T' for stopped...), 0 if unknown. */
static char process_state(pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], buf[512];
        const char *paren;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f || !fgets(buf, sizeof(buf), f))
                return 0;
        paren = strrchr(buf, ')');
        return paren && paren[1] == ' ' ? paren[2] : 0;
}

/* A trial record that no daemon answers for. */
static int check_orphan_trial(Doctor *d, const char *start) {
        _cleanup_(trial_freep) Trial *t = NULL;
        char err[512] = "", when[64] = "";
        time_t sec;
        struct tm tm;
        int r;

        r = trial_peek(d->cfg->state_dir, &t, err, sizeof(err));
        if (r == -ENOMEM)
                return r;
        if (r == -EACCES)
                return 0;
        if (r < 0)
                return add(d, DOCTOR_WARNING, "trial-record-damaged",
                           "fwguardd refuses to start over a damaged record: nothing would guard changes",
                           "fwguardd --state-dir STATE_DIR   (prints what it cannot read)",
                           "the trial record in %s cannot be read: %s", d->cfg->state_dir, err);
        if (!t)
                return 0;
        sec = (time_t) (t->deadline_realtime_usec / 1000000);
        if (localtime_r(&sec, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
        return add(d, DOCTOR_ERROR, "trial-pending-no-daemon",
                   "nothing rolls the change back while no fwguardd runs; once it starts, it rolls back a trial "
                   "past its deadline at once and re-arms one that is not",
                   start, "trial %llu is %s with a deadline of %s, and no fwguardd looks after it",
                   (unsigned long long) t->id, trial_state_to_string(t->state), when);
}

/* @s with its lines joined by "; ": a finding's what is one line. */
static char *one_line(const char *s) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        if (!f)
                return NULL;
        for (; *s; s++)
                if (*s != '\n')
                        fputc(*s, f);
                else if (s[1])
                        fputs("; ", f);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

int doctor_check_daemon(Doctor *d, const DoctorDaemon *st) {
        _cleanup_free_ char *start = NULL, *summary = NULL;
        char when[64] = "";
        int64_t left;
        int r;

        if (d->bus) {
                r = check_unit(d);
                if (r < 0)
                        return r;
        }
        start = d->bus ? strdup("systemctl restart fwguardd.service") : strdup("fwguardd &");
        if (!start)
                return -ENOMEM;

        if (st->error == -ENOENT || st->error == -ECONNREFUSED) {
                r = add(d, DOCTOR_ERROR, "fwguardd-not-running",
                        "without it, `fwguard apply` and `fwguard run` cannot work, nothing rolls back an "
                        "unconfirmed change, and changes made outside fwguard are not watched",
                        start, "fwguardd is not running (nothing listens on %s/bus)", st->runtime_dir);
                return r < 0 ? r : check_orphan_trial(d, start);
        }
        if (st->error < 0) {
                _cleanup_free_ char *fix = NULL;
                char state = st->pid > 1 ? process_state(st->pid) : 0, pid[32] = "";

                /* Without systemd: wake a stopped daemon; kill a hung one
                 * (SIGTERM waits for the loop it is stuck outside of), and
                 * start it again: recovery picks the trial up. */
                fix = d->bus ? strdup(start) : state == 'T' ? strf("kill -CONT %d", (int) st->pid) :
                      st->pid > 1 ? strf("kill -KILL %d; fwguardd &", (int) st->pid) : strdup(start);
                if (!fix)
                        return -ENOMEM;
                if (st->pid > 1)
                        snprintf(pid, sizeof(pid), " (pid %d)", (int) st->pid);
                r = add(d, DOCTOR_ERROR, "fwguardd-unhealthy",
                        "a daemon that does not answer cannot take changes, and may not roll back a pending "
                        "trial at its deadline",
                        fix, "fwguardd%s does not answer on %s/bus: %s", pid, st->runtime_dir,
                        st->error != -ETIMEDOUT ? strerror(-st->error) :
                        state == 'T' ? "no answer in time, it is stopped (SIGSTOP)" : "no answer in time, it hangs");
                return r < 0 ? r : check_orphan_trial(d, start);
        }
        if (streq(st->state, "idle") || streq(st->state, "preparing"))
                return 0;

        {
                time_t sec = (time_t) (st->deadline_realtime_usec / 1000000);
                struct tm tm;

                if (localtime_r(&sec, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
        }
        left = (int64_t) st->deadline_realtime_usec - (int64_t) now_usec(CLOCK_REALTIME);
        if (streq(st->state, "armed") && left < -(int64_t) DEADMAN_LATE_USEC) {
                r = add(d, DOCTOR_ERROR, "fwguardd-unhealthy",
                        "the dead-man should have rolled the trial back at its deadline: the change it was "
                        "protecting you from stays live",
                        "fwguard rollback", "trial %llu is still armed %lld s after its deadline (%s)",
                        (unsigned long long) st->trial_id, (long long) (-left / 1000000), when);
                if (r < 0)
                        return r;
        }
        summary = one_line(st->summary && *st->summary ? st->summary : "no summary");
        if (!summary)
                return -ENOMEM;
        return add(d, DOCTOR_WARNING, "trial-pending",
                   "the change is live on trial: unless a NEW ssh login confirms it, it is rolled back at the "
                   "deadline. Confirming from this session does not count",
                   "ssh HOST fwguard confirm   (from a NEW connection; or undo it now: fwguard rollback)",
                   "trial %llu is %s, deadline %s (%s%lld s): %s", (unsigned long long) st->trial_id, st->state,
                   when, left >= 0 ? "in " : "passed ", (long long) ((left >= 0 ? left : -left) / 1000000),
                   summary);
}

/* ------------------------------------------------------------------ other rulesets */

typedef struct Loader {
        const char *unit;
        const char *id;
        const char *daemon;     /* the comm of its process, to see it run without systemd; NULL: a oneshot */
        const char *loads;      /* what it does to the ruleset */
        const char *why;        /* how that meets fwguard */
        const char *fix;        /* how to work with both */
} Loader;

static const Loader loaders[] = {
        { "nftables.service", "service-nftables", NULL,
          "nftables.service loads /etc/nftables.conf (`nft -f`) at boot, and again at `systemctl reload` or "
          "`restart nftables`",
          "that load is not a trial: no pre-flight, no rollback. Debian's /etc/nftables.conf begins with "
          "`flush ruleset`, which deletes every table, fwguard's guards and other tools' tables (docker, "
          "fail2ban) included. At boot and after a restart, fwguard-persist.service loads the confirmed "
          "applies after it, guarded (a table both define ends as the last confirmed apply made it); after a "
          "reload nothing does. Change the file as a trial instead of reloading it",
          "fwguard apply /etc/nftables.conf" },
        { "ufw.service", "service-ufw", NULL,
          "ufw is enabled: ufw.service loads the rules in /etc/ufw at boot, and every `ufw` command changes "
          "the live ruleset at once",
          "a raw `ufw` command is not a trial: `ufw enable` without `ufw allow 22/tcp` locks new logins out "
          "at once. The same command through fwguard is a guarded trial",
          "fwguard ufw ARGS...   (for example: fwguard ufw enable)" },
        { "firewalld.service", "service-firewalld", "firewalld",
          "firewalld builds its table inet firewalld at start and again at every `firewall-cmd --reload`",
          "its changes are not trials, and `fwguard run` cannot wrap firewall-cmd (it asks the running "
          "firewalld over D-Bus). Keep ssh in the zone, and check after each reload",
          "firewall-cmd --reload && fwguard check --live" },
        { "netfilter-persistent.service", "service-netfilter-persistent", NULL,
          "netfilter-persistent loads /etc/iptables/rules.v4 and rules.v6 (iptables-restore) at boot",
          "what is saved there comes back at the next boot whether or not a trial confirmed it. Make changes "
          "as trials, and save them only once confirmed",
          "fwguard run -- iptables ...; fwguard confirm (from a new login); netfilter-persistent save" },
        { "docker.service", "service-docker", "dockerd",
          "dockerd writes its chains (DOCKER, DOCKER-USER, DOCKER-ISOLATION-*) into the ip filter and nat "
          "tables at start and for every container",
          "docker changes those tables all the time, outside fwguard; a change that would delete them is "
          "refused without --allow-delete. Published container ports are DNATed before the input chain, so "
          "input rules do not filter them: filter them in DOCKER-USER",
          NULL },
};

typedef struct ProcessFind {
        const char *comm;
        bool found;
} ProcessFind;

static int find_comm(pid_t pid, void *userdata) {
        ProcessFind *f = userdata;
        char path[64], comm[64] = "";
        FILE *file;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        file = fopen(path, "re");
        if (!file)
                return 0;
        if (fgets(comm, sizeof(comm), file))
                comm[strcspn(comm, "\n")] = '\0';
        fclose(file);
        f->found = streq(comm, f->comm);
        return f->found ? -EEXIST : 0;  /* stop at the first */
}

/* Does /etc/ufw/ufw.conf say ENABLED=yes? ufw.service is enabled on Debian
 * whether or not ufw is; ufw-init loads nothing without it. */
static bool ufw_enabled(void) {
        _cleanup_fclose_ FILE *f = fopen("/etc/ufw/ufw.conf", "re");
        char line[256];
        bool yes = false;

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "ENABLED=", 8) == 0)
                        yes = strncmp(line + 8, "yes", 3) == 0;
        return yes;
}

static bool nft_name(const char *s) {
        return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(s);
}

/* Does /etc/nftables.conf begin with `flush ruleset`? Then @repl gets what
 * can take its place, for sed: "table F N\ndelete table F N" for each table
 * the file defines (the first line makes the table if it is absent, so the
 * second never fails), "" if a table line is beyond us. */
static bool nftables_conf_flushes(char *repl, size_t len) {
        static const char *const families[] = { "ip", "ip6", "inet", "arp", "bridge", "netdev" };
        _cleanup_fclose_ FILE *f = fopen("/etc/nftables.conf", "re");
        char line[1024];
        bool flush = false, ok = true;
        size_t used = 0;

        repl[0] = '\0';
        while (f && fgets(line, sizeof(line), f)) {
                char family[32] = "", name[64] = "";
                const char *s = line + strspn(line, " \t");
                bool known = false;

                if (strncmp(s, "flush ruleset", 13) == 0)
                        flush = true;
                if (strncmp(s, "table ", 6) != 0)
                        continue;
                if (sscanf(s + 6, "%31s %63[^ \t{\n]", family, name) < 1)
                        ok = false;
                for (size_t i = 0; i < ELEMENTSOF(families); i++)
                        known |= streq(family, families[i]);
                if (!known) {   /* "table filter {": the ip family */
                        snprintf(name, sizeof(name), "%s", family);
                        snprintf(family, sizeof(family), "ip");
                }
                name[strcspn(name, "{")] = '\0';
                ok = ok && nft_name(name);
                if (ok)
                        used += (size_t) snprintf(repl + used, used < len ? len - used : 0,
                                                  "%stable %s %s\\ndelete table %s %s", used ? "\\n" : "",
                                                  family, name, family, name);
        }
        if (!ok || used == 0 || used >= len)
                repl[0] = '\0';
        return flush;
}

int doctor_check_services(Doctor *d) {
        _cleanup_free_ char *fix = NULL;
        char repl[1024];
        bool nftables_boot = false;
        const char *others[ELEMENTSOF(loaders)];
        size_t n_others = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(loaders); i++) {
                const Loader *l = &loaders[i];
                _cleanup_free_ char *why = NULL;
                char err[512] = "", state[96];
                ProcessFind pf = { .comm = l->daemon };
                UnitState st;
                bool running;

                r = unitstate_get(d->bus, l->unit, &st, err, sizeof(err));
                if (r < 0) {
                        r = add(d, DOCTOR_WARNING, "services-not-checked", WHY_UNCHECKED, NULL,
                                "cannot ask systemd: %s", err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (st.live)
                        running = streq(st.active, "active") || streq(st.active, "reloading");
                else if (l->daemon)
                        running = each_process(find_comm, &pf) == -EEXIST;
                else
                        running = false;
                if (streq(l->unit, "ufw.service") ? !ufw_enabled() : !st.enabled && !running)
                        continue;
                snprintf(state, sizeof(state), "%s%s%s%s", st.enabled ? "enabled at boot" : "",
                         st.enabled && running ? ", " : "", running ? "running" : "",
                         !st.enabled && !running ? "enabled in /etc/ufw/ufw.conf" : "");
                why = strf("%s. %s", l->loads, l->why);
                if (!why)
                        return -ENOMEM;
                r = add(d, DOCTOR_INFO, l->id, why, l->fix, "%s is %s", l->unit, state);
                if (r < 0)
                        return r;
                if (streq(l->unit, "nftables.service"))
                        nftables_boot = st.enabled;
                else
                        others[n_others++] = l->unit;
        }
        if (!nftables_boot || n_others == 0 || !nftables_conf_flushes(repl, sizeof(repl)))
                return 0;
        fix = repl[0] ? strf("sed -i 's/^[[:space:]]*flush ruleset.*$/%s/' /etc/nftables.conf", repl)
                      : strdup("in /etc/nftables.conf, replace `flush ruleset` by a `table F N` and a "
                               "`delete table F N` line for each table the file defines");
        if (!fix)
                return -ENOMEM;
        return add(d, DOCTOR_WARNING, "boot-flush-ruleset",
                   "at boot the two race: if nftables.service runs after the others, `flush ruleset` deletes "
                   "their tables (and fwguard's guards); and any `systemctl reload nftables` deletes them. "
                   "Deleting only the file's own tables keeps both",
                   fix,
                   "nftables.service loads /etc/nftables.conf, which starts with `flush ruleset`, at boot, and %s%s "
                   "load%s rules of %s own", others[0], n_others > 1 ? " and others" : "",
                   n_others > 1 ? "" : "s", n_others > 1 ? "their" : "its");
}

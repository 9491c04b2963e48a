/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.c — the guard monitor: changes that other writers make to the ruleset
 *
 * fwguard guards what it commits, but raw nft, ufw, iptables, docker and
 * scripts write the ruleset too. The monitor listens to the kernel's
 * nftables events (NFNLGRP_NFTABLES) and, after a commit of another writer:
 *
 *   - puts back, at once, a guard that it removed from a base chain that
 *     still exists. The kernel's own DELRULE event says which chain held
 *     that guard rule, so "where fwguard put a guard" needs no bookkeeping:
 *     any base chain that held a guard (a rule built exactly as lib/guard
 *     builds one, for any port) just before that commit. The chain is
 *     read alone and fixed by a batch of single rules (lib/reguard),
 *     conditioned on the generation of that commit, so no third writer's
 *     change is ever overwritten unseen;
 *   - checks, a moment later (a burst such as `ufw enable` is many commits),
 *     the live ruleset with the same pre-flight as `fwguard check --live`,
 *     in a thread (daemon/job.c: the sandbox takes a second); where SSH is
 *     blocked, exactly the base chains that block it get the guard. Tables
 *     that do not block SSH, a fail2ban table among them, stay as they are,
 *     so their bans keep working.
 *
 * fwguard's own commits are not the monitor's business: every event of a
 * batch carries the netlink port id of the socket that committed it, and
 * fwguardd commits (apply, rollback, the monitor's own guards) through one
 * socket, m->nl. The second dead-man is fwguard too, in another process: a
 * guard that the pending trial's rollback removed must stay removed, so
 * while that trial is being ended elsewhere (the state directory's lock is
 * taken, or the record no longer says it is armed), guards removed from its
 * tables are left out.
 *
 * The process that committed (NFTA_GEN_PROC_PID, the committing thread in
 * the host's pid namespace, and NFTA_GEN_PROC_NAME) is logged as a hint
 * only: a process names itself, and may be gone.
 *
 * Lost events (ENOBUFS) lose the DELRULE that says where a guard was: the
 * monitor keeps the chains that held a guard (from the first check's dump,
 * then from events), reads the ruleset again, puts the guard back where it
 * is missing, and checks again.
 *
 * When sshd's units are restarted (systemd's JobRemoved for ssh.service,
 * sshd.service or ssh.socket, when a system bus is there), the check runs
 * too. Each check finds the SSH ports again; when they changed, every chain
 * holding a guard gets the guard for the new ports instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "manager.h"
#include "monitor.h"
#include "reguard.h"

/* Events a burst may queue before the kernel drops them: a rule event is
 * up to a few hundred bytes, so this holds thousands. */
#define EVENTS_RCVBUF (4 * 1024 * 1024)
/* The check waits for a burst to end (a quiet moment), but not longer. */
#define CHECK_QUIET_USEC (100 * 1000)
#define CHECK_DELAY_MAX_USEC (500 * 1000)
/* Who changed the ruleset, as many as a log line names. */
#define WRITERS_MAX 4

typedef struct Writer {
        uint32_t pid;
        char name[32];
} Writer;

typedef struct Writers {
        Writer items[WRITERS_MAX];
        size_t n;
        unsigned more;
} Writers;

struct Monitor {
        Manager *manager;
        Nl *events;
        sd_event_source *io;
        sd_bus *system_bus;             /* systemd's jobs for sshd's units; NULL without a bus */

        bool mid_batch;                 /* events of a batch were read, its NEWGEN not yet */
        uint32_t genid;                 /* after the last whole batch; 0 until one was seen */
        ChainRefs lost;                 /* base chains whose guard another writer removed */
        Writers lost_by;
        ChainRefs sites;                /* base chains that hold a guard, for lost events */

        uint16_t *ports;                /* the SSH ports of the last check */
        size_t n_ports;
        bool ports_known;

        sd_event_source *timer;         /* the check, once a burst is over */
        uint64_t pending_since;         /* CLOCK_MONOTONIC µs of the first unchecked change; 0: none */
        Writers changed_by;             /* since the last check began */
        Writers checking;               /* those of the check that runs */
        Job *job;                       /* the check that runs */
        bool again;                     /* changes came in meanwhile: check again after it */
};

static void writers_add(Writers *w, uint32_t pid, const char *name) {
        for (size_t i = 0; i < w->n; i++)
                if (w->items[i].pid == pid && streq(w->items[i].name, name))
                        return;
        if (w->n == WRITERS_MAX) {
                w->more++;
                return;
        }
        w->items[w->n].pid = pid;
        snprintf(w->items[w->n].name, sizeof(w->items[w->n].name), "%s", name);
        w->n++;
}

/* "pid 123 \"nft\", pid 456 \"ufw\" and 2 more", or @none. */
static const char *writers_text(const Writers *w, const char *none, char *buf, size_t len) {
        size_t used = 0;

        snprintf(buf, len, "%s", none);
        for (size_t i = 0; i < w->n && used < len; i++)
                used += (size_t) snprintf(buf + used, len - used, "%spid %" PRIu32 " \"%s\"",
                                          i == 0 ? "" : i + 1 == w->n && !w->more ? " and " : ", ",
                                          w->items[i].pid, w->items[i].name);
        if (w->more && used < len)
                snprintf(buf + used, len - used, " and %u more", w->more);
        return buf;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_table *, nftnl_table_free);

#define WHO_HINT "(a hint only: the kernel names the committing thread, and a process chooses its own name)"

Monitor *monitor_free(Monitor *mon) {
        if (!mon)
                return NULL;
        job_free(mon->job);
        sd_event_source_disable_unref(mon->io);
        sd_event_source_disable_unref(mon->timer);
        sd_bus_flush_close_unref(mon->system_bus);
        nl_free(mon->events);
        chain_refs_clear(&mon->lost);
        chain_refs_clear(&mon->sites);
        free(mon->ports);
        free(mon);
        return NULL;
}

static const char *chain_text(const ChainRef *c, char *buf, size_t len) {
        snprintf(buf, len, "%s %s %s", family_name(c->family), c->table, c->chain);
        return buf;
}

/* ------------------------------------------------------------------ the check */

static void check_start(Monitor *mon);

static void check_schedule(Monitor *mon) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (!mon->pending_since)
                mon->pending_since = now;
        (void) sd_event_source_set_time(mon->timer, MIN(now + CHECK_QUIET_USEC,
                                                         mon->pending_since + CHECK_DELAY_MAX_USEC));
        (void) sd_event_source_set_enabled(mon->timer, SD_EVENT_ONESHOT);
}

static int on_check_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        check_start(userdata);
        return 0;
}

static bool same_ports(const uint16_t *a, size_t na, const SshPort *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (a[i] != b[i].port)  /* both sorted */
                        return false;
        return true;
}

static const char *ports_text(const uint16_t *p, size_t n, char *buf, size_t len) {
        size_t used = 0;

        buf[0] = 0;
        for (size_t i = 0; i < n && used < len; i++)
                used += (size_t) snprintf(buf + used, len - used, "%s%u", i ? ", " : "", p[i]);
        return buf;
}

static int ports_take(Monitor *mon, const SshPort *p, size_t n) {
        uint16_t *ports = calloc(MAX(n, (size_t) 1), sizeof(uint16_t));

        if (!ports)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                ports[i] = p[i].port;
        free(mon->ports);
        mon->ports = ports;
        mon->n_ports = n;
        mon->ports_known = true;
        return 0;
}

static GuardSources monitor_sources(Monitor *mon) {
        return (GuardSources) { .items = mon->manager->config->sources.items,
                                .n = mon->manager->config->sources.n };
}

/* What blocks SSH in @v, in the words of the probe: the first blocked port. */
static const char *blocker_text(const PreflightVerdict *v) {
        for (size_t i = 0; i < v->n_results; i++)
                for (size_t j = 0; j < v->results[i].n_ports; j++)
                        if (!v->results[i].ports[j].ok)
                                return v->results[i].ports[j].message;
        return "unexplained";
}

static void restore_lost(Monitor *mon);

static void check_done(Job *job, const JobResult *res, void *userdata) {
        Monitor *mon = userdata;
        _cleanup_(chain_refs_clear) ChainRefs chains = {}, done = {};
        GuardSources src = monitor_sources(mon);
        const Preflight *p;
        char err[512] = "", who[256], old_ports[128] = "", buf[512];
        bool moved;
        int r;

        mon->job = NULL;
        if (res->error < 0) {
                log_warning("the guard monitor cannot check the live ruleset: %s",
                            res->errors ?: strerror(-res->error));
                goto next;
        }
        p = res->check->preflight;
        moved = mon->ports_known && !same_ports(mon->ports, mon->n_ports, res->check->ports, res->check->n_ports);
        ports_text(mon->ports, mon->n_ports, old_ports, sizeof(old_ports));
        /* The first check's dump is where the guards were before any event;
         * events keep that up to date. */
        if ((!mon->ports_known && reguard_sites(res->s0, &mon->sites) < 0) ||
            ports_take(mon, res->check->ports, res->check->n_ports) < 0) {
                log_error("the guard monitor: out of memory");
                goto next;
        }
        /* Where the guard is, it must be for the ports sshd uses now. */
        r = moved ? reguard_sites(res->s0, &chains) : 0;
        for (size_t i = 0; r >= 0 && i < p->extra_chains.n; i++)
                r = chain_refs_add(&chains, p->extra_chains.items[i].family, p->extra_chains.items[i].table,
                                   p->extra_chains.items[i].chain);
        if (r >= 0 && chains.n > 0)
                r = reguard_chains(mon->manager->nl,
                                   &(ReguardRequest) { .chains = &chains, .ports = mon->ports,
                                                       .n_ports = mon->n_ports, .sources = &src,
                                                       .genid = res->s0->genid },
                                   &done, err, sizeof(err));
        if (r == -ERESTART) {
                /* The ruleset moved while the check ran: a verdict about
                 * the one before proves nothing now. */
                mon->again = true;
                goto next;
        }
        if (r < 0) {
                log_event(LOG_ERR, LOG_ID_SSH_BLOCKED, 0, "the guard monitor cannot guard %zu chain(s): %s",
                          chains.n, *err ? err : strerror(-r));
                goto next;
        }
        if (moved)
                log_event(LOG_NOTICE, LOG_ID_GUARD_RESTORED, 0,
                          "the SSH ports changed from %s to %s: the guards now accept the new ones",
                          old_ports, ports_text(mon->ports, mon->n_ports, buf, sizeof(buf)));
        writers_text(&mon->checking, "no commit since fwguardd started (or one whose events were lost)",
                     who, sizeof(who));
        for (size_t i = 0; i < done.n; i++) {
                bool blocked = false;

                for (size_t j = 0; j < p->extra_chains.n && !blocked; j++)
                        blocked = p->extra_chains.items[j].family == done.items[i].family &&
                                  streq(p->extra_chains.items[j].table, done.items[i].table) &&
                                  streq(p->extra_chains.items[j].chain, done.items[i].chain);
                if (blocked)
                        log_event(LOG_WARNING, LOG_ID_SSH_BLOCKED, 0,
                                  "SSH WAS BLOCKED by a change made outside fwguard (%s): the SSH guard was put "
                                  "at the head of chain %s. Changed by %s " WHO_HINT ".",
                                  blocker_text(&p->as_written), chain_text(&done.items[i], buf, sizeof(buf)), who);
        }
        if (!p->with_guard.reachable)
                log_event(LOG_CRIT, LOG_ID_SSH_UNFIXABLE, 0,
                          "SSH IS BLOCKED and the guard cannot help (%s); changed by %s " WHO_HINT ". "
                          "Run `fwguard check --live` to see why.", blocker_text(&p->with_guard), who);
next:
        mon->checking = (Writers) {};
        /* Guards that waited for the first ports. */
        restore_lost(mon);
        if (mon->again) {
                mon->again = false;
                check_schedule(mon);
        }
}

static void check_start(Monitor *mon) {
        Manager *m = mon->manager;
        JobRequest req = { .kind = JOB_LIVE, .fd = -1, .probe = true, .config = m->config };
        int r;

        if (mon->job) {
                mon->again = true;
                return;
        }
        mon->pending_since = 0;
        mon->checking = mon->changed_by;
        mon->changed_by = (Writers) {};
        r = job_start(m->event, &req, check_done, mon, &mon->job);
        if (r < 0)
                log_error("the guard monitor cannot check the live ruleset: %s", strerror(-r));
}

/* ------------------------------------------------------------------ removed guards */

/* Is the pending trial being ended by another process (the second
 * dead-man), whose rollback removes the guard from the trial's tables? */
static bool trial_ending_elsewhere(Monitor *mon) {
        Manager *m = mon->manager;
        _cleanup_(trial_freep) Trial *disk = NULL;
        _cleanup_close_ int lock = -1;
        char err[256];

        if (!m->trial)
                return false;
        if (trial_lock(m->state_dir, 0, &lock) == -EBUSY)
                return true;
        return trial_peek(m->state_dir, &disk, err, sizeof(err)) < 0 || !disk || disk->id != m->trial->id ||
               disk->state != TRIAL_ARMED;
}

static void restore_lost(Monitor *mon) {
        Manager *m = mon->manager;
        _cleanup_(chain_refs_clear) ChainRefs done = {};
        GuardSources src = monitor_sources(mon);
        char err[512] = "", who[256], buf[512];
        int r;

        /* Which guard, and what else changed, are known only at a batch's
         * end; and the ports only after the first check. */
        if (mon->lost.n == 0 || mon->mid_batch || !mon->ports_known || mon->genid == 0)
                return;
        if (trial_ending_elsewhere(mon))
                for (size_t i = 0; i < m->trial->n_touched; i++)
                        chain_refs_remove(&mon->lost, m->trial->touched[i].family, m->trial->touched[i].name, NULL);
        r = reguard_chains(m->nl,
                           &(ReguardRequest) { .chains = &mon->lost, .ports = mon->ports, .n_ports = mon->n_ports,
                                               .sources = &src, .genid = mon->genid },
                           &done, err, sizeof(err));
        if (r == -ERESTART)
                return;         /* a later batch is on its way: after it */
        writers_text(&mon->lost_by, "a writer whose events were lost", who, sizeof(who));
        if (r < 0)
                log_event(LOG_ERR, LOG_ID_GUARD_RESTORED, 0, "the SSH guard that %s removed cannot be put back: %s",
                          who, *err ? err : strerror(-r));
        for (size_t i = 0; i < done.n; i++)
                log_event(LOG_WARNING, LOG_ID_GUARD_RESTORED, 0,
                          "the SSH guard was put back at the head of chain %s: %s removed it " WHO_HINT,
                          chain_text(&done.items[i], buf, sizeof(buf)), who);
        chain_refs_clear(&mon->lost);
        mon->lost_by = (Writers) {};
}

/* Lost events: where a guard was is known only from before. */
static void resync(Monitor *mon) {
        _cleanup_(ruleset_freep) Ruleset *live = NULL;
        int r;

        log_warning("the guard monitor lost nftables events (its receive buffer overflowed): "
                    "reading the ruleset again");
        r = ruleset_dump(mon->manager->nl, &live);
        if (r < 0) {
                log_error("the guard monitor cannot read the ruleset: %s", strerror(-r));
                return;
        }
        for (size_t i = 0; r >= 0 && i < mon->sites.n; i++)
                r = chain_refs_add(&mon->lost, mon->sites.items[i].family, mon->sites.items[i].table,
                                   mon->sites.items[i].chain);
        chain_refs_clear(&mon->sites);
        if (r >= 0)
                r = reguard_sites(live, &mon->sites);
        if (r < 0)
                log_error("the guard monitor: out of memory");
        mon->genid = live->genid;
        mon->mid_batch = false;
        check_schedule(mon);
}

/* ------------------------------------------------------------------ events */

static void on_newgen(Monitor *mon, const struct nlmsghdr *nlh, bool own) {
        const struct nlattr *a;
        uint32_t pid = 0;
        const char *name = "?";

        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
                switch (mnl_attr_get_type(a)) {
                case NFTA_GEN_ID:
                        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                                mon->genid = ntohl(mnl_attr_get_u32(a));
                        break;
                case NFTA_GEN_PROC_PID:
                        if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                                pid = ntohl(mnl_attr_get_u32(a));
                        break;
                case NFTA_GEN_PROC_NAME:
                        if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                                name = mnl_attr_get_str(a);
                        break;
                }
        }
        mon->mid_batch = false;
        if (own)
                return;
        writers_add(&mon->changed_by, pid, name);
        if (mon->lost.n > 0)
                writers_add(&mon->lost_by, pid, name);
        check_schedule(mon);
}

static int on_rule(Monitor *mon, const struct nlmsghdr *nlh, bool deleted, bool own) {
        _cleanup_(nftnl_rule_freep) struct nftnl_rule *rule = nftnl_rule_alloc();
        uint32_t family;
        const char *table, *chain;

        if (!rule)
                return -ENOMEM;
        if (nftnl_rule_nlmsg_parse(nlh, rule) < 0 || !guard_rule_is_guard(rule, NULL, 0))
                return 0;
        family = nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY);
        table = nftnl_rule_get_str(rule, NFTNL_RULE_TABLE);
        chain = nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
        if (!table || !chain)
                return 0;
        if (!deleted)
                return chain_refs_add(&mon->sites, family, table, chain);
        if (!own)
                return chain_refs_add(&mon->lost, family, table, chain);
        chain_refs_remove(&mon->sites, family, table, chain);
        return 0;
}

static int on_delchain(Monitor *mon, const struct nlmsghdr *nlh) {
        _cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();

        if (!c)
                return -ENOMEM;
        if (nftnl_chain_nlmsg_parse(nlh, c) >= 0 && nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE) &&
            nftnl_chain_is_set(c, NFTNL_CHAIN_NAME))
                chain_refs_remove(&mon->sites, nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY),
                                  nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
        return 0;
}

static int on_deltable(Monitor *mon, const struct nlmsghdr *nlh) {
        _cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();

        if (!t)
                return -ENOMEM;
        if (nftnl_table_nlmsg_parse(nlh, t) >= 0 && nftnl_table_is_set(t, NFTNL_TABLE_NAME))
                chain_refs_remove(&mon->sites, nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
                                  nftnl_table_get_str(t, NFTNL_TABLE_NAME), NULL);
        return 0;
}

static int on_event(const struct nlmsghdr *nlh, void *userdata) {
        Monitor *mon = userdata;
        /* The port id that the kernel stamps on every event of a batch. */
        bool own = nlh->nlmsg_pid == nl_portid(mon->manager->nl);

        if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
                return 0;
        switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
        case NFT_MSG_NEWGEN:
                on_newgen(mon, nlh, own);
                return 0;
        case NFT_MSG_NEWRULE:
        case NFT_MSG_DELRULE:
                mon->mid_batch = true;
                return on_rule(mon, nlh, NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_DELRULE, own);
        case NFT_MSG_DELCHAIN:
                mon->mid_batch = true;
                return on_delchain(mon, nlh);
        case NFT_MSG_DELTABLE:
                mon->mid_batch = true;
                return on_deltable(mon, nlh);
        default:
                mon->mid_batch = true;
                return 0;
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Monitor *mon = userdata;
        int r;

        r = nl_events_read(mon->events, on_event, mon);
        if (r == -ENOBUFS)
                resync(mon);
        else if (r < 0)
                log_error("the guard monitor cannot read nftables events: %s", strerror(-r));
        restore_lost(mon);
        return 0;
}

void monitor_catch_up(Monitor *mon) {
        if (mon)
                (void) on_io(NULL, -1, 0, mon);
}

/* ------------------------------------------------------------------ sshd's units */

static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Monitor *mon = userdata;
        const char *unit = NULL, *result = NULL;
        uint32_t id;
        const char *job;

        if (sd_bus_message_read(msg, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (!streq(unit, "ssh.service") && !streq(unit, "sshd.service") && !streq(unit, "ssh.socket"))
                return 0;
        log_info("%s: a job ended (%s): the guard monitor looks up the SSH ports again", unit, result);
        check_schedule(mon);
        return 0;
}

/* Only where the daemon can reach systemd: nowhere else can sshd's units
 * restart. A restart there without a ruleset change is then seen at the
 * next change only. */
static void watch_sshd(Monitor *mon) {
        int r;

        r = sd_bus_open_system(&mon->system_bus);
        if (r >= 0)
                r = sd_bus_attach_event(mon->system_bus, mon->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal_async(mon->system_bus, NULL, "org.freedesktop.systemd1",
                                              "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                              "JobRemoved", on_job_removed, NULL, mon);
        /* systemd sends JobRemoved only while someone subscribed. */
        if (r >= 0)
                r = sd_bus_call_method_async(mon->system_bus, NULL, "org.freedesktop.systemd1",
                                             "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                             "Subscribe", NULL, NULL, "");
        if (r < 0) {
                log_info("no system bus (%s): a restart of sshd is noticed at the next ruleset change",
                         strerror(-r));
                mon->system_bus = sd_bus_flush_close_unref(mon->system_bus);
        }
}

int monitor_new(Manager *m, Monitor **ret) {
        _cleanup_(monitor_freep) Monitor *mon = NULL;
        int r;

        *ret = NULL;
        if (!m->config->monitor_enabled) {
                log_info("the guard monitor is off ([monitor] enabled = no)");
                return 0;
        }
        mon = calloc(1, sizeof(*mon));
        if (!mon)
                return -ENOMEM;
        mon->manager = m;
#if FWGUARD_TEST_POINTS
        /* Tests make the kernel drop events with a tiny buffer. */
        const char *rcvbuf = getenv("FWGUARDD_TEST_MONITOR_RCVBUF");
        r = nl_open_events(rcvbuf ? strtoul(rcvbuf, NULL, 10) : EVENTS_RCVBUF, &mon->events);
#else
        r = nl_open_events(EVENTS_RCVBUF, &mon->events);
#endif
        if (r < 0) {
                log_error("the guard monitor cannot listen to nftables events: %s", strerror(-r));
                return r;
        }
        r = sd_event_add_io(m->event, &mon->io, nl_fd(mon->events), EPOLLIN, on_io, mon);
        if (r >= 0)
                r = sd_event_add_time(m->event, &mon->timer, CLOCK_MONOTONIC, 0, CHECK_QUIET_USEC / 10,
                                      on_check_timer, mon);
        if (r >= 0)
                r = sd_event_source_set_enabled(mon->timer, SD_EVENT_OFF);
        if (r < 0) {
                log_error("the guard monitor cannot watch its socket: %s", strerror(-r));
                return r;
        }
        watch_sshd(mon);
        /* Whatever changed while no monitor ran, and the ports. */
        check_start(mon);
        *ret = TAKE_PTR(mon);
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager.c — fwguardd's Manager: event loop, private bus, per-method authorization
 *
 * There is no message bus in the picture: the daemon listens on its own unix
 * socket, RUNTIME_DIR/bus, and every accepted connection becomes a direct
 * sd-bus server connection. A direct connection has no bus names, so callers
 * address the object path only (busctl accepts any destination there), and
 * there is no bus daemon to tell us who is calling: the peer's credentials
 * come from SO_PEERCRED, which sd-bus hands out through
 * sd_bus_query_sender_creds() when a message carries no sender.
 *
 * Who may call what is one table, method_access[] in methods.c, checked in
 * one filter that runs before any method handler: a method of our interface
 * that the table does not list is refused, so a new method is closed until
 * its line is written. The socket itself is open to every local user (0666)
 * because Status is for anyone; the table, not the file mode, is the
 * boundary.
 *
 * The pending trial lives in memory (m->trial) from its commit to its end;
 * every step that changes it opens the state directory under its lock, so
 * that the record on disk changes before the kernel does. The record, not
 * the copy in memory, is the truth: the second dead-man (`fwguard deadman`,
 * run by systemd) may end the trial while fwguardd hangs, so every step
 * first compares the two under the lock (manager_sync()) and gives up a
 * trial that another process ended, saying so.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "deadman-units.h"
#include "log.h"
#include "manager.h"

/* Rollback and confirm wait this long for the second dead-man to finish a
 * transition before they give up. */
#define STORE_LOCK_TIMEOUT_USEC (5 * 1000 * 1000)
/* The sockets are open to every local user: without a cap, one of them could
 * use up our fds, and accept() failing with EMFILE would spin the loop. */
#define CONNECTIONS_MAX 64
/* How often STATUS= counts down while a trial is armed (never when idle). */
#define STATUS_TICK_USEC (5 * 1000 * 1000)
/* The dead-man may fire this late: the rollback delay goal is well under 1 s. */
#define DEADLINE_ACCURACY_USEC 1000

struct Connection {
        Manager *manager;
        sd_bus *bus;
        Connection *prev, *next;
};

static Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        if (c->prev)
                c->prev->next = c->next;
        else if (c->manager->connections == c)
                c->manager->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->manager->n_connections--;
        /* No flush: a client that stops reading must not stall us. */
        sd_bus_close_unref(c->bus);
        free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Connection *, connection_free);

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* A job's callback may not run any more: its thread is joined and
         * the call it would have answered is dropped with the connection. */
        monitor_free(m->monitor);
        job_free(m->apply);
        sd_bus_message_unref(m->apply_msg);
        manager_reports_free(m);
        while (m->connections)
                connection_free(m->connections);
        sd_event_source_disable_unref(m->listen_source);
        sd_event_source_disable_unref(m->deadline);
        sd_event_source_disable_unref(m->status_tick);
        sd_event_source_disable_unref(m->sync);
        /* Flushed: a dead-man that is being armed must reach systemd even
         * though (because) fwguardd goes. */
        sd_bus_flush_close_unref(m->system_bus);
        if (m->listen_fd >= 0) {
                close(m->listen_fd);
                /* Only a socket we bound is ours to remove (systemd's stays
                 * for the next start): the state directory outlives the
                 * daemon by design. */
                if (!m->socket_passed)
                        unlink(m->socket_path);
        }
        trial_free(m->trial);
        nl_free(m->nl);
        sd_event_unref(m->event);
        config_free(m->config);
        free(m->socket_path);
        free(m->runtime_dir);
        free(m->state_dir);
        free(m);
        return NULL;
}

int manager_new(const char *state_dir, const char *runtime_dir, const char *config_path,
                Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        char err[512] = "";
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->listen_fd = -1;
        r = config_load(config_path, &m->config, err, sizeof(err));
        if (r < 0) {
                log_error("%s", *err ? err : strerror(-r));
                return r;
        }
        m->state_dir = strdup(state_dir ?: m->config->state_dir);
        m->runtime_dir = strdup(runtime_dir);
        if (!m->state_dir || !m->runtime_dir ||
            asprintf(&m->socket_path, "%s/bus", runtime_dir) < 0) {
                m->socket_path = NULL;
                log_error("out of memory");
                return -ENOMEM;
        }
        r = nl_open(&m->nl);
        if (r < 0) {
                log_error("cannot open the nftables netlink socket: %s", strerror(-r));
                return r;
        }
        r = sd_event_default(&m->event);
        if (r < 0) {
                log_error("cannot create the event loop: %s", strerror(-r));
                return r;
        }
        r = sd_id128_randomize(&m->server_id);
        if (r < 0) {
                log_error("cannot make a server id: %s", strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int manager_store(Manager *m, TrialStore **ret, char *err, size_t errlen) {
        int r = trial_store_open(m->state_dir, m->config->history_max, STORE_LOCK_TIMEOUT_USEC, ret);

        if (r < 0)
                snprintf(err, errlen, "cannot open the state directory %s: %s", m->state_dir,
                         r == -ETIMEDOUT ? "another process holds its lock" : strerror(-r));
        return r;
}

void manager_emit(Manager *m, const char *member, const char *types, ...) {
        for (Connection *c = m->connections; c; c = c->next) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
                va_list ap;
                int r;

                r = sd_bus_message_new_signal(c->bus, &sig, MANAGER_PATH, MANAGER_INTERFACE, member);
                if (r >= 0) {
                        va_start(ap, types);
                        r = sd_bus_message_appendv(sig, types, ap);
                        va_end(ap);
                }
                if (r >= 0)
                        r = sd_bus_send(c->bus, sig, NULL);
                if (r < 0)
                        log_warning("cannot send the %s signal: %s", member, strerror(-r));
        }
}

static void notify_status(Manager *m) {
        uint64_t now, left;

        if (!m->trial) {
                (void) sd_notify(false, "STATUS=idle");
                return;
        }
        now = now_usec(CLOCK_BOOTTIME);
        left = m->trial->deadline_boottime_ns / 1000 > now ? m->trial->deadline_boottime_ns / 1000 - now : 0;
        (void) sd_notifyf(false, "STATUS=trial %" PRIu64 ": rolls back in %" PRIu64 " s",
                          m->trial->id, (left + 999999) / 1000000);
}

static int on_status_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(trial_freep) Trial *disk = NULL;
        Manager *m = userdata;

        /* Notice a trial that the second dead-man ended, even if nobody asks. */
        (void) manager_peek(m, &disk);
        notify_status(m);
        if (!m->trial)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        (void) sd_event_source_set_time_relative(s, STATUS_TICK_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Tell the people logged in on this host, as they may be the ones locked
 * out. wall(1) runs in a grandchild so that nothing waits for it and no
 * SIGCHLD handling is needed; between fork() and exec() only
 * async-signal-safe calls are made (other threads may hold locks). */
static void announce(const char *text) {
        const char *wall = getenv("FWGUARDD_WALL") ?: "/usr/bin/wall";
        char *const argv[] = { (char *) wall, (char *) text, NULL };
        pid_t pid;

        pid = fork();
        if (pid < 0) {
                log_warning("cannot announce on the terminals: %m");
                return;
        }
        if (pid == 0) {
                if (fork() == 0)
                        execv(wall, argv);
                _exit(0);
        }
        (void) waitpid(pid, NULL, 0);
}

static void announce_rollback(uint64_t id, const char *why) {
        _cleanup_free_ char *text = NULL;

        if (asprintf(&text, "fwguard: the firewall change of trial %" PRIu64 " was rolled back (%s). "
                     "See `fwguard history`.", id, why) >= 0)
                announce(text);
}

/* The trial that fwguardd armed is no longer the record's. Only the second
 * dead-man ends such a trial besides fwguardd: say how it ended, announce a
 * rollback as fwguardd's own are, and forget the trial. */
static void ended_elsewhere(Manager *m, TrialStore *store, char *note, size_t notelen) {
        _cleanup_(trial_summary_clear) TrialSummary h = {};
        uint64_t id = m->trial->id;
        char err[256];
        bool rolled_back;

        rolled_back = trial_history_summary(store, id, &h, err, sizeof(err)) >= 0 && h.state == TRIAL_ROLLING_BACK;
        if (rolled_back)
                snprintf(note, notelen, "trial %" PRIu64 " was rolled back by the second dead-man (`fwguard deadman`), "
                         "as fwguardd had not done it by its deadline: see `fwguard history`", id);
        else
                snprintf(note, notelen, "trial %" PRIu64 " was ended by another process: see `fwguard history`", id);
        log_event(LOG_WARNING, LOG_ID_ROLLBACK, id, "%s", note);
        monitor_catch_up(m->monitor);
        manager_disarm(m);
        if (rolled_back)
                announce_rollback(id, "by the second dead-man");
}

int manager_sync(Manager *m, TrialStore **ret, char *note, size_t notelen, char *err, size_t errlen) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(trial_freep) Trial *t = NULL;
        int r;

        *ret = NULL;
        if (notelen > 0)
                note[0] = '\0';
        if (!m->trial)
                return 0;
        r = manager_store(m, &store, err, errlen);
        if (r >= 0)
                r = trial_is_current(store, m->trial, err, errlen);
        if (r < 0)
                return r;
        if (r == 0) {
                r = trial_load(store, &t, err, errlen);
                if (r < 0)
                        return r;
                if (t && t->id == m->trial->id) {
                        /* A dead-man that died halfway through its rollback: ours
                         * finishes it (the deadline has passed). */
                        log_warning("trial %" PRIu64 " was changed by another process: it is %s now", t->id,
                                    trial_state_to_string(t->state));
                        trial_free(m->trial);
                        m->trial = TAKE_PTR(t);
                        (void) manager_arm(m);
                } else
                        /* Another trial than ours may only be another
                         * daemon's on the same state directory: not ours to
                         * take over. */
                        ended_elsewhere(m, store, note, notelen);
        }
        if (!m->trial)
                return 0;
        *ret = TAKE_PTR(store);
        return 1;
}

static int on_sync(sd_event_source *s, void *userdata) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        Manager *m = userdata;
        char note[512], err[512] = "";

        /* The status tick looks again in a few seconds. */
        if (manager_sync(m, &store, note, sizeof(note), err, sizeof(err)) < 0)
                log_warning("cannot compare the pending trial with its record: %s", err);
        return 0;
}

int manager_peek(Manager *m, Trial **ret) {
        _cleanup_(trial_freep) Trial *t = NULL;
        char err[256];
        int r;

        if (!m->trial || trial_peek(m->state_dir, &t, err, sizeof(err)) < 0)
                return 0;
        if (t && t->id == m->trial->id && t->state == m->trial->state &&
            t->deadline_boottime_ns == m->trial->deadline_boottime_ns)
                return 0;
        if (m->sync)
                r = sd_event_source_set_enabled(m->sync, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_defer(m->event, &m->sync, on_sync, m);
        if (r < 0)
                log_warning("cannot schedule a look at the trial record: %s", strerror(-r));
        *ret = TAKE_PTR(t);
        return 1;
}

int manager_rollback(Manager *m, const char *why, RollbackResult *ret, char *err, size_t errlen) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        uint64_t id;
        int r;

        r = manager_sync(m, &store, err, errlen, err, errlen);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESRCH;
        id = m->trial->id;
        r = driver_rollback(m->nl, store, m->trial, ret, err, errlen);
        if (r < 0) {
                log_event(LOG_CRIT, LOG_ID_ROLLBACK, id, "trial %" PRIu64 ": ROLLBACK FAILED (%s): %s",
                          id, why, err);
                return r;
        }
        manager_disarm(m);
        log_event(LOG_WARNING, LOG_ID_ROLLBACK, id,
                  "trial %" PRIu64 " rolled back (%s)%s; %zu change(s) of other writers could not be carried over",
                  id, why, ret->exact ? "" : ", but the result differs from the target", ret->n_conflicts);
        if (ret->report)
                log_warning("trial %" PRIu64 ": %s", id, ret->report);
        announce_rollback(id, why);
        manager_emit(m, "RolledBack", "tsbu", id, why, ret->exact, (uint32_t) ret->n_conflicts);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(rollback_result_clear) RollbackResult res = {};
        Manager *m = userdata;
        char err[512] = "";

        /* Unless the second dead-man did it meanwhile (no trial left): try
         * again soon, as a lock held by the second dead-man, or a kernel
         * that refused, may be gone in a moment. */
        if (manager_rollback(m, "the deadline passed without a confirmation", &res, err, sizeof(err)) < 0 &&
            m->trial) {
                (void) sd_event_source_set_time_relative(s, 1000 * 1000);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

int manager_arm(Manager *m) {
        uint64_t at = m->trial->deadline_boottime_ns / 1000;
        int r;

        if (m->deadline) {
                r = sd_event_source_set_time(m->deadline, at);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->deadline, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(m->event, &m->deadline, CLOCK_BOOTTIME, at, DEADLINE_ACCURACY_USEC,
                                      on_deadline, m);
        if (r < 0) {
                log_error("cannot arm the dead-man timer: %s", strerror(-r));
                return r;
        }
        if (m->status_tick)
                r = sd_event_source_set_enabled(m->status_tick, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_time_relative(m->event, &m->status_tick, CLOCK_MONOTONIC, 0,
                                               STATUS_TICK_USEC / 10, on_status_tick, m);
        if (r < 0)
                log_warning("cannot refresh the status: %s", strerror(-r));
        notify_status(m);
        deadman_units_arm(m);
        return 0;
}

void manager_disarm(Manager *m) {
        if (m->trial)
                deadman_units_cancel(m, m->trial->id);
        if (m->deadline)
                (void) sd_event_source_set_enabled(m->deadline, SD_EVENT_OFF);
        if (m->status_tick)
                (void) sd_event_source_set_enabled(m->status_tick, SD_EVENT_OFF);
        m->trial = trial_free(m->trial);
        notify_status(m);
        /* A trial of a big ruleset leaves tens of MiB of freed heap behind;
         * an idle daemon should not sit on it. */
        (void) malloc_trim(0);
}

/* The one place where authorization is applied (manager_may_call());
 * it runs before dispatch. Returning > 0 means the message was answered here. */
static int on_filter(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        Manager *m = userdata;
        const char *member;
        uid_t euid = UID_INVALID;
        int r;

        /* Bus clients (busctl among them) greet a bus daemon with Hello
         * before anything else and fail without a unique name; there is no
         * bus daemon here, so we play its part for this one call. */
        if (sd_bus_message_is_method_call(msg, "org.freedesktop.DBus", "Hello") > 0)
                return sd_bus_reply_method_return(msg, "s", ":1.1"), 1;
        if (sd_bus_message_is_method_call(msg, MANAGER_INTERFACE, NULL) <= 0)
                return 0;
        member = sd_bus_message_get_member(msg);

        /* Who is asking, from SO_PEERCRED and SO_PEERGROUPS: a direct
         * connection has no sender, so sd-bus falls back to the socket peer. */
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                      SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_PID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &euid);
        if (r >= 0)
                r = manager_may_call(m, member, creds);
        if (r < 0)
                return sd_bus_reply_method_errorf(msg, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "cannot tell who is calling: %s", strerror(-r)), 1;
        if (r > 0)
                return 0;
        log_event(LOG_NOTICE, LOG_ID_REFUSAL, 0, "uid %u was refused %s: not an administrator",
                  (unsigned) euid, member ? member : "(none)");
        if (manager_root_only(member))
                return sd_bus_reply_method_errorf(msg, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "uid %u may not call %s: only root may", (unsigned) euid,
                                                  member), 1;
        return sd_bus_reply_method_errorf(msg, SD_BUS_ERROR_ACCESS_DENIED,
                                          "uid %u may not call %s: only root%s%s may", (unsigned) euid,
                                          member ? member : "(none)",
                                          m->config->admin_group ? " and the members of group " : "",
                                          m->config->admin_group ?: ""), 1;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        connection_free(userdata);
        return 0;
}

static int connection_new(Manager *m, int fd) {
        _cleanup_close_ int owned = fd;
        _cleanup_(connection_freep) Connection *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->manager = m;
        c->next = m->connections;
        if (c->next)
                c->next->prev = c;
        m->connections = c;
        m->n_connections++;

        r = sd_bus_new(&c->bus);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(c->bus, owned, owned);
        if (r < 0)
                return r;
        TAKE_FD(owned);
        r = sd_bus_set_server(c->bus, 1, m->server_id);
        if (r < 0)
                return r;
        /* The filter needs the peer's uid; SO_PEERCRED gives it without
         * asking the client for anything. */
        r = sd_bus_negotiate_creds(c->bus, 1, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                   SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_PID);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(c->bus, NULL, on_filter, m);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(c->bus, NULL, MANAGER_PATH, MANAGER_INTERFACE,
                                     manager_vtable, m);
        if (r < 0)
                return r;
        /* sd-bus synthesizes this signal locally when the peer goes away:
         * the moment to free the connection. */
        r = sd_bus_match_signal(c->bus, NULL, NULL, "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, c);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(c->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        r = sd_bus_start(c->bus);
        if (r < 0)
                return r;
        TAKE_PTR(c);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                /* A client that gave up before we got to it is not an error. */
                if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
                        log_error("accept: %m");
                return 0;
        }
        if (m->n_connections >= CONNECTIONS_MAX) {
                /* Accepted only to be closed: the client sees EOF at once
                 * instead of waiting in the backlog. */
                close(cfd);
                return 0;
        }
        r = connection_new(m, cfd);
        /* A peer gone before our greeting (the CLI's "does it run?" probe,
         * cli_bus_daemon_runs()) is no error. */
        if (r < 0 && r != -ECONNRESET && r != -EPIPE)
                log_error("cannot serve a connection: %s", strerror(-r));
        return 0;
}

/* A socket already answering at @path belongs to a running daemon: never
 * take it over. A stale one (ECONNREFUSED) is left from a crash. */
static int socket_in_use(const struct sockaddr_un *sa) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return negative_errno();
        return connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) == 0;
}

/* The listening socket that systemd passes (fwguardd.socket): 1 with *ret,
 * 0 when it passes none. */
static int socket_from_systemd(int *ret) {
        int n = sd_listen_fds(true), fd = SD_LISTEN_FDS_START;

        if (n < 0) {
                log_error("cannot take the sockets that systemd passed: %s", strerror(-n));
                return n;
        }
        if (n == 0)
                return 0;
        if (n != 1 || sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                log_error("systemd passed %d socket(s), not one listening unix stream socket "
                          "(see fwguardd.socket)", n);
                return -EBADF;
        }
        /* Passed without either flag: sshd -T and wall must not inherit it,
         * and the loop must never block in accept(). */
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                log_error("cannot set up the socket that systemd passed: %m");
                return negative_errno();
        }
        *ret = fd;
        return 1;
}

/* The socket systemd holds, with socket activation: it keeps it while we
 * restart, and callers wait in its backlog meanwhile. Otherwise (tests, the
 * demo, a start by hand) one of our own at RUNTIME_DIR/bus. */
static int manager_listen(Manager *m) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        int r;

        r = socket_from_systemd(&fd);
        if (r < 0)
                return r;
        m->socket_passed = r > 0;
        if (m->socket_passed)
                goto watch;

        if (strlen(m->socket_path) >= sizeof(sa.sun_path)) {
                log_error("socket path too long: %s", m->socket_path);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, m->socket_path);

        if (mkdir(m->runtime_dir, 0755) < 0 && errno != EEXIST) {
                log_error("cannot create %s: %m", m->runtime_dir);
                return negative_errno();
        }
        r = socket_in_use(&sa);
        if (r < 0) {
                log_error("socket: %s", strerror(-r));
                return r;
        }
        if (r > 0) {
                log_error("another fwguardd already listens on %s", m->socket_path);
                return -EADDRINUSE;
        }
        (void) unlink(m->socket_path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                log_error("socket: %m");
                return negative_errno();
        }
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                log_error("cannot bind %s: %m", m->socket_path);
                return negative_errno();
        }
        /* Everyone may connect; method_access[] decides what they may do. */
        if (chmod(m->socket_path, 0666) < 0 || listen(fd, SOMAXCONN) < 0) {
                log_error("cannot listen on %s: %m", m->socket_path);
                (void) unlink(m->socket_path);
                return negative_errno();
        }
watch:
        r = sd_event_add_io(m->event, &m->listen_source, fd, EPOLLIN, on_accept, m);
        if (r < 0) {
                log_error("cannot watch the socket: %s", strerror(-r));
                if (!m->socket_passed)
                        (void) unlink(m->socket_path);
                return r;
        }
        m->listen_fd = TAKE_FD(fd);
        return 0;
}

/* Bring a trial that the last run left behind to a defined state before
 * anything else may happen. */
static int manager_recover(Manager *m) {
        _cleanup_(trial_store_freep) TrialStore *store = NULL;
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_(rollback_result_clear) RollbackResult rb = {};
        DriverRecovery what;
        char err[512] = "", msg[256] = "";
        int r;

        r = manager_store(m, &store, err, sizeof(err));
        if (r >= 0)
                r = trial_load(store, &t, err, sizeof(err));
        if (r < 0) {
                log_error("%s", *err ? err : strerror(-r));
                return r;
        }
        if (!t)
                return 0;
        r = driver_recover(m->nl, store, t, &what, &rb, msg, sizeof(msg), err, sizeof(err));
        if (r < 0) {
                log_event(LOG_CRIT, LOG_ID_RECOVERY, t->id, "trial %" PRIu64 ": recovery failed: %s",
                          t->id, *err ? err : strerror(-r));
                return r;
        }
        log_event(LOG_WARNING, LOG_ID_RECOVERY, t->id, "%s", msg);
        if (rb.report)
                log_warning("trial %" PRIu64 ": %s", t->id, rb.report);
        if (what == DRIVER_RECOVERED_ROLLED_BACK)
                announce_rollback(t->id, "it was rolling back when fwguardd stopped");
        if (what != DRIVER_RECOVERED_ARMED)
                return 0;
        m->trial = TAKE_PTR(t);
        if (m->trial->deadline_boottime_ns / 1000 > now_usec(CLOCK_BOOTTIME))
                return manager_arm(m);
        /* Expired while we were down: roll back before READY, so that READY
         * means every trial is where its deadline says it must be. The
         * rollback takes the store's lock itself: ours would block it. */
        store = trial_store_free(store);
        rollback_result_clear(&rb);
        r = manager_rollback(m, "the deadline passed while fwguardd was not running", &rb, err, sizeof(err));
        if (r >= 0)
                return 0;
        /* The loop's dead-man tries again every second. */
        log_error("%s", err);
        return manager_arm(m);
}

int manager_start(Manager *m) {
        sigset_t mask;
        int r;

        /* sd-event wants the signals blocked before it watches them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                log_error("cannot watch signals: %s", strerror(-r));
                return r;
        }
        /* WATCHDOG=1 whenever the unit asks for it, from the loop itself:
         * a hung loop stops the pings. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning("cannot serve the watchdog: %s", strerror(-r));

        deadman_units_init(m);
        /* READY promises that the trial is in a defined state, and that
         * Status tells the truth: recovery comes first. */
        r = manager_recover(m);
        if (r < 0)
                return r;
        r = manager_listen(m);
        if (r < 0)
                return r;
        /* After recovery: its batches are fwguard's own, not changes to watch. */
        r = monitor_new(m, &m->monitor);
        if (r < 0)
                return r;
        (void) sd_notify(false, "READY=1");
        notify_status(m);
        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_loop(m->event);
        if (r < 0) {
                log_error("event loop: %s", strerror(-r));
                return r;
        }
        (void) sd_notify(false, "STOPPING=1");
        return 0;
}

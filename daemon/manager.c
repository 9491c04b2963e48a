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
 * Who may call what is one table, method_access[], checked in one filter
 * that runs before any method handler: a method of our interface that the
 * table does not list is refused, so a new method is closed until its line
 * is written. The socket itself is open to every local user (0666) because
 * Status is for anyone; the table, not the file mode, is the boundary.
 *
 * The trial record is read through lib/trial under its lock, with a short
 * timeout: a Status call must never hang the loop behind a long transition
 * of the second dead-man, it answers "busy" instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "manager.h"
#include "trial.h"

#define MANAGER_PATH "/org/fwguard/Manager"
#define MANAGER_INTERFACE "org.fwguard.Manager1"
/* Status only reads: long enough for one transition to finish writing,
 * short enough that the loop does not notice. */
#define STATUS_LOCK_TIMEOUT_USEC (200 * 1000)
/* Reading opens no history; any length >= 1 leaves it as it is. */
#define STATUS_HISTORY_MAX 1
/* The socket is open to every local user: without a cap, one of them could
 * use up our fds, and accept() failing with EMFILE would spin the loop. */
#define CONNECTIONS_MAX 64

typedef struct Connection Connection;

struct Manager {
        sd_event *event;
        char *state_dir;
        char *runtime_dir;
        char *socket_path;
        Config *config;
        int listen_fd;
        sd_event_source *listen_source;
        sd_id128_t server_id;
        Connection *connections;        /* doubly linked, freed on disconnect */
        unsigned n_connections;
};

struct Connection {
        Manager *manager;
        sd_bus *bus;
        Connection *prev, *next;
};

typedef enum Access {
        ACCESS_ANYONE,                  /* any local user: reads only */
} Access;

/* The authorization table: one line per method of MANAGER_INTERFACE. */
static const struct {
        const char *member;
        Access access;
} method_access[] = {
        { "Status", ACCESS_ANYONE },
};

_printf_(1, 2) static void log_error(const char *fmt, ...) {
        va_list ap;

        fputs("fwguardd: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

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
        while (m->connections)
                connection_free(m->connections);
        sd_event_source_unref(m->listen_source);
        if (m->listen_fd >= 0) {
                close(m->listen_fd);
                /* Only the socket is ours to remove: the state directory
                 * outlives the daemon by design. */
                unlink(m->socket_path);
        }
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
        m->state_dir = strdup(state_dir);
        m->runtime_dir = strdup(runtime_dir);
        if (!m->state_dir || !m->runtime_dir ||
            asprintf(&m->socket_path, "%s/bus", runtime_dir) < 0) {
                m->socket_path = NULL;
                log_error("out of memory");
                return -ENOMEM;
        }
        r = config_load(config_path, &m->config, err, sizeof(err));
        if (r < 0) {
                log_error("%s", *err ? err : strerror(-r));
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

/* The pending trial, or NULL when idle. Logs nothing: the caller decides
 * whether the failure is the daemon's (at start) or the call's. */
static int manager_read_trial(Manager *m, Trial **ret, char *err, size_t errlen) {
        _cleanup_(trial_store_freep) TrialStore *s = NULL;
        int r;

        r = trial_store_open(m->state_dir, STATUS_HISTORY_MAX, STATUS_LOCK_TIMEOUT_USEC, &s);
        if (r < 0) {
                snprintf(err, errlen, "cannot open the state directory %s: %s",
                         m->state_dir, strerror(-r));
                return r;
        }
        return trial_load(s, ret, err, errlen);
}

/* D-Bus strings must be UTF-8 and the summary may hold any bytes: anything
 * outside printable ASCII becomes '?', so a stray byte can never make Status
 * fail for everyone. */
static void sanitize_ascii(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        *s = '?';
}

static int on_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(trial_freep) Trial *t = NULL;
        _cleanup_free_ char *summary = NULL;
        char err[512] = "";
        int r;

        r = manager_read_trial(m, &t, err, sizeof(err));
        if (r == -ETIMEDOUT)
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                        "the trial is changing state; ask again");
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s",
                                         *err ? err : strerror(-r));
        if (!t)
                return sd_bus_reply_method_return(msg, "stts", "idle", UINT64_C(0), UINT64_C(0), "");

        summary = strdup(t->summary ? t->summary : "");
        if (!summary)
                return -ENOMEM;
        sanitize_ascii(summary);
        return sd_bus_reply_method_return(msg, "stts", trial_state_to_string(t->state), t->id,
                                          t->deadline_realtime_usec, summary);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Status", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", state, "t", trial_id,
                                              "t", deadline_realtime_usec, "s", summary),
                                on_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static bool caller_may(uid_t euid, Access access) {
        switch (access) {
        case ACCESS_ANYONE:
                return true;
        }
        return false;
}

/* The one place where method_access[] is applied; runs before dispatch.
 * Returning > 0 means the message was answered here. */
static int on_filter(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *member;
        uid_t euid;
        int r;

        /* Bus clients (busctl among them) greet a bus daemon with Hello
         * before anything else and fail without a unique name; there is no
         * bus daemon here, so we play its part for this one call. */
        if (sd_bus_message_is_method_call(msg, "org.freedesktop.DBus", "Hello") > 0)
                return sd_bus_reply_method_return(msg, "s", ":1.1"), 1;
        if (sd_bus_message_is_method_call(msg, MANAGER_INTERFACE, NULL) <= 0)
                return 0;
        member = sd_bus_message_get_member(msg);

        /* Who is asking, from SO_PEERCRED: a direct connection has no
         * sender, so sd-bus falls back to the socket peer. */
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return sd_bus_reply_method_errorf(msg, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "cannot tell who is calling: %s", strerror(-r)), 1;

        for (size_t i = 0; i < ELEMENTSOF(method_access); i++)
                if (streq_ptr(member, method_access[i].member)) {
                        if (caller_may(euid, method_access[i].access))
                                return 0;
                        break;
                }
        return sd_bus_reply_method_errorf(msg, SD_BUS_ERROR_ACCESS_DENIED,
                                          "uid %u may not call %s", (unsigned) euid,
                                          member ? member : "(none)"), 1;
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
        r = sd_bus_negotiate_creds(c->bus, 1, SD_BUS_CREDS_EUID);
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
        if (r < 0)
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

static int manager_listen(Manager *m) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        int r;

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
        r = sd_event_add_io(m->event, &m->listen_source, fd, EPOLLIN, on_accept, m);
        if (r < 0) {
                log_error("cannot watch the socket: %s", strerror(-r));
                (void) unlink(m->socket_path);
                return r;
        }
        m->listen_fd = TAKE_FD(fd);
        return 0;
}

int manager_start(Manager *m) {
        _cleanup_(trial_freep) Trial *t = NULL;
        char err[512] = "";
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

        r = manager_listen(m);
        if (r < 0)
                return r;

        /* READY promises that Status works: the state must be readable now. */
        r = manager_read_trial(m, &t, err, sizeof(err));
        if (r < 0) {
                log_error("%s", *err ? err : strerror(-r));
                return r;
        }
        if (t)
                (void) sd_notifyf(false, "READY=1\nSTATUS=trial %" PRIu64 ": %s",
                                  t->id, trial_state_to_string(t->state));
        else
                (void) sd_notify(false, "READY=1\nSTATUS=idle");
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

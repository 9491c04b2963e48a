/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ports.c — discovery of the TCP ports that SSH is served on
 *
 * "Changed the SSH port and forgot the firewall" is a lockout the guard must
 * prevent, so the guard follows where sshd really is, not what a setting
 * says. The answer is the union of four sources, each of which can miss:
 *
 *   - the listening TCP sockets of running sshd processes: the truth, but
 *     only while sshd runs. sock_diag lists the LISTEN sockets of the
 *     caller's network namespace (the one being guarded) with their inodes;
 *     the fds of the processes whose /proc/PID/exe is the sshd binary tell
 *     which of them are sshd's. A name or argv[0] is not enough: any user
 *     can call a program "sshd" and would get its port opened. Only the
 *     listener needs matching: sshd-session (OpenSSH 9.8+) runs per
 *     connection and never holds a listening socket;
 *   - `sshd -T`: where sshd will listen once (re)started. It fails without
 *     host keys or the privilege separation directory; that is reported as a
 *     note, not an error;
 *   - the ListenStream= of an active ssh.socket: with socket activation
 *     systemd, not sshd, holds the socket. No system bus or no systemd is
 *     normal (containers, tests) and only noted;
 *   - the ports the administrator listed in the config.
 *
 * When all of them find nothing, port 22 is guarded: guarding a port that
 * nothing serves costs nothing, missing the real one locks the admin out.
 * Being unable to list the sockets or /proc is a hard failure, because the
 * strongest source would be silently lost; a single process that we may not
 * inspect is only noted, or one odd process would leave no guard at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>

#include "macro.h"
#include "ports.h"
#include "sockdiag.h"

/* sshd -T answers in milliseconds; this only bounds a hung or broken one. */
#define SSHD_T_TIMEOUT_MS 5000
/* Its output is about 5 KiB; anything beyond this is not sshd -T. */
#define SSHD_T_OUTPUT_MAX (1024 * 1024)
#define SYSTEMD_TIMEOUT_USEC (5 * 1000000ULL)
#define SSH_SOCKET_UNIT "ssh.socket"
/* The kernel fills a dump message up to the size of the reader's reads,
 * 32 KiB at most today; one that does not fit fails the read (MSG_TRUNC). */

/* ---------------------------------------------------------------- small helpers */

typedef struct Notes {
        char *buf;
        size_t len, used;
} Notes;

static void note(Notes *n, const char *fmt, ...) _printf_(2, 3);
static void note(Notes *n, const char *fmt, ...) {
        va_list ap;
        int k;

        if (!n->buf || n->used + 1 >= n->len)
                return;
        va_start(ap, fmt);
        k = vsnprintf(n->buf + n->used, n->len - n->used, fmt, ap);
        va_end(ap);
        if (k < 0)
                return;
        n->used = MIN(n->used + (size_t) k, n->len - 1);
        if (n->used + 1 < n->len) {
                n->buf[n->used++] = '\n';
                n->buf[n->used] = '\0';
        }
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

typedef struct PortSet {
        SshPort *items;
        size_t n;
} PortSet;

static void portset_done(PortSet *s) {
        free(s->items);
}

static int portset_add(PortSet *s, uint16_t port, unsigned source, pid_t pid) {
        SshPort *grown;

        for (size_t i = 0; i < s->n; i++)
                if (s->items[i].port == port) {
                        s->items[i].sources |= source;
                        if (!s->items[i].pid)
                                s->items[i].pid = pid;
                        return 0;
                }
        grown = reallocarray(s->items, s->n + 1, sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        s->items = grown;
        s->items[s->n++] = (SshPort) { .port = port, .sources = source, .pid = pid };
        return 0;
}

static int cmp_port(const void *a, const void *b) {
        const SshPort *x = a, *y = b;

        return (x->port > y->port) - (x->port < y->port);
}

/* A port number with nothing else in @s[0..len), or 0. */
static uint16_t parse_port_n(const char *s, size_t len) {
        unsigned long v = 0;

        if (len == 0 || len > 5)
                return 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                v = v * 10 + (unsigned long) (s[i] - '0');
        }
        return v <= 65535 ? (uint16_t) v : 0;
}

/* ---------------------------------------------------------------- listening sockets */

typedef struct ListenSock {
        uint32_t inode;
        uint16_t port;
        pid_t pid;              /* the sshd holding it; 0: none (yet) */
} ListenSock;

typedef struct ListenSocks {
        ListenSock *items;
        size_t n;
} ListenSocks;

static void listensocks_done(ListenSocks *s) {
        free(s->items);
}

int ports_process_exe(pid_t pid, char *buf, size_t len) {
        char path[64];
        ssize_t n;
        size_t dl = strlen(" (deleted)");

        snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        n = readlink(path, buf, len - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        if ((size_t) n > dl && streq(buf + n - dl, " (deleted)"))
                buf[n - dl] = '\0';
        return 0;
}

/* Mark the sockets of @socks that process @pid holds. */
static int match_fds(pid_t pid, ListenSocks *socks) {
        _cleanup_free_ uint32_t *inodes = NULL;
        size_t n = 0;
        int r = sockdiag_pid_sockets(pid, &inodes, &n);

        if (r < 0)
                return r;
        for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < socks->n; i++)
                        if (socks->items[i].inode == inodes[j] && !socks->items[i].pid)
                                socks->items[i].pid = pid;
        return 0;
}

/* Processes that we may not look at. */
typedef struct Unseen {
        unsigned n;
        pid_t first;
        int err;
} Unseen;

static bool unseen_add(Unseen *u, pid_t pid, int r) {
        if (r != -EACCES && r != -EPERM)
                return false;
        if (u->n++ == 0) {
                u->first = pid;
                u->err = r;
        }
        return true;
}

/* Which processes running @sshd hold the sockets of @socks. A process that
 * exits during the scan is simply gone. One that we may not look at (an
 * LSM, or more privileges than ours) is counted in @unseen: failing for it
 * would leave the guard with nothing at all. */
static int match_processes(const char *sshd, ListenSocks *socks, Unseen *unseen) {
        _cleanup_(closedirp) DIR *proc = NULL;
        struct dirent *de;
        char exe[PATH_MAX];
        int r;

        proc = opendir("/proc");
        if (!proc)
                return negative_errno();
        while ((errno = 0, de = readdir(proc))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (pid <= 0 || pid > INT_MAX || *end != '\0')
                        continue;
                r = ports_process_exe((pid_t) pid, exe, sizeof(exe));
                if (r == -ENOENT || r == -ESRCH)
                        continue;       /* exited, a zombie, or a kernel thread */
                if (r < 0 && !unseen_add(unseen, (pid_t) pid, r))
                        return r;
                if (r < 0 || !streq(exe, sshd))
                        continue;
                r = match_fds((pid_t) pid, socks);
                if (r < 0 && r != -ENOENT && r != -ESRCH && !unseen_add(unseen, (pid_t) pid, r))
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

static int discover_listening(const char *sshd, PortSet *set, Notes *notes) {
        _cleanup_(listensocks_done) ListenSocks socks = {};
        _cleanup_free_ SockDiagTcp *tcp = NULL;
        Unseen unseen = {};
        size_t unmatched = 0, n_tcp = 0;
        int r;

        r = sockdiag_tcp(1u << TCP_LISTEN, &tcp, &n_tcp);
        if (r == -ENOENT) {
                /* The kernel has no TCP sock_diag (CONFIG_INET_TCP_DIAG). */
                note(notes, "listening sockets: sock_diag for TCP is not available: %s", strerror(-r));
                return 0;
        }
        if (r < 0)
                return r;
        if (n_tcp == 0)
                return 0;
        socks.items = calloc(n_tcp, sizeof(ListenSock));
        if (!socks.items)
                return -ENOMEM;
        for (size_t i = 0; i < n_tcp; i++)
                socks.items[socks.n++] = (ListenSock) { .inode = tcp[i].inode, .port = tcp[i].local_port };

        r = match_processes(sshd, &socks, &unseen);
        if (r < 0)
                return r;
        for (size_t i = 0; i < socks.n; i++) {
                if (!socks.items[i].pid) {
                        unmatched++;
                        continue;
                }
                r = portset_add(set, socks.items[i].port, PORT_SRC_LISTEN, socks.items[i].pid);
                if (r < 0)
                        return r;
        }
        /* Only worth saying when some socket is left that such a process could hold. */
        if (unseen.n > 0 && unmatched > 0)
                note(notes, "listening sockets: %u process(es) could not be inspected (pid %d: %s); "
                     "%zu listening socket(s) that an sshd among them could hold are not counted",
                     unseen.n, (int) unseen.first, strerror(-unseen.err), unmatched);
        return 0;
}

/* ---------------------------------------------------------------- sshd -T */

typedef struct Buf {
        char *data;
        size_t n;
} Buf;

static void buf_done(Buf *b) {
        free(b->data);
}

/* Read what is there from @fd into @b. Returns 0 at EOF, 1 while open. */
static int buf_read(int fd, Buf *b) {
        char chunk[4096];
        ssize_t k = read(fd, chunk, sizeof(chunk));

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 1 : negative_errno();
        if (k == 0)
                return 0;
        /* Beyond the cap, keep draining so the child never blocks on a full pipe. */
        if (b->n + (size_t) k <= SSHD_T_OUTPUT_MAX) {
                char *grown = realloc(b->data, b->n + (size_t) k + 1);
                if (!grown)
                        return -ENOMEM;
                b->data = grown;
                memcpy(b->data + b->n, chunk, (size_t) k);
                b->n += (size_t) k;
                b->data[b->n] = '\0';
        }
        return 1;
}

static long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run @argv with stdin from /dev/null, collecting stdout and stderr, for at
 * most @timeout_ms. Returns 0 with the wait status in @ret_status, or
 * -ETIME when it had to be killed. */
static int run_capture(char *const argv[], int timeout_ms, Buf *out, Buf *err, int *ret_status) {
        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1, pidfd = -1;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        bool out_open = true, err_open = true, exited = false;
        long deadline = now_ms() + timeout_ms;
        pid_t pid;
        int r, status;

        {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0)
                        return negative_errno();
                out_r = p[0], out_w = p[1];
                if (pipe2(p, O_CLOEXEC) < 0)
                        return negative_errno();
                err_r = p[0], err_w = p[1];
        }

        /* The caller (sd-event) may block or catch signals; the child must
         * start with a clean slate, or a SIGTERM could not stop it. */
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_w, 1);
        posix_spawn_file_actions_adddup2(&fa, err_w, 2);
        r = -posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r < 0)
                return r;
        /* Only the child may hold the write ends, or EOF never comes. */
        close(TAKE_FD(out_w));
        close(TAKE_FD(err_w));

        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                r = negative_errno();
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }

        while (out_open || err_open || !exited) {
                struct pollfd pfd[3];
                int nfds = 0, io = -1, ie = -1, ip = -1;
                long left = deadline - now_ms();

                if (left <= 0) {
                        r = -ETIME;
                        break;
                }
                if (out_open)
                        io = nfds, pfd[nfds++] = (struct pollfd) { .fd = out_r, .events = POLLIN };
                if (err_open)
                        ie = nfds, pfd[nfds++] = (struct pollfd) { .fd = err_r, .events = POLLIN };
                if (!exited)
                        ip = nfds, pfd[nfds++] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
                if (poll(pfd, (nfds_t) nfds, (int) left) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        break;
                }
                if (io >= 0 && pfd[io].revents) {
                        r = buf_read(out_r, out);
                        if (r < 0)
                                break;
                        out_open = r > 0;
                }
                if (ie >= 0 && pfd[ie].revents) {
                        r = buf_read(err_r, err);
                        if (r < 0)
                                break;
                        err_open = r > 0;
                }
                if (ip >= 0 && pfd[ip].revents)
                        exited = true;
                r = 0;
        }
        if (r < 0)
                (void) pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
        if (waitpid(pid, &status, 0) < 0 && r >= 0)
                r = negative_errno();
        if (r >= 0)
                *ret_status = status;
        return r;
}

int ports_parse_sshd_t(const char *output, uint16_t **ret, size_t *ret_n) {
        _cleanup_free_ uint16_t *listen = NULL, *plain = NULL;
        size_t n_listen = 0, n_plain = 0;

        for (const char *line = output; line && *line; ) {
                const char *eol = strchrnul(line, '\n');
                uint16_t **list = NULL;
                size_t *n = NULL;
                uint16_t port = 0;

                if (strncmp(line, "listenaddress ", 14) == 0) {
                        /* "listenaddress [::1]:2200" or "... 0.0.0.0:22 rdomain X" */
                        const char *addr = line + 14, *end = addr + strcspn(addr, " \n");
                        const char *colon = memrchr(addr, ':', (size_t) (end - addr));

                        if (colon)
                                port = parse_port_n(colon + 1, (size_t) (end - colon - 1));
                        list = &listen, n = &n_listen;
                } else if (strncmp(line, "port ", 5) == 0) {
                        port = parse_port_n(line + 5, (size_t) (eol - line - 5));
                        list = &plain, n = &n_plain;
                }
                if (port) {
                        uint16_t *grown = reallocarray(*list, *n + 1, sizeof(**list));
                        if (!grown)
                                return -ENOMEM;
                        *list = grown;
                        (*list)[(*n)++] = port;
                }
                line = *eol ? eol + 1 : NULL;
        }
        /* sshd prints "port 22" even when every ListenAddress names its own
         * port and nothing listens on 22: the listenaddress lines are the
         * truth, the port lines only matter without them. */
        if (n_listen > 0) {
                *ret = TAKE_PTR(listen);
                *ret_n = n_listen;
        } else {
                *ret = TAKE_PTR(plain);
                *ret_n = n_plain;
        }
        return 0;
}

/* The last non-empty line of @s, for a one-line reason. */
static const char *last_line(char *s) {
        char *end, *start;

        if (!s)
                return "";
        end = s + strlen(s);
        while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                *--end = '\0';
        start = strrchr(s, '\n');
        return start ? start + 1 : s;
}

int ports_sshd_t(const char *sshd_path, const char *sshd_config, char **ret_output, char *err, size_t errlen) {
        _cleanup_(buf_done) Buf out = {}, errout = {};
        char *argv[5] = { (char *) sshd_path, (char *) "-T", NULL, NULL, NULL };
        int r, status = 0;

        if (access(sshd_path, X_OK) < 0) {
                r = negative_errno();
                snprintf(err, errlen, "%s: %s", sshd_path, strerror(-r));
                return r;
        }
        if (sshd_config) {
                argv[2] = (char *) "-f";
                argv[3] = (char *) sshd_config;
        }
        r = run_capture(argv, SSHD_T_TIMEOUT_MS, &out, &errout, &status);
        if (r == -ETIME)
                snprintf(err, errlen, "no answer within %d ms, killed", SSHD_T_TIMEOUT_MS);
        else if (r < 0)
                snprintf(err, errlen, "could not run %s: %s", sshd_path, strerror(-r));
        else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                snprintf(err, errlen, "exit status %d: %s", WEXITSTATUS(status), last_line(errout.data));
        else if (!WIFEXITED(status))
                snprintf(err, errlen, "killed by signal %d", WTERMSIG(status));
        else {
                *ret_output = out.data ? TAKE_PTR(out.data) : strdup("");
                return *ret_output ? 0 : -ENOMEM;
        }
        return r < 0 ? r : -EIO;
}

static int discover_sshd_t(const PortsOptions *opt, const char *sshd, PortSet *set, Notes *notes) {
        _cleanup_free_ uint16_t *ports = NULL;
        _cleanup_free_ char *output = NULL;
        char err[512] = "";
        size_t n = 0;
        int r;

        r = ports_sshd_t(sshd, opt->sshd_config, &output, err, sizeof(err));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                note(notes, "sshd -T failed, ignored: %s", err);
                return 0;
        }
        r = ports_parse_sshd_t(output, &ports, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = portset_add(set, ports[i], PORT_SRC_SSHD_T, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- ssh.socket */

uint16_t ports_parse_socket_listen(const char *type, const char *address) {
        const char *colon;
        char host[INET_ADDRSTRLEN];
        struct in_addr in;

        /* systemd prints a stream socket as "1.2.3.4:22", "[::]:22" (with
         * "%ifname" inside the brackets for a scope), a path, "@abstract" or
         * "vsock:CID:PORT"; only the first two are TCP. */
        if (!streq_ptr(type, "Stream") || !address)
                return 0;
        if (address[0] == '[') {
                colon = strstr(address, "]:");
                return colon ? parse_port_n(colon + 2, strlen(colon + 2)) : 0;
        }
        colon = strrchr(address, ':');
        if (!colon || (size_t) (colon - address) >= sizeof(host))
                return 0;
        memcpy(host, address, (size_t) (colon - address));
        host[colon - address] = '\0';
        if (inet_pton(AF_INET, host, &in) != 1)
                return 0;
        return parse_port_n(colon + 1, strlen(colon + 1));
}

static void bus_note(Notes *notes, const char *what, const sd_bus_error *error, int r) {
        note(notes, "%s: %s: %s", SSH_SOCKET_UNIT, what,
             sd_bus_error_is_set(error) ? error->message : strerror(-r));
}

static int discover_socket_unit(PortSet *set, Notes *notes) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *listen = NULL;
        _cleanup_free_ char *state = NULL;
        const char *path, *type, *address;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                note(notes, "%s: no system bus (%s), socket activation not checked",
                     SSH_SOCKET_UNIT, strerror(-r));
                return r == -ENOMEM ? r : 0;
        }
        (void) sd_bus_set_method_call_timeout(bus, SYSTEMD_TIMEOUT_USEC);

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &error, &reply,
                               "s", SSH_SOCKET_UNIT);
        if (r < 0) {
                /* Not loaded means not active: nothing listens for it. */
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                        return 0;
                bus_note(notes, "cannot ask systemd", &error, r);
                return r == -ENOMEM ? r : 0;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;

        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                       "org.freedesktop.systemd1.Unit", "ActiveState", &error, &state);
        if (r < 0) {
                bus_note(notes, "cannot read ActiveState", &error, r);
                return r == -ENOMEM ? r : 0;
        }
        if (!streq(state, "active") && !streq(state, "reloading"))
                return 0;

        r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path,
                                "org.freedesktop.systemd1.Socket", "Listen", &error, &listen, "a(ss)");
        if (r < 0) {
                bus_note(notes, "cannot read Listen", &error, r);
                return r == -ENOMEM ? r : 0;
        }
        r = sd_bus_message_enter_container(listen, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(listen, "(ss)", &type, &address)) > 0) {
                uint16_t port = ports_parse_socket_listen(type, address);

                if (port) {
                        r = portset_add(set, port, PORT_SRC_SOCKET_UNIT, 0);
                        if (r < 0)
                                return r;
                }
        }
        return r;
}

/* ---------------------------------------------------------------- the union */

int ports_discover(const PortsOptions *opt, SshPort **ret, size_t *ret_n, char *notes_buf, size_t noteslen) {
        static const PortsOptions defaults = {};
        _cleanup_(portset_done) PortSet set = {};
        _cleanup_free_ char *sshd = NULL;
        Notes notes = { .buf = notes_buf, .len = noteslen };
        const char *sshd_path;
        int r;

        if (!opt)
                opt = &defaults;
        sshd_path = opt->sshd_path ? opt->sshd_path : PORTS_SSHD_PATH_DEFAULT;

        if (notes_buf && noteslen > 0)
                notes_buf[0] = '\0';
        /* /proc/PID/exe holds the resolved path (/sbin/sshd is /usr/sbin/sshd
         * on merged-/usr systems). Without the binary, a running sshd may
         * still be the one of a removed package: compare the path as given. */
        sshd = realpath(sshd_path, NULL);
        if (!sshd && errno != ENOENT)
                return negative_errno();
        if (!sshd && !(sshd = strdup(sshd_path)))
                return -ENOMEM;

        r = discover_listening(sshd, &set, &notes);
        if (r >= 0 && !opt->skip_sshd_t)
                r = discover_sshd_t(opt, sshd_path, &set, &notes);
        if (r >= 0 && !opt->skip_socket_unit)
                r = discover_socket_unit(&set, &notes);
        for (size_t i = 0; r >= 0 && i < opt->n_config_ports; i++)
                r = portset_add(&set, opt->config_ports[i], PORT_SRC_CONFIG, 0);
        if (r >= 0 && set.n == 0) {
                note(&notes, "no SSH port found: guarding port %d", PORTS_FALLBACK_PORT);
                r = portset_add(&set, PORTS_FALLBACK_PORT, PORT_SRC_FALLBACK, 0);
        }
        if (r < 0)
                return r;

        qsort(set.items, set.n, sizeof(*set.items), cmp_port);
        *ret_n = set.n;
        *ret = TAKE_PTR(set.items);
        return 0;
}

const char *ports_source_names(const SshPort *p, char *buf, size_t len) {
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {
                { PORT_SRC_LISTEN,      "listening socket of sshd" },
                { PORT_SRC_SSHD_T,      "sshd -T" },
                { PORT_SRC_SOCKET_UNIT, SSH_SOCKET_UNIT },
                { PORT_SRC_CONFIG,      "config" },
                { PORT_SRC_FALLBACK,    "fallback: nothing else found" },
        };
        size_t used = 0;

        if (len == 0)
                return buf;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int k;

                if (!(p->sources & names[i].bit))
                        continue;
                if (names[i].bit == PORT_SRC_LISTEN && p->pid > 0)
                        k = snprintf(buf + used, len - used, "%s%s (pid %d)",
                                     used ? ", " : "", names[i].name, (int) p->pid);
                else
                        k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", names[i].name);
                if (k < 0 || (size_t) k >= len - used) {
                        buf[used] = '\0';      /* whole names only */
                        break;
                }
                used += (size_t) k;
        }
        return buf;
}

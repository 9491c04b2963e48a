/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.c — the SSH connection a process runs under
 *
 * The pre-flight must probe from where the administrator really is: a
 * ruleset that allows SSH only from an office network is fine for an admin
 * in that office and a lockout for anyone else. Environment variables such
 * as SSH_CONNECTION can be set by anyone; the kernel's view cannot: the
 * caller's ancestors (/proc/PID/stat), the sshd binary they run
 * (/proc/PID/exe), the sockets it holds (/proc/PID/fd) and what sock_diag
 * says those sockets are connected to.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "macro.h"
#include "peer.h"
#include "ports.h"
#include "sockdiag.h"

/* Deeper than any login: sshd, shell, sudo, su, a script or two. */
#define ANCESTORS_MAX 64

static int proc_stat(pid_t pid, pid_t *ret_ppid, uint64_t *ret_start);

static bool is_sshd(const char *exe, const char *sshd_path) {
        _cleanup_free_ char *dir = strdup(sshd_path);
        char session[PATH_MAX];
        char *slash;

        if (streq(exe, sshd_path))
                return true;
        if (!dir || !(slash = strrchr(dir, '/')))
                return false;
        *slash = 0;
        /* Debian puts sshd-session in /usr/lib/openssh, others beside sshd. */
        snprintf(session, sizeof(session), "%s/sshd-session", dir);
        return streq(exe, session) || streq(exe, "/usr/lib/openssh/sshd-session");
}

static int match(pid_t pid, const SockDiagTcp *tcp, size_t n_tcp, PeerConn *ret) {
        _cleanup_free_ uint32_t *inodes = NULL;
        size_t n = 0;
        int r = sockdiag_pid_sockets(pid, &inodes, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n_tcp; j++) {
                        if (tcp[j].inode != inodes[i])
                                continue;
                        *ret = (PeerConn) {
                                .sshd_pid = pid, .family = tcp[j].family,
                                .local = tcp[j].local, .peer = tcp[j].peer,
                                .local_port = tcp[j].local_port, .peer_port = tcp[j].peer_port,
                        };
                        return 0;
                }
        return -ENOENT;
}

int peer_ssh_connection(pid_t pid, const char *sshd_path, PeerConn *ret) {
        _cleanup_free_ SockDiagTcp *tcp = NULL;
        size_t n_tcp = 0;
        int r;

        r = sockdiag_tcp(1u << TCP_ESTABLISHED, &tcp, &n_tcp);
        if (r < 0)
                return r;
        for (unsigned depth = 0; pid > 1 && depth < ANCESTORS_MAX; depth++) {
                char exe[PATH_MAX];

                if (ports_process_exe(pid, exe, sizeof(exe)) >= 0 && is_sshd(exe, sshd_path)) {
                        r = match(pid, tcp, n_tcp, ret);
                        if (r != -ENOENT)
                                return r;
                }
                r = proc_stat(pid, &pid, NULL);
                if (r < 0)
                        return r;
        }
        return -ENOENT;
}

/* ---------------------------------------------------------------- the proof of a fresh login
 *
 * What the kernel says and a local user cannot write: the pidfd of the
 * caller, the parent links, start times, owners and executables of its
 * ancestors in /proc, and the sockets they hold as sock_diag sees them.
 * Never the environment, argv, comm, utmp or logs.
 */

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

typedef struct Ancestor {
        pid_t pid, ppid;
        uint64_t start_ticks;
        bool sshd_exe;                  /* runs an installed sshd binary */
        bool sshd;                      /* ...as root */
} Ancestor;

static int proc_stat(pid_t pid, pid_t *ret_ppid, uint64_t *ret_start) {
        char path[64], buf[1024], *p;
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long start;
        int ppid;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        if (!fgets(buf, sizeof(buf), f))
                return -ESRCH;
        p = strrchr(buf, ')');
        /* After the name: state(3) ppid(4) ... starttime(22). */
        if (!p || sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         &ppid, &start) != 2)
                return -EIO;
        *ret_ppid = ppid;
        if (ret_start)
                *ret_start = start;
        return 0;
}

/* Real, effective, saved and filesystem uid all 0. */
static bool proc_all_root(pid_t pid) {
        char path[64], line[256];
        _cleanup_fclose_ FILE *f = NULL;
        unsigned a, b, c, d;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4)
                        return a == 0 && b == 0 && c == 0 && d == 0;
        return false;
}

static bool same_file(const char *a, const char *b) {
        struct stat sa, sb;

        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool peer_exe_is_installed_sshd(const char *exe, const char *pid_exe_path, const char *sshd_path) {
        _cleanup_free_ char *real = realpath(sshd_path ?: PORTS_SSHD_PATH_DEFAULT, NULL);
        const char *fixed[] = {
                "/usr/lib/openssh/sshd-session", "/usr/libexec/openssh/sshd-session", "/usr/libexec/sshd-session",
        };
        char beside[PATH_MAX];
        const char *slash;
        bool ok = false;

        if (!exe || exe[0] != '/' || strstr(exe, " (deleted)"))
                return false;
        if (real && streq(exe, real))
                ok = true;
        if (!ok && real && (slash = strrchr(real, '/'))) {
                snprintf(beside, sizeof(beside), "%.*s/sshd-session", (int) (slash - real), real);
                ok = streq(exe, beside);
        }
        for (size_t i = 0; !ok && i < ELEMENTSOF(fixed); i++)
                ok = streq(exe, fixed[i]);
        /* The path names the installed file; the process must run that very
         * file, not one that was at that path once. */
        return ok && (!pid_exe_path || same_file(pid_exe_path, exe));
}

static bool proc_runs_installed_sshd(pid_t pid, const char *sshd_path) {
        char path[64], exe[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        n = readlink(path, exe, sizeof(exe) - 1);
        if (n < 0)
                return false;
        exe[n] = '\0';
        return peer_exe_is_installed_sshd(exe, path, sshd_path);
}

/* The sshd listener: root, running the installed sshd itself (a package
 * upgrade may have deleted the file it was started from), holding a
 * LISTEN socket on one of @ports. */
static bool is_listener(pid_t pid, const char *sshd_path, const SockDiagTcp *tcp, size_t n_tcp,
                        const uint16_t *ports, size_t n_ports) {
        _cleanup_free_ char *real = realpath(sshd_path, NULL);
        _cleanup_free_ uint32_t *inodes = NULL;
        char exe[PATH_MAX];
        size_t n = 0;

        if (!real || !proc_all_root(pid) || ports_process_exe(pid, exe, sizeof(exe)) < 0 || !streq(exe, real))
                return false;
        if (sockdiag_pid_sockets(pid, &inodes, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n_tcp; j++)
                        if (tcp[j].inode == inodes[i] && tcp[j].state == TCP_LISTEN)
                                for (size_t k = 0; k < n_ports; k++)
                                        if (tcp[j].local_port == ports[k])
                                                return true;
        return false;
}

/* The established TCP connection that @pid holds, if any. */
static int held_connection(pid_t pid, const SockDiagTcp *tcp, size_t n_tcp, PeerConn *ret) {
        _cleanup_free_ uint32_t *inodes = NULL;
        size_t n = 0;
        int r = sockdiag_pid_sockets(pid, &inodes, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n_tcp; j++)
                        if (tcp[j].inode == inodes[i] && tcp[j].state == TCP_ESTABLISHED) {
                                *ret = (PeerConn) {
                                        .sshd_pid = pid, .family = tcp[j].family,
                                        .local = tcp[j].local, .peer = tcp[j].peer,
                                        .local_port = tcp[j].local_port, .peer_port = tcp[j].peer_port,
                                };
                                return 0;
                        }
        return -ENOENT;
}

/* IPv4-mapped IPv6 addresses as IPv4. */
static void conn_normalize(PeerConn *c) {
        if (c->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&c->peer)) {
                struct in6_addr v4 = {};

                memcpy(&v4, &c->peer.s6_addr[12], 4);
                c->peer = v4;
                memset(&v4, 0, sizeof(v4));
                memcpy(&v4, &c->local.s6_addr[12], 4);
                c->local = v4;
                c->family = AF_INET;
        }
}

/* Is @peer loopback, or one of the host's own addresses (in our network
 * namespace)? An error counts as yes: it cannot be told apart. */
static bool peer_is_local(const PeerConn *c) {
        struct ifaddrs *ifa = NULL;
        bool local = false;

        if (c->family == AF_INET) {
                if ((c->peer.s6_addr[0]) == 127 || !memcmp(c->peer.s6_addr, (uint8_t[4]) {}, 4))
                        return true;
        } else if (IN6_IS_ADDR_LOOPBACK(&c->peer) || IN6_IS_ADDR_UNSPECIFIED(&c->peer))
                return true;
        if (getifaddrs(&ifa) < 0)
                return true;
        for (struct ifaddrs *i = ifa; i && !local; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != c->family)
                        continue;
                if (c->family == AF_INET)
                        local = !memcmp(&((struct sockaddr_in *) i->ifa_addr)->sin_addr, c->peer.s6_addr, 4);
                else
                        local = !memcmp(&((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, &c->peer, 16);
        }
        freeifaddrs(ifa);
        return local;
}

static pid_t pidfd_pid(int pidfd) {
        char path[64], line[128];
        _cleanup_fclose_ FILE *f = NULL;
        int pid;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "Pid: %d", &pid) == 1)
                        return pid;     /* -1: it exited */
        return -1;
}

static bool pidfd_alive(int pidfd) {
        return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

static uid_t proc_euid(pid_t pid) {
        char path[64], line[256];
        _cleanup_fclose_ FILE *f = NULL;
        unsigned a, b;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "Uid: %u %u", &a, &b) == 2)
                        return (uid_t) b;
        return UID_INVALID;
}

/* A pidfd of the caller, and its pid. SO_PEERPIDFD names the process that
 * connected, whatever became of its pid; without it (before Linux 6.5),
 * pidfd_open() on the SO_PEERCRED pid pins whatever holds that pid now, so
 * it must still be a live process of the same effective uid (weaker: a pid
 * reused by the same user in between is not caught). */
static int pin_caller(const PeerCaller *c, int *ret_fd, pid_t *ret_pid) {
        socklen_t len = sizeof(int);
        int fd = -1;
        pid_t pid;

        if (c->sock_fd >= 0 && getsockopt(c->sock_fd, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) {
                pid = pidfd_pid(fd);
                if (pid <= 0) {
                        close(fd);
                        return -ESRCH;
                }
                *ret_fd = fd;
                *ret_pid = pid;
                return 0;
        }
        if (c->pid <= 0)
                return -ESRCH;
        fd = (int) syscall(SYS_pidfd_open, c->pid, 0);
        if (fd < 0)
                return negative_errno();
        if (proc_euid(c->pid) != c->uid) {
                close(fd);
                return -ESRCH;
        }
        *ret_fd = fd;
        *ret_pid = c->pid;
        return 0;
}

static uint64_t ticks_to_ns(uint64_t ticks) {
        long hz = sysconf(_SC_CLK_TCK);

        return ticks * (1000000000ULL / (uint64_t) (hz > 0 ? hz : 100));
}

static int refuse(PeerProof *p, PeerRefusal why_code, char *why, size_t whylen, const char *fmt, ...) _printf_(5, 6);
static int refuse(PeerProof *p, PeerRefusal why_code, char *why, size_t whylen, const char *fmt, ...) {
        va_list ap;

        p->refusal = why_code;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        return -EPERM;
}

int peer_confirm_proof(const PeerCaller *caller, const char *sshd_path, uint64_t committed_boottime_ns,
                       const uint16_t *ports, size_t n_ports, PeerProof *ret, char *why, size_t whylen) {
        _cleanup_close_ int pidfd = -1;
        _cleanup_free_ SockDiagTcp *tcp = NULL;
        Ancestor chain[ANCESTORS_MAX];
        size_t n_chain = 0, n_tcp = 0, top;
        pid_t pid;
        bool found = false, guarded = false;
        int r;

        sshd_path = sshd_path ?: PORTS_SSHD_PATH_DEFAULT;
        *ret = (PeerProof) {};
        r = pin_caller(caller, &pidfd, &pid);
        if (r < 0)
                return refuse(ret, PEER_NOT_PINNED, why, whylen, "the calling process exited before it could be checked");
        ret->caller_pid = pid;
        r = sockdiag_tcp((1u << TCP_ESTABLISHED) | (1u << TCP_LISTEN), &tcp, &n_tcp);
        if (r < 0) {
                snprintf(why, whylen, "cannot list the TCP sockets: %s", strerror(-r));
                return r;
        }

        /* The ancestors, up to the per-connection sshd: the first one that
         * runs the installed sshd as root and whose parent is the listener
         * (or PID 1, for sshd -i). The processes below it are its own. */
        for (; pid > 1 && n_chain < ANCESTORS_MAX && !found; n_chain++) {
                Ancestor *a = &chain[n_chain];

                a->pid = pid;
                r = proc_stat(pid, &a->ppid, &a->start_ticks);
                if (r < 0)
                        return refuse(ret, PEER_NOT_PINNED, why, whylen, "process %d exited while it was checked", (int) pid);
                a->sshd_exe = proc_runs_installed_sshd(pid, sshd_path);
                a->sshd = a->sshd_exe && proc_all_root(pid);
                if (a->sshd && (a->ppid == 1 || is_listener(a->ppid, sshd_path, tcp, n_tcp, ports, n_ports)))
                        found = true;
                else if (!a->sshd_exe && !ret->exe[0] && held_connection(pid, tcp, n_tcp, &ret->conn) >= 0) {
                        /* Only for the message: what holds a connection but is no sshd. */
                        char exe[PATH_MAX];

                        if (ports_process_exe(pid, exe, sizeof(exe)) >= 0 && strstr(exe, "sshd"))
                                snprintf(ret->exe, sizeof(ret->exe), "%.*s", (int) sizeof(ret->exe) - 1, exe);
                }
                pid = a->ppid;
        }
        if (!found) {
                if (ret->exe[0])
                        return refuse(ret, PEER_NOT_INSTALLED_SSHD, why, whylen,
                                      "its ssh server runs %s, which is not the installed sshd (%s)", ret->exe, sshd_path);
                return refuse(ret, PEER_NO_SSHD, why, whylen, "it does not run under an ssh login");
        }
        top = n_chain - 1;

        /* The connection: held by the per-connection sshd, or by an sshd
         * process below it (the child of a privilege-separated login, owned
         * by the user). */
        r = -ENOENT;
        for (size_t k = top + 1; k-- > 0 && chain[k].sshd_exe && r < 0;)
                r = held_connection(chain[k].pid, tcp, n_tcp, &ret->conn);
        if (r < 0)
                return refuse(ret, PEER_NO_SSHD, why, whylen, "its sshd (pid %d) holds no TCP connection", (int) chain[top].pid);
        conn_normalize(&ret->conn);
        ret->conn.sshd_pid = chain[top].pid;
        ret->sshd_start_boottime_ns = ticks_to_ns(chain[top].start_ticks);
        for (size_t k = top + 1; k-- > 0;)
                if (!chain[k].sshd_exe) {
                        ret->session_start_boottime_ns = ticks_to_ns(chain[k].start_ticks);
                        break;
                }

        /* Every link was what it claimed while we looked: a process whose
         * parent died is reparented, and one whose pid was reused starts
         * later. Then the caller itself is still the one that connected. */
        for (size_t k = 0; k <= top; k++) {
                pid_t ppid;
                uint64_t start;

                if (proc_stat(chain[k].pid, &ppid, &start) < 0 || ppid != chain[k].ppid || start != chain[k].start_ticks)
                        return refuse(ret, PEER_NOT_PINNED, why, whylen, "process %d changed while it was checked",
                                      (int) chain[k].pid);
        }
        if (!pidfd_alive(pidfd))
                return refuse(ret, PEER_NOT_PINNED, why, whylen, "the calling process exited before it could be checked");

        for (size_t k = 0; k < n_ports; k++)
                guarded = guarded || ports[k] == ret->conn.local_port;
        if (!guarded)
                return refuse(ret, PEER_PORT_NOT_GUARDED, why, whylen,
                              "its ssh connection came in on port %u, which is not a guarded SSH port",
                              ret->conn.local_port);
        if (peer_is_local(&ret->conn))
                return refuse(ret, PEER_LOCAL_PEER, why, whylen,
                              "its ssh connection comes from this host itself (loopback, one of its own "
                              "addresses, or a port forward), so it did not cross the firewall");
        /* Start times count whole clock ticks: one that began in the tick
         * of the commit may have begun before it. */
        if (ret->sshd_start_boottime_ns <= committed_boottime_ns)
                return refuse(ret, ret->session_start_boottime_ns > committed_boottime_ns ? PEER_MULTIPLEXED
                                                                                         : PEER_BEFORE_COMMIT,
                              why, whylen, "its ssh connection was opened before the change was committed");
        ret->refusal = PEER_ACCEPTED;
        return 0;
}

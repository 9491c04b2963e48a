/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.c — the parent side of the sandbox: compiling nft text, probing a ruleset
 *
 * nft text is untrusted input for a root daemon: libnftables follows an
 * include of any path and prints the included lines in its errors, hangs on a
 * FIFO, and may crash or eat memory. So fwguard never parses nft text itself.
 * It starts the small fwguard-sandbox executable (sandbox/) as a child in a
 * process group of its own, gives it the rules and S0 as fds over a
 * SOCK_SEQPACKET socketpair (sandbox-proto.h is the whole contract), and
 * waits for it to end under a wall-clock deadline. The child takes the
 * caller's credentials before anything is opened on the caller's behalf, so
 * whether an include may be read is decided by the kernel, for the caller.
 *
 * The reachability probe (probe.h) runs there too, never in the live
 * namespace: it loads the ruleset it tests, and a ruleset that is wrong
 * enough to need the probe must not be live for even a moment. The child
 * loads the ruleset into its own network namespace, next to placeholders of
 * the host's links, and probes through the placeholder of the interface the
 * admin comes in on. Both requests go through one run_sandbox(): only the
 * request, the deadline and the answer that means success differ.
 *
 * Whatever the child does, the answer here is one of a few clear results.
 * How the child ended is read first: killed at the deadline, killed by a
 * signal, out of memory. Only a child that exited 0 is asked for its single
 * answer, and that answer is checked like hostile input: S1 only from a memfd
 * sealed against writes (it cannot change while we parse it), parsed by
 * snapshot_read(), which validates every object. The whole process group is
 * killed before the child is reaped, so nothing it started outlives it.
 *
 * Under systemd the daemon holds none of the privileges the child needs
 * (namespaces, the caller's uid), so it does not fork the child: it
 * connects to the sandbox service (sandbox_set_service()), whose spawner
 * runs the child on that very connection (sandbox-child.c). The protocol
 * with the child is the same; only the wait status comes from the
 * spawner's last message instead of waitpid(), and the child is killed by
 * our hang-up instead of by us.
 *
 * This waits synchronously; the caller decides which thread or process pays
 * for that.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errtext.h"
#include "fileio.h"
#include "macro.h"
#include "probe.h"
#include "sandbox-child.h"
#include "sandbox-proto.h"
#include "sandbox.h"
#include "snapshot.h"

/* libnftables calls exit() with this code when an allocation fails. */
#define NFT_EXIT_NOMEM 2

/* What one run of the sandbox is: the words for how it ended, its limits,
 * and the answer that means success. */
typedef struct Run {
        const char *who;                /* "the parser": who did not finish, crashed, ... */
        const char *slow;               /* why it might not finish, for the timeout, or "" */
        SandboxLimits lim;              /* the defaults filled in */
        unsigned wall_sec;              /* the deadline; also the CPU-time limit */
        SandboxMsgType answer;          /* SANDBOX_MSG_RESULT, SANDBOX_MSG_PROBED */
        bool may_reject;                /* SANDBOX_MSG_REJECTED is an answer too */
} Run;

/* Where the sandbox service listens (sandbox_set_service()); NULL: the
 * sandbox is forked here. */
static const char *service_socket;

void sandbox_set_service(const char *socket_path) {
        service_socket = socket_path;
}

bool sandbox_has_service(void) {
        return service_socket != NULL;
}

/* A ruleset travels as a memfd: an fd, never a path, and no disk involved. */
static int snapshot_memfd(const Ruleset *rs, int *ret) {
        _cleanup_close_ int fd = memfd_create("fwguard-snapshot", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return negative_errno();
        r = snapshot_write(fd, rs, 0);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

/* @lim with its defaults, and a deadline of its timeout plus @extra_ms (the
 * probe's own budget). */
static Run run_make(const char *who, const char *slow, const SandboxLimits *lim, uint64_t extra_ms,
                    SandboxMsgType answer, bool may_reject) {
        Run run = { .who = who, .slow = slow, .lim = *lim, .answer = answer, .may_reject = may_reject };

        if (run.lim.timeout_sec == 0)
                run.lim.timeout_sec = SANDBOX_DEFAULT_TIMEOUT_SEC;
        if (run.lim.memory_bytes == 0)
                run.lim.memory_bytes = SANDBOX_DEFAULT_MEMORY;
        if (run.lim.nofile == 0)
                run.lim.nofile = SANDBOX_DEFAULT_NOFILE;
        run.wall_sec = run.lim.timeout_sec + (unsigned) MIN((extra_ms + 999) / 1000, (uint64_t) UINT16_MAX);
        return run;
}

static SandboxMsgLimits run_limits(const Run *run) {
        /* The sandbox is single-threaded: it uses at most as much CPU as
         * wall-clock time. The CPU limit still holds if we are gone. */
        return (SandboxMsgLimits) {
                .as = run->lim.memory_bytes, .cpu = run->wall_sec, .nofile = run->lim.nofile,
        };
}

/* How the child ended, when that alone is the answer; 0 when it exited 0. */
static int judge_exit(int status, bool timed_out, const Run *run, const char *path, char **ret_errors) {
        if (timed_out)
                return errtext(ret_errors, -ETIMEDOUT, "%s did not finish within %u s%s; nothing live was changed",
                            run->who, run->wall_sec, run->slow);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
                return errtext(ret_errors, -ETIMEDOUT, "%s used more than %u s of CPU time; nothing live was changed",
                            run->who, run->wall_sec);
        if (WIFSIGNALED(status))
                return errtext(ret_errors, -EPROTO, "%s crashed (signal %d, %s); nothing live was changed",
                            run->who, WTERMSIG(status), strsignal(WTERMSIG(status)));
        if (!WIFEXITED(status))
                return errtext(ret_errors, -EPROTO, "%s ended with wait status 0x%x", run->who, (unsigned) status);
        switch (WEXITSTATUS(status)) {
        case 0:
                return 0;
        case NFT_EXIT_NOMEM:
                return errtext(ret_errors, -ENOMEM, "%s ran out of memory (limit %llu MiB); nothing live was changed",
                            run->who, (unsigned long long) (run->lim.memory_bytes >> 20));
        case SANDBOX_CHILD_EXIT_NO_EXEC:
                if (service_socket)
                        return errtext(ret_errors, -ENOEXEC, "the sandbox service at %s cannot execute the sandbox",
                                    service_socket);
                return errtext(ret_errors, -ENOEXEC, "cannot execute the sandbox %s", path);
        default:
                return errtext(ret_errors, -EPROTO, "the sandbox failed (exit status %d) without an answer",
                            WEXITSTATUS(status));
        }
}

/* An answer's fd must be a memfd sealed against any change: it cannot
 * change while we read it. */
static bool sealed(int fd) {
        const int need = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
        int seals = fcntl(fd, F_GET_SEALS);

        return seals >= 0 && (seals & need) == need;
}

static int read_s1(int fd, const Ruleset *s0, Ruleset **ret, char **ret_errors) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        char err[256] = "";
        int r;

        if (!sealed(fd))
                return errtext(ret_errors, -EPROTO, "the sandbox's result is not a sealed memfd");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return errtext(ret_errors, negative_errno(), "cannot read the sandbox's result: %m");
        r = snapshot_read(fd, &s1, NULL, err, sizeof(err));
        if (r == -EBADMSG)
                return errtext(ret_errors, -EPROTO, "the sandbox's result is not a valid snapshot: %s", err);
        if (r < 0)
                return errtext(ret_errors, r, "cannot read the sandbox's result: %s", strerror(-r));
        /* The sandbox's kernel has no owners; the live one still does. */
        for (size_t i = 0; i < s1->tables.n; i++) {
                RsTable *t = ruleset_table(s1, i);
                const RsTable *o = ruleset_find_table(s0, t->family, t->name);

                t->owned = o && o->owned;
        }
        /* The generation of the sandbox's kernel means nothing live. */
        s1->genid = 0;
        *ret = TAKE_PTR(s1);
        return 0;
}

static void close_fds(int fds[static SANDBOX_FDS_MAX]) {
        for (size_t i = 0; i < SANDBOX_FDS_MAX; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* One message into @msg: the fd of the answer of success into *@ret_fd,
 * any other fd closed. Its type, or what sandbox_msg_recv() said. */
static int recv_msg(int sock, const Run *run, SandboxMsg *msg, int *ret_fd) {
        int fds[SANDBOX_FDS_MAX], r;

        r = sandbox_msg_recv(sock, MSG_DONTWAIT, msg, fds);
        if (r <= 0)
                return r;
        if (r == (int) run->answer)
                *ret_fd = TAKE_FD(fds[0]);
        close_fds(fds);
        return r;
}

/* From the sandbox service, how the child ended comes after its answer
 * (@first, of type *@type), or in place of it (then *@type becomes
 * -EAGAIN: no answer). 0 with *@ret_status, or -EPROTO. */
static int take_status(int sock, int *type, const SandboxMsg *first, SandboxMsg *buf, int *ret_status,
                       char **ret_errors) {
        int fds[SANDBOX_FDS_MAX], r;

        if (*type == SANDBOX_MSG_EXITED) {
                *ret_status = first->exited.status;
                *type = -EAGAIN;
                return 0;
        }
        r = sandbox_msg_recv(sock, MSG_DONTWAIT, buf, fds);
        if (r > 0)
                close_fds(fds);
        if (r != SANDBOX_MSG_EXITED)
                return errtext(ret_errors, -EPROTO, "the sandbox service did not say how the sandbox ended "
                            "(see journalctl -u 'fwguard-sandbox@*')");
        *ret_status = buf->exited.status;
        return 0;
}

/* What the child's one message says, of type @type or as its receipt
 * failed: 0 for the answer of success. */
static int judge_answer(int type, const Run *run, const SandboxMsg *msg, char **ret_errors) {
        /* -ECONNRESET: it exited with our request still unread. */
        if (type == 0 || type == -EAGAIN || type == -ECONNRESET)
                return errtext(ret_errors, -EPROTO, "the sandbox exited without an answer");
        if (type == -EBADMSG)
                return errtext(ret_errors, -EPROTO, "the sandbox sent an answer outside the protocol");
        if (type < 0)
                return errtext(ret_errors, type, "cannot read the sandbox's answer: %s", strerror(-type));
        if (type == (int) run->answer)
                return 0;
        if (type == SANDBOX_MSG_REJECTED && run->may_reject)
                return errtext(ret_errors, -EINVAL, "%.*s", (int) msg->text.len, msg->text.text);
        if (type == SANDBOX_MSG_FAILED)
                /* -EINVAL is reserved for "nft refused the rules". */
                return errtext(ret_errors, msg->text.error == -EINVAL ? -EIO : msg->text.error,
                            "%.*s", (int) msg->text.len, msg->text.text);
        return errtext(ret_errors, -EPROTO, "the sandbox sent an answer outside the protocol");
}

/* Anything after the one answer (and the service's word) breaks the protocol. */
static int expect_end(int sock, SandboxMsg *buf, char **ret_errors) {
        int fds[SANDBOX_FDS_MAX], r;

        r = sandbox_msg_recv(sock, MSG_DONTWAIT, buf, fds);
        if (r > 0)
                close_fds(fds);
        if (r > 0 || r == -EBADMSG)
                return errtext(ret_errors, -EPROTO, "the sandbox sent more than one answer");
        return 0;
}

/* The sandbox forked here, on one end of a new socketpair; the other end
 * into *@ret_sock. */
static int fork_child(const char *path, int *ret_sock, pid_t *ret_child, char **ret_errors) {
        _cleanup_close_ int sock = -1, child_sock = -1;
        int pair[2], r;

        if (access(path, X_OK) < 0)
                return errtext(ret_errors, negative_errno(), "cannot execute the sandbox %s: %m", path);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return errtext(ret_errors, negative_errno(), "cannot create the sandbox's socket: %m");
        sock = pair[0];
        child_sock = pair[1];
        r = sandbox_child_spawn(path, child_sock, ret_child);
        if (r < 0)
                return errtext(ret_errors, r, "cannot start the sandbox: %s", strerror(-r));
        /* Our copy of the child's end (closed here) would keep the socket open forever. */
        *ret_sock = TAKE_FD(sock);
        return 0;
}

/* A connection to the sandbox service: systemd starts a spawner for it,
 * and the child that the spawner runs answers on it. Whoever listens must
 * be root (systemd): the rules and S0 go there. */
static int service_connect(const char *path, int *ret_sock, char **ret_errors) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int sock = -1;
        struct ucred peer;
        socklen_t len = sizeof(peer);

        if (strlen(path) >= sizeof(sa.sun_path))
                return errtext(ret_errors, -ENAMETOOLONG, "the path of the sandbox service is too long: %s", path);
        strcpy(sa.sun_path, path);
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return errtext(ret_errors, negative_errno(), "cannot create the sandbox's socket: %m");
        if (connect(sock, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errtext(ret_errors, negative_errno(), "cannot reach the sandbox service at %s: %m", path);
        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0)
                return errtext(ret_errors, negative_errno(), "cannot tell who runs the sandbox service at %s: %m",
                            path);
        if (peer.uid != 0)
                return errtext(ret_errors, -EPERM, "the sandbox service at %s does not run as root (uid %u)",
                            path, (unsigned) peer.uid);
        *ret_sock = TAKE_FD(sock);
        return 0;
}

/* Start the sandbox (here, or through the service), hand it @req with
 * @fds, wait until it ends or the deadline passes, judge how it ended, then
 * its one answer: 0 for the answer of success, in @ret with its fd in
 * *@ret_fd (-1 if it has none). Otherwise a negative errno with
 * *ret_errors set. */
static int run_sandbox(const Run *run, const SandboxMsg *req, const int *fds, size_t n_fds,
                       SandboxMsg *ret, int *ret_fd, char **ret_errors) {
        _cleanup_(sandbox_child_reapp) pid_t child = 0;
        _cleanup_free_ SandboxMsg *extra = malloc(sizeof(SandboxMsg));
        _cleanup_close_ int sock = -1, fd = -1;
        const char *path = sandbox_child_path();
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t) run->wall_sec * 1000000ULL;
        int status = 0, type, r;

        if (!extra)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        if (service_socket)
                r = service_connect(service_socket, &sock, ret_errors);
        else
                r = fork_child(path, &sock, &child, ret_errors);
        if (r < 0)
                return r;

        r = sandbox_msg_send(sock, req, fds, n_fds);
        /* A child that died early resets the socket: how it died says why. */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return errtext(ret_errors, r, "cannot send the request to the sandbox: %s", strerror(-r));

        /* At the deadline, our hang-up (the return) makes the service kill
         * its child; a child forked here is killed when it is reaped. */
        r = sandbox_child_wait(sock, -1, deadline);
        if (r == -ETIMEDOUT)
                return judge_exit(0, true, run, path, ret_errors);
        if (r < 0)
                return errtext(ret_errors, r, "cannot wait for the sandbox: %s", strerror(-r));

        /* Everything is queued by now: the child's answer, then the service's word. */
        type = recv_msg(sock, run, ret, &fd);
        if (service_socket) {
                r = take_status(sock, &type, ret, extra, &status, ret_errors);
                if (r < 0)
                        return r;
        } else
                status = sandbox_child_reap(&child);
        r = judge_exit(status, false, run, path, ret_errors);
        if (r < 0)
                return r;
        r = judge_answer(type, run, ret, ret_errors);
        if (r < 0)
                return r;
        r = expect_end(sock, extra, ret_errors);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int sandbox_compile(const SandboxRequest *req, Ruleset **ret_s1, char **ret_errors) {
        _cleanup_free_ SandboxMsg *msg = calloc(1, sizeof(SandboxMsg)), *answer = malloc(sizeof(SandboxMsg));
        _cleanup_close_ int s0_fd = -1, s1_fd = -1;
        SandboxMsgCompile *m;
        Run run;
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        if (req->rules_fd < 0 || !req->s0)
                return errtext(ret_errors, -EBADF, "no rules or no live snapshot to compile against");
        if (!req->display_name || !sandbox_display_name_valid(req->display_name))
                return errtext(ret_errors, -EINVAL, "the name of the rules is empty, too long or has control characters");
        if (req->n_groups > SANDBOX_GROUPS_MAX)
                return errtext(ret_errors, -E2BIG, "the caller has more than %d supplementary groups",
                            SANDBOX_GROUPS_MAX);
        if (!msg || !answer)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        run = run_make("the parser", " (an include of a FIFO, or a huge file?)", &req->limits, 0,
                       SANDBOX_MSG_RESULT, true);

        m = &msg->compile;
        m->type = SANDBOX_MSG_COMPILE;
        m->uid = req->uid;
        m->gid = req->gid;
        m->n_groups = (uint32_t) req->n_groups;
        for (size_t i = 0; i < req->n_groups; i++)
                m->groups[i] = req->groups[i];
        m->limits = run_limits(&run);
        strcpy(m->display_name, req->display_name);

        r = snapshot_memfd(req->s0, &s0_fd);
        if (r < 0)
                return errtext(ret_errors, r, "cannot hand the live ruleset to the sandbox: %s", strerror(-r));
        r = run_sandbox(&run, msg, (const int[]) { req->rules_fd, s0_fd }, 2, answer, &s1_fd, ret_errors);
        if (r < 0)
                return r;
        return read_s1(s1_fd, req->s0, ret_s1, ret_errors);
}

/* The answer must be for exactly the ports asked, in their order. */
static int read_probed(const SandboxMsgProbed *a, const SandboxMsgProbe *q, ProbeResult *ret, char **ret_errors) {
        _cleanup_(probe_result_free) ProbeResult res = {};

        if (a->n_ports != q->n_ports)
                return errtext(ret_errors, -EPROTO, "the sandbox answered for other ports than asked");
        for (uint32_t i = 0; i < a->n_ports; i++)
                if (a->ports[i].port != q->ports[i])
                        return errtext(ret_errors, -EPROTO, "the sandbox answered for other ports than asked");
        res.ports = calloc(a->n_ports, sizeof(ProbePort));
        if (!res.ports)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        res.traces_lost = a->traces_lost;
        for (; res.n_ports < a->n_ports; res.n_ports++)
                if (sandbox_probe_port_unpack(&a->ports[res.n_ports], &res.ports[res.n_ports]) < 0)
                        return errtext(ret_errors, -ENOMEM, "out of memory");
        *ret = res;
        res = (ProbeResult) {};
        return 0;
}

int sandbox_probe(const SandboxProbeRequest *req, ProbeResult *ret, char **ret_errors) {
        _cleanup_free_ SandboxMsg *msg = calloc(1, sizeof(SandboxMsg)), *answer = malloc(sizeof(SandboxMsg));
        _cleanup_close_ int rs_fd = -1, no_fd = -1;
        SandboxMsgProbe *m;
        const char *problem;
        Run run;
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        if (!req->rs || !req->host_if || (!req->ports && req->n_ports > 0))
                return errtext(ret_errors, -EINVAL, "no ruleset, interface or ports to probe");
        if (!msg || !answer)
                return errtext(ret_errors, -ENOMEM, "out of memory");

        m = &msg->probe;
        m->type = SANDBOX_MSG_PROBE;
        m->timeout_ms = req->timeout_ms ? req->timeout_ms : PROBE_TIMEOUT_MS_DEFAULT;
        /* A name that fills the field has no NUL there: the check refuses it. */
        memcpy(m->host_if, req->host_if, strnlen(req->host_if, sizeof(m->host_if)));
        sandbox_addr_pack(&req->server, &m->server);
        sandbox_addr_pack(&req->client, &m->client);
        m->n_ports = (uint32_t) MIN(req->n_ports, (size_t) SANDBOX_PROBE_PORTS_MAX + 1);
        for (size_t i = 0; i < MIN(req->n_ports, (size_t) SANDBOX_PROBE_PORTS_MAX); i++)
                m->ports[i] = req->ports[i];
        problem = sandbox_msg_probe_check(m);
        if (problem)
                return errtext(ret_errors, -EINVAL, "cannot probe: %s", problem);
        run = run_make("the probe", "", &req->limits, probe_budget_ms(m->timeout_ms), SANDBOX_MSG_PROBED, false);
        m->limits = run_limits(&run);

        r = snapshot_memfd(req->rs, &rs_fd);
        if (r < 0)
                return errtext(ret_errors, r, "cannot hand the ruleset to test to the sandbox: %s", strerror(-r));
        r = run_sandbox(&run, msg, &rs_fd, 1, answer, &no_fd, ret_errors);
        if (r < 0)
                return r;
        return read_probed(&answer->probed, m, ret, ret_errors);
}

int sandbox_list(const Ruleset *rs, int out_fd, char **ret_errors) {
        _cleanup_free_ SandboxMsg *msg = calloc(1, sizeof(SandboxMsg)), *answer = malloc(sizeof(SandboxMsg));
        _cleanup_close_ int rs_fd = -1, text_fd = -1;
        Run run;
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        if (!msg || !answer)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        run = run_make("the listing", "", &(SandboxLimits) {}, 0, SANDBOX_MSG_LISTED, false);
        msg->list.type = SANDBOX_MSG_LIST;
        msg->list.limits = run_limits(&run);

        r = snapshot_memfd(rs, &rs_fd);
        if (r < 0)
                return errtext(ret_errors, r, "cannot hand the ruleset to list to the sandbox: %s", strerror(-r));
        r = run_sandbox(&run, msg, &rs_fd, 1, answer, &text_fd, ret_errors);
        if (r < 0)
                return r;
        if (!sealed(text_fd))
                return errtext(ret_errors, -EPROTO, "the sandbox's listing is not a sealed memfd");
        if (lseek(text_fd, 0, SEEK_SET) < 0)
                return errtext(ret_errors, negative_errno(), "cannot read the sandbox's listing: %m");
        r = fileio_copy(text_fd, out_fd);
        if (r < 0)
                return errtext(ret_errors, r, "cannot copy the sandbox's listing: %s", strerror(-r));
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.c — the parent side of the compile sandbox
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
 * Whatever the child does, the answer here is one of a few clear results.
 * How the child ended is read first: killed at the deadline, killed by a
 * signal, out of memory. Only a child that exited 0 is asked for its single
 * answer, and that answer is checked like hostile input: S1 only from a memfd
 * sealed against writes (it cannot change while we parse it), parsed by
 * snapshot_read(), which validates every object. The whole process group is
 * killed before the child is reaped, so nothing it started outlives it.
 *
 * This waits synchronously; the caller decides which thread or process pays
 * for that.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "sandbox-proto.h"
#include "sandbox.h"
#include "snapshot.h"

/* libnftables calls exit() with this code when an allocation fails. */
#define NFT_EXIT_NOMEM 2
/* The forked child could not execute the sandbox. */
#define EXIT_NO_EXEC 127

static int fail(char **ret_errors, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_errors, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_errors) {
                va_start(ap, fmt);
                if (vasprintf(ret_errors, fmt, ap) < 0)
                        *ret_errors = NULL;
                va_end(ap);
        }
        return r;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static const char *sandbox_path(void) {
        const char *p = secure_getenv("FWGUARD_SANDBOX");

        return p && *p ? p : LIBEXECDIR "/fwguard-sandbox";
}

/* S0 travels as a memfd: an fd, never a path, and no disk involved. */
static int s0_memfd(const Ruleset *s0, int *ret) {
        _cleanup_close_ int fd = memfd_create("fwguard-s0", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return negative_errno();
        r = snapshot_write(fd, s0, 0);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

static int spawn(const char *path, int child_sock, pid_t *ret) {
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        char *argv[] = { (char *) "fwguard-sandbox", NULL };
        pid_t pid;

        if (null < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                /* Only async-signal-safe calls until execve(): the parent may
                 * have threads. Move both fds above SANDBOX_FD first, so that
                 * neither is clobbered by the dup2()s whatever its number. */
                int s = fcntl(child_sock, F_DUPFD, SANDBOX_FD + 1);
                int n = fcntl(null, F_DUPFD, SANDBOX_FD + 1);

                (void) setpgid(0, 0);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (s < 0 || n < 0 || dup2(n, STDIN_FILENO) < 0 || dup2(n, STDOUT_FILENO) < 0 ||
                    dup2(s, SANDBOX_FD) < 0)
                        _exit(EXIT_NO_EXEC);
                (void) close_range(SANDBOX_FD + 1, ~0U, 0);
                execve(path, argv, environ);
                _exit(EXIT_NO_EXEC);
        }
        /* From this side too, so that the group exists before we may kill it. */
        (void) setpgid(pid, pid);
        *ret = pid;
        return 0;
}

/* Wait until the child's end of the socket is closed, or the deadline
 * passes: 0 or -ETIMEDOUT. The sandbox holds that end close-on-exec and
 * nobody else has it, so its hang-up is the child's exit; this works where
 * pidfds do not (valgrind). Asking for no event means the answer already
 * queued does not wake us: only POLLHUP and POLLERR do. */
static int wait_hangup(int sock, uint64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = sock, .events = 0 };
                uint64_t now = now_usec();
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
                if (r > 0)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return negative_errno();
        }
}

/* Kill what is left of the child's process group, then reap the child. The
 * group is killed first: while the child is an unreaped zombie its group id
 * cannot be reused, so the signal reaches nobody else. A child that is
 * already exiting keeps its own exit status. */
static int reap(pid_t *pid) {
        int status = 0;

        if (*pid <= 0)
                return 0;
        (void) kill(-*pid, SIGKILL);
        while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
        return status;
}

static void reapp(pid_t *pid) {
        (void) reap(pid);
}

static int send_request(int sock, const SandboxRequest *req, const SandboxLimits *lim, int s0_fd) {
        _cleanup_free_ SandboxMsg *msg = calloc(1, sizeof(SandboxMsg));
        SandboxMsgCompile *m;

        if (!msg)
                return -ENOMEM;
        m = &msg->compile;
        m->type = SANDBOX_MSG_COMPILE;
        m->uid = req->uid;
        m->gid = req->gid;
        m->n_groups = (uint32_t) req->n_groups;
        for (size_t i = 0; i < req->n_groups; i++)
                m->groups[i] = req->groups[i];
        m->limit_as = lim->memory_bytes;
        /* A single-threaded parser uses at most as much CPU as wall-clock
         * time; the CPU limit still holds if we are gone. */
        m->limit_cpu = lim->timeout_sec;
        m->limit_nofile = lim->nofile;
        strcpy(m->display_name, req->display_name);
        return sandbox_msg_send(sock, msg, (const int[]) { req->rules_fd, s0_fd }, 2);
}

/* How the child ended, when that alone is the answer; 0 when it exited 0. */
static int judge_exit(int status, bool timed_out, const SandboxLimits *lim, const char *path,
                      char **ret_errors) {
        if (timed_out)
                return fail(ret_errors, -ETIMEDOUT,
                            "the parser did not finish within %u s (an include of a FIFO, or a huge file?); "
                            "nothing live was changed", lim->timeout_sec);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
                return fail(ret_errors, -ETIMEDOUT,
                            "the parser used more than %u s of CPU time; nothing live was changed",
                            lim->timeout_sec);
        if (WIFSIGNALED(status))
                return fail(ret_errors, -EPROTO, "the parser crashed (signal %d, %s); nothing live was changed",
                            WTERMSIG(status), strsignal(WTERMSIG(status)));
        if (!WIFEXITED(status))
                return fail(ret_errors, -EPROTO, "the parser ended with wait status 0x%x", (unsigned) status);
        switch (WEXITSTATUS(status)) {
        case 0:
                return 0;
        case NFT_EXIT_NOMEM:
                return fail(ret_errors, -ENOMEM,
                            "the parser ran out of memory (limit %llu MiB); nothing live was changed",
                            (unsigned long long) (lim->memory_bytes >> 20));
        case EXIT_NO_EXEC:
                return fail(ret_errors, -ENOEXEC, "cannot execute the sandbox %s", path);
        default:
                return fail(ret_errors, -EPROTO, "the sandbox failed (exit status %d) without an answer",
                            WEXITSTATUS(status));
        }
}

static int read_s1(int fd, const Ruleset *s0, Ruleset **ret, char **ret_errors) {
        const int need = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        char err[256] = "";
        int seals, r;

        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || (seals & need) != need)
                return fail(ret_errors, -EPROTO, "the sandbox's result is not a sealed memfd");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return fail(ret_errors, negative_errno(), "cannot read the sandbox's result: %m");
        r = snapshot_read(fd, &s1, NULL, err, sizeof(err));
        if (r == -EBADMSG)
                return fail(ret_errors, -EPROTO, "the sandbox's result is not a valid snapshot: %s", err);
        if (r < 0)
                return fail(ret_errors, r, "cannot read the sandbox's result: %s", strerror(-r));
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

/* The one answer of a child that exited 0. Anything after it breaks the protocol. */
static int take_answer(int sock, const Ruleset *s0, Ruleset **ret_s1, char **ret_errors) {
        _cleanup_free_ SandboxMsg *msg = malloc(sizeof(SandboxMsg));
        _cleanup_free_ SandboxMsg *extra = malloc(sizeof(SandboxMsg));
        _cleanup_close_ int s1_fd = -1;
        int fds[SANDBOX_FDS_MAX], r;

        if (!msg || !extra)
                return fail(ret_errors, -ENOMEM, "out of memory");
        r = sandbox_msg_recv(sock, MSG_DONTWAIT, msg, fds);
        /* -ECONNRESET: it exited with our request still unread. */
        if (r == 0 || r == -EAGAIN || r == -ECONNRESET)
                return fail(ret_errors, -EPROTO, "the sandbox exited without an answer");
        if (r == -EBADMSG)
                return fail(ret_errors, -EPROTO, "the sandbox sent an answer outside the protocol");
        if (r < 0)
                return fail(ret_errors, r, "cannot read the sandbox's answer: %s", strerror(-r));
        if (r == SANDBOX_MSG_RESULT)
                s1_fd = fds[0];
        else
                close_fds(fds);

        r = sandbox_msg_recv(sock, MSG_DONTWAIT, extra, fds);
        if (r > 0)
                close_fds(fds);
        if (r > 0 || r == -EBADMSG)
                return fail(ret_errors, -EPROTO, "the sandbox sent more than one answer");

        switch ((SandboxMsgType) msg->type) {
        case SANDBOX_MSG_RESULT:
                return read_s1(s1_fd, s0, ret_s1, ret_errors);
        case SANDBOX_MSG_REJECTED:
                return fail(ret_errors, -EINVAL, "%.*s", (int) msg->text.len, msg->text.text);
        case SANDBOX_MSG_FAILED:
                /* -EINVAL is reserved for "nft refused the rules". */
                return fail(ret_errors, msg->text.error == -EINVAL ? -EIO : msg->text.error,
                            "%.*s", (int) msg->text.len, msg->text.text);
        case SANDBOX_MSG_COMPILE:
        case _SANDBOX_MSG_MAX:
                break;
        }
        return fail(ret_errors, -EPROTO, "the sandbox sent an answer outside the protocol");
}

int sandbox_compile(const SandboxRequest *req, Ruleset **ret_s1, char **ret_errors) {
        _cleanup_(reapp) pid_t child = 0;
        _cleanup_close_ int s0_fd = -1, sock = -1, child_sock = -1;
        const char *path = sandbox_path();
        SandboxLimits lim = req->limits;
        bool timed_out;
        uint64_t deadline;
        int pair[2], status, r;

        if (ret_errors)
                *ret_errors = NULL;
        if (req->rules_fd < 0 || !req->s0)
                return fail(ret_errors, -EBADF, "no rules or no live snapshot to compile against");
        if (!req->display_name || !sandbox_display_name_valid(req->display_name))
                return fail(ret_errors, -EINVAL, "the name of the rules is empty, too long or has control characters");
        if (req->n_groups > SANDBOX_GROUPS_MAX)
                return fail(ret_errors, -E2BIG, "the caller has more than %d supplementary groups",
                            SANDBOX_GROUPS_MAX);
        if (lim.timeout_sec == 0)
                lim.timeout_sec = SANDBOX_DEFAULT_TIMEOUT_SEC;
        if (lim.memory_bytes == 0)
                lim.memory_bytes = SANDBOX_DEFAULT_MEMORY;
        if (lim.nofile == 0)
                lim.nofile = SANDBOX_DEFAULT_NOFILE;
        deadline = now_usec() + (uint64_t) lim.timeout_sec * 1000000ULL;

        if (access(path, X_OK) < 0)
                return fail(ret_errors, negative_errno(), "cannot execute the sandbox %s: %m", path);
        r = s0_memfd(req->s0, &s0_fd);
        if (r < 0)
                return fail(ret_errors, r, "cannot hand the live ruleset to the sandbox: %s", strerror(-r));
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return fail(ret_errors, negative_errno(), "cannot create the sandbox's socket: %m");
        sock = pair[0];
        child_sock = pair[1];

        r = spawn(path, child_sock, &child);
        if (r < 0)
                return fail(ret_errors, r, "cannot start the sandbox: %s", strerror(-r));
        /* Our copy of the child's end would keep the socket open forever. */
        close(TAKE_FD(child_sock));

        r = send_request(sock, req, &lim, s0_fd);
        /* A child that died early resets the socket: how it died says why. */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return fail(ret_errors, r, "cannot send the request to the sandbox: %s", strerror(-r));

        r = wait_hangup(sock, deadline);
        if (r < 0 && r != -ETIMEDOUT)
                return fail(ret_errors, r, "cannot wait for the sandbox: %s", strerror(-r));
        timed_out = r == -ETIMEDOUT;
        status = reap(&child);
        r = judge_exit(status, timed_out, &lim, path, ret_errors);
        if (r < 0)
                return r;
        return take_answer(sock, req->s0, ret_s1, ret_errors);
}

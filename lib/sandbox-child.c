/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-child.c — starting, waiting for and reaping a fwguard-sandbox child, here or in the sandbox service
 *
 * A sandbox child is started in one of two places. Without a service,
 * lib/sandbox.c forks it from the caller (fwguardd, or `fwguard check`) and
 * reaps it itself. Under systemd, fwguardd has none of the privileges the
 * child needs (namespaces, the caller's uid): it connects to the sandbox
 * service's socket instead, and systemd starts one spawner per connection
 * (fwguard-sandbox-spawner, units/fwguard-sandbox@.service), which runs
 * the child with that connection as its socket. Both use the functions
 * here, so the child is started, bounded and reaped the same way wherever
 * it runs.
 *
 * In the service the parent cannot reap the child, so the spawner tells it
 * how the child ended, as one SANDBOX_MSG_EXITED after everything the
 * child sent, then shuts its side of the connection down: the parent waits
 * for that shutdown as it waits for a forked child's hang-up, and takes the
 * last message for the wait status. The child holds the same connection
 * and could send an EXITED of its own, but never after the spawner's, and
 * the parent checks that nothing but one answer comes before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "sandbox-child.h"
#include "sandbox-proto.h"

const char *sandbox_child_path(void) {
        const char *p = secure_getenv("FWGUARD_SANDBOX");

        return p && *p ? p : LIBEXECDIR "/fwguard-sandbox";
}

int sandbox_child_spawn(const char *path, int sock, pid_t *ret) {
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        char *argv[] = { (char *) "fwguard-sandbox", NULL };
        pid_t pid;

        if (null < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                /* Move both fds above SANDBOX_FD first, so that neither is
                 * clobbered by the dup2()s whatever its number. */
                int s = fcntl(sock, F_DUPFD, SANDBOX_FD + 1);
                int n = fcntl(null, F_DUPFD, SANDBOX_FD + 1);

                (void) setpgid(0, 0);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (s < 0 || n < 0 || dup2(n, STDIN_FILENO) < 0 || dup2(n, STDOUT_FILENO) < 0 ||
                    dup2(s, SANDBOX_FD) < 0)
                        _exit(SANDBOX_CHILD_EXIT_NO_EXEC);
                (void) close_range(SANDBOX_FD + 1, ~0U, 0);
                execve(path, argv, environ);
                _exit(SANDBOX_CHILD_EXIT_NO_EXEC);
        }
        /* From this side too, so that the group exists before we may kill it. */
        (void) setpgid(pid, pid);
        *ret = pid;
        return 0;
}

/* The peer's hang-up is what we wait for, not a pidfd alone: a forked
 * child holds its end close-on-exec and nobody else has it, so its hang-up
 * is its exit, and this works where pidfds do not (valgrind). POLLRDHUP
 * also ends the wait: the spawner shuts its side down after its last
 * message, while systemd may still hold the connection. Asking for no data
 * events means an answer already queued does not wake us. */
int sandbox_child_wait(int sock, int pidfd, uint64_t deadline) {
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = sock, .events = POLLRDHUP },
                        { .fd = pidfd, .events = POLLIN },
                };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(p, pidfd >= 0 ? 2 : 1, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
                if (r > 0)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return negative_errno();
        }
}

/* The group is killed first: while the child is an unreaped zombie its
 * group id cannot be reused, so the signal reaches nobody else. A child
 * that is already exiting keeps its own exit status. */
int sandbox_child_reap(pid_t *pid) {
        int status = 0;

        if (*pid <= 0)
                return 0;
        (void) kill(-*pid, SIGKILL);
        while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
        return status;
}

void sandbox_child_reapp(pid_t *pid) {
        (void) sandbox_child_reap(pid);
}

static int fail(char *err, size_t errlen, int r, const char *what) {
        snprintf(err, errlen, "%s: %s", what, strerror(-r));
        return r;
}

int sandbox_child_serve(int conn, char *err, size_t errlen) {
        _cleanup_(sandbox_child_reapp) pid_t child = 0;
        _cleanup_close_ int pidfd = -1;
        _cleanup_free_ SandboxMsg *exited = calloc(1, sizeof(SandboxMsg));
        struct ucred peer;
        socklen_t len = sizeof(peer);
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + SANDBOX_CHILD_SERVE_MAX_SEC * 1000000ULL;
        int r;

        if (!exited)
                return fail(err, errlen, -ENOMEM, "cannot serve the connection");
        /* The socket file is root's alone (0600); this holds even if
         * someone loosened its mode. */
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0)
                return fail(err, errlen, negative_errno(), "cannot tell who connected");
        if (peer.uid != 0) {
                snprintf(err, errlen, "refused a connection of uid %u (pid %d): only root may use the sandbox",
                         (unsigned) peer.uid, (int) peer.pid);
                return -EPERM;
        }

        r = sandbox_child_spawn(sandbox_child_path(), conn, &child);
        if (r < 0)
                return fail(err, errlen, r, "cannot start the sandbox");
        pidfd = (int) pidfd_open(child, 0);
        if (pidfd < 0)
                return fail(err, errlen, negative_errno(), "cannot watch the sandbox");
        r = sandbox_child_wait(conn, pidfd, deadline);
        if (r < 0 && r != -ETIMEDOUT)
                return fail(err, errlen, r, "cannot wait for the sandbox");
        exited->exited.type = SANDBOX_MSG_EXITED;
        exited->exited.status = sandbox_child_reap(&child);

        /* Fails only when the parent is gone, and then nobody needs it. */
        r = sandbox_msg_send(conn, exited, NULL, 0);
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return fail(err, errlen, r, "cannot send the sandbox's exit status");
        (void) shutdown(conn, SHUT_WR);
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-child.h — the life of a fwguard-sandbox child: started, waited for, reaped; the sandbox service */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The spawner's own bound on a child. The parent's deadline is the real one
 * (it hangs up then, and the spawner kills the child at once); this only
 * ends a child whose parent hangs without hanging up. Above any deadline
 * the parent may set: [sandbox] timeout_sec (at most 3600 s) plus a probe's
 * budget. */
#define SANDBOX_CHILD_SERVE_MAX_SEC (3 * 3600)

/* The exit status of a child that could not execute the sandbox. */
#define SANDBOX_CHILD_EXIT_NO_EXEC 127

/* $FWGUARD_SANDBOX, else LIBEXECDIR/fwguard-sandbox. */
const char *sandbox_child_path(void);

/* Fork and exec @path with @sock as its fd SANDBOX_FD, /dev/null as stdin
 * and stdout, our stderr, no other fd, in a process group of its own, and
 * killed when we die. 0 with *ret its pid, or a negative errno. The child
 * exits SANDBOX_CHILD_EXIT_NO_EXEC when it cannot execute @path. Only async-signal-safe calls
 * happen between fork() and exec(): the caller may have threads. */
int sandbox_child_spawn(const char *path, int sock, pid_t *ret);

/* Wait until the peer of @sock hangs up or shuts its side down, or, with
 * @pidfd >= 0, that process exits, or @deadline (CLOCK_MONOTONIC, µs)
 * passes: 0, -ETIMEDOUT or another negative errno. Data queued on @sock
 * does not end the wait. */
int sandbox_child_wait(int sock, int pidfd, uint64_t deadline);

/* Kill what is left of the process group of *@pid, then reap *@pid: its
 * wait status (0 if *@pid is 0). *@pid is 0 afterwards. */
int sandbox_child_reap(pid_t *pid);
void sandbox_child_reapp(pid_t *pid);

/* The sandbox service (fwguard-sandbox-spawner, one per connection): serve
 * @conn, a connection accepted on the service's socket. The peer must be
 * root (SO_PEERCRED), or -EPERM. Then the child runs with @conn itself as
 * its SANDBOX_FD, so that the parent and the child speak the protocol of
 * sandbox-proto.h directly; once the child has ended (or the parent hung
 * up, or SANDBOX_CHILD_SERVE_MAX_SEC passed) its process group is killed,
 * it is reaped, and its wait status goes to the parent as the last message
 * (SANDBOX_MSG_EXITED) before our side of @conn is shut down. 0, or a
 * negative errno with @err saying what failed. A parent that hung up is no
 * error. */
int sandbox_child_serve(int conn, char *err, size_t errlen);

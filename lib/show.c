/* SPDX-License-Identifier: GPL-2.0-or-later */
/* show.c — print a ruleset model as nft text
 *
 * nft is the reference for how a ruleset reads, so the model is not printed
 * by code of ours: a child process enters a new, empty network namespace
 * (with a user namespace when it lacks CAP_SYS_ADMIN), loads the model there
 * with one batch and lists it with libnftables. Tables owned by another
 * process are loaded too, without the owner flag (there is no owner here),
 * and marked with a comment.
 *
 * Where a sandbox service is set (fwguardd under systemd, which may make
 * no namespace of its own), the listing is made by the sandbox there
 * (sandbox_list()).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "batch.h"
#include "macro.h"
#include "nl.h"
#include "sandbox.h"
#include "show.h"

static int write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (write(fd, text, strlen(text)) < 0)
                return negative_errno();
        return 0;
}

/* A network namespace of our own: directly as root, else inside a user
 * namespace where we are root. */
static int enter_private_netns(void) {
        char map[64];
        uid_t uid = geteuid();
        gid_t gid = getegid();

        if (unshare(CLONE_NEWNET) == 0)
                return 0;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
                return negative_errno();
        (void) write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1", gid);
        if (write_file("/proc/self/gid_map", map) < 0)
                return negative_errno();
        snprintf(map, sizeof(map), "0 %u 1", uid);
        return write_file("/proc/self/uid_map", map);
}

static int child(Ruleset *rs, int out_fd, int err_fd) {
        _cleanup_(ruleset_freep) Ruleset *empty = NULL;
        struct nft_ctx *nft;
        Nl *nl = NULL;
        char err[512] = "";
        int r;

        if (dup2(out_fd, STDOUT_FILENO) < 0)
                return 1;
        r = enter_private_netns();
        if (r < 0) {
                dprintf(err_fd, "cannot create a private network namespace: %s", strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < rs->tables.n; i++)
                ruleset_table(rs, i)->owned = false;   /* our copy, after fork() */
        if (ruleset_new(&empty) < 0 || (r = nl_open(&nl)) < 0) {
                dprintf(err_fd, "cannot open netlink: %s", strerror(-r));
                return 1;
        }
        r = batch_replace_tables(nl, rs, empty, NULL, 0, 0, err, sizeof(err));
        nl_free(nl);
        if (r < 0) {
                dprintf(err_fd, "%s", err);
                return 1;
        }
        nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!nft)
                return 1;
        r = nft_run_cmd_from_buffer(nft, "list ruleset");
        fflush(stdout);
        nft_ctx_free(nft);
        return r == 0 ? 0 : 1;
}

static int list_in_sandbox(const Ruleset *rs, int out_fd, char *err, size_t errlen) {
        _cleanup_free_ char *errors = NULL;
        int r = sandbox_list(rs, out_fd, &errors);

        if (r < 0 && errlen > 0)
                snprintf(err, errlen, "%s", errors ? errors : strerror(-r));
        return r;
}

int show_ruleset(const Ruleset *rs, int out_fd, char *err, size_t errlen) {
        int pipefd[2], status;
        ssize_t n;
        pid_t pid;

        for (size_t i = 0; i < rs->tables.n; i++) {
                const RsTable *t = ruleset_table(rs, i);
                if (t->owned)
                        dprintf(out_fd, "# table %s %s is owned by another process: shown here, never restored\n",
                                family_name(t->family), t->name);
        }
        if (sandbox_has_service())
                return list_in_sandbox(rs, out_fd, err, errlen);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return negative_errno();
        }
        if (pid == 0) {
                close(pipefd[0]);
                _exit(child((Ruleset *) rs, out_fd, pipefd[1]));
        }
        close(pipefd[1]);
        n = read(pipefd[0], err, errlen > 0 ? errlen - 1 : 0);
        close(pipefd[0]);
        if (errlen > 0)
                err[n > 0 ? n : 0] = 0;
        if (waitpid(pid, &status, 0) < 0)
                return negative_errno();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (errlen > 0 && !err[0])
                        snprintf(err, errlen, "the listing child failed");
                return -EIO;
        }
        return 0;
}

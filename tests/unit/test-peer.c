/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-peer.c — the proof's rule for the sshd binary, and refusals that need
 * no sshd: only the installed file (by path and by inode) counts, never a copy
 * elsewhere, a deleted binary, or a file that merely has the name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "macro.h"
#include "peer.h"

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

static void touch(const char *path, const char *content) {
        FILE *f = fopen(path, "we");

        CHECK(f && fputs(content, f) >= 0 && fclose(f) == 0, "write %s", path);
}

static void test_exe_rule(void) {
        char dir[] = "/tmp/test-peer.XXXXXX", sshd[256], session[256], link[256], copy[256], other[256];

        CHECK(mkdtemp(dir), "mkdtemp");
        snprintf(sshd, sizeof(sshd), "%s/sshd", dir);
        snprintf(session, sizeof(session), "%s/sshd-session", dir);
        snprintf(link, sizeof(link), "%s/sshd-link", dir);
        snprintf(copy, sizeof(copy), "%s/copy", dir);
        touch(sshd, "sshd");
        touch(session, "session");
        touch(copy, "sshd");
        CHECK(symlink(sshd, link) == 0, "symlink");
        snprintf(other, sizeof(other), "%s/sub", dir);
        CHECK(mkdir(other, 0700) == 0, "mkdir");
        snprintf(other, sizeof(other), "%s/sub/sshd", dir);
        touch(other, "sshd");

        /* By path: the installed sshd, sshd-session beside it, resolved through a symlink. */
        CHECK(peer_exe_is_installed_sshd(sshd, NULL, sshd), "the installed sshd");
        CHECK(peer_exe_is_installed_sshd(session, NULL, sshd), "sshd-session beside it");
        CHECK(peer_exe_is_installed_sshd(sshd, NULL, link), "sshd_path through a symlink");
        CHECK(!peer_exe_is_installed_sshd(link, NULL, link), "the unresolved symlink is no exe path");
        /* Copies, other names, other directories, deleted, relative. */
        CHECK(!peer_exe_is_installed_sshd(copy, NULL, sshd), "a copy elsewhere");
        CHECK(!peer_exe_is_installed_sshd(other, NULL, sshd), "sshd in another directory");
        CHECK(!peer_exe_is_installed_sshd("/tmp/sshd", NULL, sshd), "/tmp/sshd");
        {
                char deleted[300];

                snprintf(deleted, sizeof(deleted), "%s (deleted)", sshd);
                CHECK(!peer_exe_is_installed_sshd(deleted, NULL, sshd), "a deleted sshd");
        }
        CHECK(!peer_exe_is_installed_sshd("sshd", NULL, sshd), "a relative path");
        CHECK(!peer_exe_is_installed_sshd(NULL, NULL, sshd), "no exe");
        /* By inode: the process must run that very file. */
        CHECK(peer_exe_is_installed_sshd(sshd, sshd, sshd), "same file");
        CHECK(!peer_exe_is_installed_sshd(sshd, copy, sshd), "the path of sshd, the inode of a copy");
        CHECK(!peer_exe_is_installed_sshd(sshd, "/nonexistent", sshd), "an exe that cannot be read");

        unlink(other);
        snprintf(other, sizeof(other), "%s/sub", dir);
        rmdir(other);
        unlink(link);
        unlink(copy);
        unlink(session);
        unlink(sshd);
        rmdir(dir);
}

/* This test runs under no sshd (meson, a terminal, or a CI runner's
 * ssh session whose sshd is not "installed" at the path we name): the
 * proof refuses, through a pinned socket peer. */
static void test_no_sshd(void) {
        int sv[2];
        PeerProof proof;
        char why[512];
        PeerCaller caller = { .pid = getpid(), .uid = getuid() };
        const uint16_t ports[] = { 22 };
        int r;

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        caller.sock_fd = sv[0];
        r = peer_confirm_proof(&caller, "/nonexistent/sshd", 0, ports, 1, &proof, why, sizeof(why));
        if (r == -EPERM || r == -EACCES) {
                CHECK(r == -EPERM && proof.refusal == PEER_NO_SSHD, "refusal %d: %s", proof.refusal, why);
                CHECK(proof.caller_pid == getpid(), "pinned pid %d, want %d", (int) proof.caller_pid, (int) getpid());
        } else
                CHECK(r < 0, "accepted a caller under no sshd: %s", why);
        close(sv[0]);
        close(sv[1]);
}

int main(void) {
        test_exe_rule();
        test_no_sshd();
        printf("ok\n");
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fwguard-sandbox.c — compile nft text with the caller's permissions, probe or list a ruleset, isolated
 *
 * Started by lib/sandbox.c, never by a user. It gets one request on fd 3
 * (sandbox-proto.h) and sends back exactly one answer. For COMPILE: S1 as a
 * sealed memfd, nft's errors, or what failed; for PROBE: the probe's result
 * for every port, or what failed; for LIST: nft's listing as a sealed
 * memfd, or what failed. Whatever it sends, the parent checks.
 *
 * The privilege boundary. The parent is usually root; the caller is whoever
 * asked for the compile. libnftables opens every include by itself, follows
 * any path and glob, and prints the included lines in its errors; it has no
 * switch to restrict that. So the only safe place to decide what an include
 * may read is the kernel's permission check, with the caller's uid and
 * groups. In order:
 *   1. read the host's interfaces (getifaddrs), while still in its netns;
 *   2. become the caller (setgroups, setresgid, setresuid); from here on the
 *      process has no more rights than the caller, and the only things it
 *      holds from before are fds: the rules (opened by the caller), S0 and
 *      the socket;
 *   3. a new user namespace (the caller, root or not, mapped to root and
 *      nobody else mapped), a fresh network namespace and a private
 *      mount namespace, and limits on memory, CPU time and open files;
 *      no_new_privs from the start;
 *   4. placeholder links named, numbered and addressed like the host's;
 *   5. load S0;
 *   6. copy the rules into a scratch tmpfs that is mounted nowhere, run them
 *      with libnftables, dump S1.
 * The network namespace is this process's own, so nothing done in it can
 * reach the host's links or ruleset, and it vanishes when we exit.
 *
 * A PROBE reads no file, so it takes no credentials and skips step 2. Steps
 * 3 to 5 are the same (enter_sandbox(), without the mount namespace), with
 * the ruleset to test for S0; then probe_run() connects from the peer of the
 * placeholder of the host interface it names to that placeholder.
 *
 * A LIST does the same with the ruleset to list, and answers with nft's
 * listing of it: fwguardd under systemd makes no namespace of its own
 * (lib/show.c), so its listings are made here.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "batch.h"
#include "fileio.h"
#include "links.h"
#include "macro.h"
#include "nfterrors.h"
#include "nl.h"
#include "probe.h"
#include "ruleset.h"
#include "sandbox-proto.h"
#include "snapshot.h"

/* The scratch tmpfs holds only the copy of the rules. */
#define SCRATCH_SIZE "64m"
#define SCRATCH_FILE "rules"

/* AddressSanitizer reserves terabytes of address space at start: RLIMIT_AS
 * cannot work under it, so sanitizer builds rely on the other limits. */
#if defined(__SANITIZE_ADDRESS__)
#  define HAVE_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define HAVE_ASAN 1
#  endif
#endif

#if HAVE_ASAN
/* libnftables 1.0.6 loses the memory of its error records when a file has
 * many errors (valgrind agrees on plain `nft -c -f`): not ours to fix, and
 * LeakSanitizer's failing exit would hide the errors from the user. Our own
 * leaks are still found. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
        return "leak:libnftables.so\n";
}
/* ... and says nothing about the suppression on the user's terminal. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) {
        return "print_suppressions=0";
}
#endif

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nft_ctx *, nft_ctx_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Links *, links_free);

static int send_text(SandboxMsgType type, int error, const char *text) {
        _cleanup_free_ SandboxMsg *msg = calloc(1, sizeof(SandboxMsg));
        size_t len = strlen(text);

        if (!msg)
                return -ENOMEM;
        /* Too long: keep whole lines, the first errors are the ones that matter. */
        if (len > SANDBOX_TEXT_MAX) {
                const char *cut = memrchr(text, '\n', SANDBOX_TEXT_MAX);
                len = cut ? (size_t) (cut - text) + 1 : SANDBOX_TEXT_MAX;
        }
        msg->text.type = type;
        msg->text.error = error;
        msg->text.len = (uint32_t) len;
        memcpy(msg->text.text, text, len);
        return sandbox_msg_send(SANDBOX_FD, msg, NULL, 0);
}

/* Answer that step @r failed. Returns 0 once the answer is sent: the parent
 * then knows everything, and we exit 0. */
static int answer_failed(int r, const char *fmt, ...) _printf_(2, 3);
static int answer_failed(int r, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        return send_text(SANDBOX_MSG_FAILED, r < 0 ? r : -EIO, text ? text : "out of memory");
}

/* The words for a failed step, in @err; returns @r. */
static int failf(char *err, size_t errlen, int r, const char *fmt, ...) _printf_(4, 5);
static int failf(char *err, size_t errlen, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return r;
}

static int write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = write(fd, text, strlen(text));
        if (n < 0)
                return negative_errno();
        return (size_t) n == strlen(text) ? 0 : -EIO;
}

/* Unprivileged, we can be nobody but ourselves. Then at least never read
 * with a group the caller does not have. */
static int check_is_caller(const SandboxMsgCompile *req) {
        gid_t have[SANDBOX_GROUPS_MAX];
        int n;

        if (getuid() != req->uid || geteuid() != req->uid || getgid() != req->gid || getegid() != req->gid)
                return -EPERM;
        n = getgroups(ELEMENTSOF(have), have);
        if (n < 0)
                return negative_errno();
        for (int i = 0; i < n; i++) {
                bool found = have[i] == req->gid;

                for (uint32_t j = 0; !found && j < req->n_groups; j++)
                        found = have[i] == req->groups[j];
                if (!found)
                        return -EPERM;
        }
        return 0;
}

static int become_caller(const SandboxMsgCompile *req) {
        gid_t groups[SANDBOX_GROUPS_MAX];

        if (geteuid() != 0)
                return check_is_caller(req);
        for (uint32_t i = 0; i < req->n_groups; i++)
                groups[i] = req->groups[i];
        /* Groups first, then gid, then uid: each step needs the rights the next one drops. */
        if (setgroups(req->n_groups, groups) < 0)
                return negative_errno();
        if (setresgid(req->gid, req->gid, req->gid) < 0)
                return negative_errno();
        if (setresuid(req->uid, req->uid, req->uid) < 0)
                return negative_errno();
        return 0;
}

static int map_self_to_root(uid_t uid, gid_t gid) {
        char map[64];
        int r;

        /* The caller keeps the groups it has, for reading; only the gid is mapped. */
        r = write_file("/proc/self/setgroups", "deny");
        if (r < 0)
                return r;
        snprintf(map, sizeof(map), "0 %u 1", gid);
        r = write_file("/proc/self/gid_map", map);
        if (r < 0)
                return r;
        snprintf(map, sizeof(map), "0 %u 1", uid);
        return write_file("/proc/self/uid_map", map);
}

/* A fresh network namespace, and with @mount_ns a private mount namespace,
 * for whoever we are by now (the caller, for a compile). */
static int enter_namespaces(bool mount_ns) {
        int flags = CLONE_NEWNET | (mount_ns ? CLONE_NEWNS : 0);
        uid_t uid = geteuid();
        gid_t gid = getegid();
        int r;

        /* Root too gets a user namespace (mapping only itself), so that no
         * caller needs privileges over the host's namespaces: the sandbox
         * service runs without CAP_SYS_ADMIN and CAP_NET_ADMIN
         * (units/fwguard-sandbox@.service). Root still reads as uid 0 (its
         * own files, and what the mode lets others read), only the override
         * of other users' permissions is gone. Changing uid made a caller
         * non-dumpable, which hands /proc/self to root and would keep it
         * from writing its own id maps. */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (unshare(CLONE_NEWUSER | flags) < 0)
                return negative_errno();
        r = map_self_to_root(uid, gid);
        if (r < 0)
                return r;
        /* Keep the caller's debuggers and core dumps away from the socket
         * to the parent and the live ruleset we hold. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return negative_errno();
        /* Nothing mounted here may propagate to the host, or from it. */
        if (mount_ns && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return negative_errno();
        return 0;
}

/* A tmpfs mounted nowhere: it hides no host directory, so an include of any
 * host path still resolves, and only this process can reach it (through
 * its fd, as /proc/self/fd/N). */
static int scratch_mount(int *ret) {
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        int mnt;

        if (fs < 0)
                return negative_errno();
        if (fsconfig(fs, FSCONFIG_SET_STRING, "size", SCRATCH_SIZE, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID);
        if (mnt < 0)
                return negative_errno();
        *ret = mnt;
        return 0;
}

/* nft prints the source line of an error by reading its file again, which
 * a pipe cannot do: copy the rules into a file. */
static int copy_rules(int rules_fd, int mnt, char *path, size_t pathlen) {
        _cleanup_close_ int fd = openat(mnt, SCRATCH_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int r;

        if (fd < 0)
                return negative_errno();
        r = fileio_copy(rules_fd, fd);
        if (r < 0)
                return r == -ENOSPC ? -EFBIG : r;
        snprintf(path, pathlen, "/proc/self/fd/%d/%s", mnt, SCRATCH_FILE);
        return 0;
}

static int set_limit(int resource, rlim_t soft, rlim_t hard) {
        struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };

        return setrlimit(resource, &rl) < 0 ? negative_errno() : 0;
}

static int set_limits(const SandboxMsgLimits *lim) {
        int r;

        /* SIGXCPU at the limit, SIGKILL a second later if it is ignored. */
        r = set_limit(RLIMIT_CPU, lim->cpu, (rlim_t) lim->cpu + 1);
        if (r < 0)
                return r;
        r = set_limit(RLIMIT_NOFILE, lim->nofile, lim->nofile);
        if (r < 0)
                return r;
#ifndef HAVE_ASAN
        r = set_limit(RLIMIT_AS, lim->as, lim->as);
#endif
        return r;
}

static int load_snapshot(Nl *nl, int fd, char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL, *empty = NULL;
        int r;

        r = snapshot_read(fd, &rs, NULL, err, errlen);
        if (r < 0)
                return r;
        /* There is no owner here: owned tables are loaded as plain ones. */
        for (size_t i = 0; i < rs->tables.n; i++)
                ruleset_table(rs, i)->owned = false;
        r = ruleset_new(&empty);
        if (r < 0)
                return r;
        return batch_replace_tables(nl, rs, empty, NULL, 0, 0, err, errlen);
}

/* What every request shares once the host's links are read (and a compile
 * has become the caller): the namespaces, the limits, the placeholders and
 * the ruleset of @snapshot_fd (@what names it) loaded. 0 with *ret_nl, or a
 * negative errno with @err saying which step failed. */
static int enter_sandbox(Links *links, bool mount_ns, const SandboxMsgLimits *lim, int snapshot_fd,
                         const char *what, Nl **ret_nl, char *err, size_t errlen) {
        _cleanup_(nl_freep) Nl *nl = NULL;
        char why[512] = "";
        int r;

        r = enter_namespaces(mount_ns);
        if (r < 0)
                return failf(err, errlen, r, "cannot create the sandbox's namespaces: %s", strerror(-r));
        r = set_limits(lim);
        if (r < 0)
                return failf(err, errlen, r, "cannot set the sandbox's limits: %s", strerror(-r));
        r = links_create_placeholders(links, err, errlen);
        if (r < 0)
                return r;
        r = nl_open(&nl);
        if (r < 0)
                return failf(err, errlen, r, "cannot open nftables netlink in the sandbox: %s", strerror(-r));
        r = load_snapshot(nl, snapshot_fd, why, sizeof(why));
        if (r < 0)
                return failf(err, errlen, r, "cannot load %s into the sandbox: %s", what,
                             why[0] ? why : strerror(-r));
        *ret_nl = TAKE_PTR(nl);
        return 0;
}

/* 0, or -EINVAL with *ret_errors set to nft's errors under the user's name. */
static int run_nft(const char *path, const char *display_name, char **ret_errors) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
        const char *errors;

        if (!nft)
                return -ENOMEM;
        /* Nothing may reach stdout or stderr: buffered, errors are ours to shape. */
        if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0)
                return -ENOMEM;
        if (nft_run_cmd_from_filename(nft, path) == 0)
                return 0;
        errors = nft_ctx_get_error_buffer(nft);
        if (!errors || !*errors)
                errors = "nft refused the rules without saying why\n";
        *ret_errors = nfterrors_format(errors, path, streq(display_name, "-") ? "stdin" : display_name);
        return *ret_errors ? -EINVAL : -ENOMEM;
}

static int send_s1(Nl *nl) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        _cleanup_close_ int fd = -1;
        SandboxMsg msg = { .result = { .type = SANDBOX_MSG_RESULT } };
        struct timespec ts;
        int r;

        r = ruleset_dump(nl, &s1);
        if (r < 0)
                return answer_failed(r, "cannot read back the compiled ruleset: %s", strerror(-r));
        fd = memfd_create("fwguard-s1", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return answer_failed(negative_errno(), "cannot create a memfd: %m");
        clock_gettime(CLOCK_REALTIME, &ts);
        r = snapshot_write(fd, s1, (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000);
        if (r < 0)
                return answer_failed(r, "cannot write the compiled ruleset: %s", strerror(-r));
        /* Sealed, the parent can parse it knowing it no longer changes. */
        r = fileio_seal(fd);
        if (r < 0)
                return answer_failed(r, "cannot seal the compiled ruleset: %s", strerror(-r));
        return sandbox_msg_send(SANDBOX_FD, &msg, &fd, 1);
}

/* Returns 0 once an answer, whichever, has been sent. */
static int compile(const SandboxMsgCompile *req, int rules_fd, int s0_fd, pid_t parent) {
        _cleanup_(links_freep) Links *links = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        _cleanup_close_ int mnt = -1;
        _cleanup_free_ char *errors = NULL;
        char path[64], err[512] = "";
        int r;

        r = links_read_host(&links);
        if (r < 0)
                return answer_failed(r, "cannot read the host's interfaces: %s", strerror(-r));

        r = become_caller(req);
        if (r < 0)
                return answer_failed(r, "cannot take the caller's credentials (uid %u, gid %u): %s",
                                     req->uid, req->gid, strerror(-r));
        /* The kernel forgets the parent-death signal when the uid changes. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
                return -ESRCH;

        r = enter_sandbox(links, true, &req->limits, s0_fd, "the live ruleset", &nl, err, sizeof(err));
        if (r < 0)
                return answer_failed(r, "%s", err);
        r = scratch_mount(&mnt);
        if (r < 0)
                return answer_failed(r, "cannot mount the sandbox's scratch tmpfs: %s", strerror(-r));
        r = copy_rules(rules_fd, mnt, path, sizeof(path));
        if (r == -EFBIG)
                return answer_failed(r, "the rules are larger than %s", SCRATCH_SIZE);
        if (r < 0)
                return answer_failed(r, "cannot read the rules: %s", strerror(-r));

        r = run_nft(path, req->display_name, &errors);
        if (r == -EINVAL)
                return send_text(SANDBOX_MSG_REJECTED, 0, errors);
        if (r < 0)
                return answer_failed(r, "cannot run libnftables: %s", strerror(-r));
        return send_s1(nl);
}

static int send_probed(const ProbeResult *res) {
        _cleanup_free_ SandboxMsg *msg = calloc(1, sizeof(SandboxMsg));
        SandboxMsgProbed *m;
        int r;

        if (!msg)
                return answer_failed(-ENOMEM, "out of memory");
        m = &msg->probed;
        m->type = SANDBOX_MSG_PROBED;
        m->n_ports = (uint32_t) res->n_ports;
        m->traces_lost = res->traces_lost;
        for (size_t i = 0; i < res->n_ports; i++) {
                r = sandbox_probe_port_pack(&res->ports[i], &m->ports[i]);
                if (r < 0)
                        return answer_failed(r, "the probe's result for port %u does not fit the protocol",
                                             res->ports[i].port);
        }
        return sandbox_msg_send(SANDBOX_FD, msg, NULL, 0);
}

static int answer_no_interface(const Links *links, const char *name) {
        char have[256] = "";
        size_t n = 0;

        for (size_t i = 0; i < links->n && n < sizeof(have); i++)
                n += (size_t) snprintf(have + n, sizeof(have) - n, "%s%s", i > 0 ? ", " : "",
                                       links->links[i].name);
        return answer_failed(-ENODEV, "the host has no interface %s to probe through (it has %s)",
                             name, links->n > 0 ? have : "none but lo");
}

/* Returns 0 once an answer, whichever, has been sent. */
static int probe(const SandboxMsgProbe *req, int rs_fd) {
        _cleanup_(links_freep) Links *links = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        _cleanup_(probe_result_free) ProbeResult res = {};
        char err[512] = "";
        ProbeRequest pr = {
                .ports = req->ports, .n_ports = req->n_ports, .timeout_ms = req->timeout_ms,
                .err = err, .errlen = sizeof(err),
        };
        const Link *server;
        int r;

        r = links_read_host(&links);
        if (r < 0)
                return answer_failed(r, "cannot read the host's interfaces: %s", strerror(-r));
        server = links_find(links, req->host_if);
        if (!server)
                return answer_no_interface(links, req->host_if);

        r = enter_sandbox(links, false, &req->limits, rs_fd, "the ruleset to test", &nl, err, sizeof(err));
        if (r < 0)
                return answer_failed(r, "%s", err);
        pr.server_if = server->name;
        pr.client_if = server->peer;
        sandbox_addr_unpack(&req->server, &pr.server);
        sandbox_addr_unpack(&req->client, &pr.client);
        err[0] = '\0';
        r = probe_run(&pr, &res);
        if (r < 0)
                return answer_failed(r, "the probe failed: %s", err[0] ? err : strerror(-r));
        return send_probed(&res);
}

/* nft's listing of everything loaded here, in a sealed memfd. */
static int send_listing(void) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
        _cleanup_close_ int fd = -1;
        SandboxMsg msg = { .result = { .type = SANDBOX_MSG_LISTED } };
        const char *errors;
        int r;

        if (!nft || nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0)
                return answer_failed(-ENOMEM, "out of memory");
        if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0) {
                errors = nft_ctx_get_error_buffer(nft);
                return answer_failed(-EIO, "nft cannot list the ruleset: %s", errors ? errors : "");
        }
        fd = memfd_create("fwguard-listing", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return answer_failed(negative_errno(), "cannot create a memfd: %m");
        if (dprintf(fd, "%s", nft_ctx_get_output_buffer(nft)) < 0)
                return answer_failed(-EIO, "cannot write the listing");
        r = fileio_seal(fd);
        if (r < 0)
                return answer_failed(r, "cannot seal the listing: %s", strerror(-r));
        return sandbox_msg_send(SANDBOX_FD, &msg, &fd, 1);
}

/* Returns 0 once an answer, whichever, has been sent. */
static int list(const SandboxMsgList *req, int rs_fd) {
        _cleanup_(links_freep) Links *links = NULL;
        _cleanup_(nl_freep) Nl *nl = NULL;
        char err[512] = "";
        int r;

        r = links_read_host(&links);
        if (r < 0)
                return answer_failed(r, "cannot read the host's interfaces: %s", strerror(-r));
        r = enter_sandbox(links, false, &req->limits, rs_fd, "the ruleset to list", &nl, err, sizeof(err));
        if (r < 0)
                return answer_failed(r, "%s", err);
        return send_listing();
}

static int run(void) {
        _cleanup_free_ SandboxMsg *req = malloc(sizeof(SandboxMsg));
        _cleanup_close_ int fd0 = -1, fd1 = -1;
        pid_t parent = getppid();
        int fds[SANDBOX_FDS_MAX], r;

        if (!req)
                return -ENOMEM;
        /* The parent takes the hang-up of this socket for our exit: nothing
         * we might start may keep it open. */
        if (fcntl(SANDBOX_FD, F_SETFD, FD_CLOEXEC) < 0) {
                fprintf(stderr, "fwguard-sandbox is started by fwguard; it is not a command.\n");
                return negative_errno();
        }
        /* Nothing we exec, ever, gains privileges. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return answer_failed(negative_errno(), "cannot set no_new_privs: %m");

        r = sandbox_msg_recv(SANDBOX_FD, 0, req, fds);
        if (r == -ENOTSOCK) {
                fprintf(stderr, "fwguard-sandbox is started by fwguard; it is not a command.\n");
                return r;
        }
        if (r < 0)
                return answer_failed(r, "cannot read the request: %s", strerror(-r));
        if (r == 0)
                return -ECONNRESET;     /* the parent went away without asking */
        fd0 = fds[0];
        fd1 = fds[1];
        switch (r) {
        case SANDBOX_MSG_COMPILE:
                return compile(&req->compile, fd0, fd1, parent);
        case SANDBOX_MSG_PROBE:
                return probe(&req->probe, fd0);
        case SANDBOX_MSG_LIST:
                return list(&req->list, fd0);
        default:
                return answer_failed(-EBADMSG, "the request is not a compile, a probe or a list request");
        }
}

int main(void) {
        return run() < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

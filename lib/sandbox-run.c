/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox-run.c — the run profile: a firewall tool (ufw, iptables) against a copy of the live ruleset
 *
 * Unlike a compile, the caller is root and the command is the caller's own
 * choice, so nothing here is a boundary against a hostile command: the
 * sandbox keeps a well-meaning tool from touching the live system, and
 * captures what it would have changed. It runs in forked children of the
 * caller (the CLI), not in fwguard-sandbox: the command needs the caller's
 * environment, terminal and $PATH, and the compile protocol stays closed.
 *
 *   P (caller)   relays its stdin/stdout to the pty master, collects the answer
 *    └ S         unshare(mount ns) as real root: reads the originals of the
 *      │         allow-listed files, makes every mount read-only, then mounts
 *      │         the writable ones (overlays, private file copies, /proc/sys/net,
 *      │         tmpfs on /run and /tmp); reads the live network sysctls
 *      │         (lib/netsysctl.h); writes C's uid/gid maps
 *      └ C       unshare(user, mount, net ns): the mounts are now locked
 *        │       read-only (a less privileged mount namespace cannot clear the
 *        │       flag); loads placeholders, the seed and the live network
 *        │       sysctls; after G: dumps S1, compares the files and the
 *        │       sysctls, sends everything to P
 *        └ G     a subreaper: once H exits, kills whatever H left running
 *          └ H   setsid, the pty as controlling terminal, exec the command
 *
 * Why a user namespace mapping root to root, not none: root of the initial
 * namespace keeps CAP_SYS_ADMIN over the copied mount namespace and could
 * remount the host read-write (or setns() into the live netns); in a new
 * user namespace its capabilities hold only for the sandbox's own
 * namespaces, and the read-only mounts are locked. The identity mapping
 * (all uids) keeps files owned as they are, so ufw reads its root-owned files.
 * Limits of that: DAC still sees uid 0 (so /dev holds only null, zero,
 * full, random, urandom, tty and the ptys: devices ignore read-only
 * mounts), there is no pid namespace (ufw looks for sshd among its
 * ancestors), so the command may signal the host's root processes; a
 * command that means harm is out of scope.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

#include "../sandbox/links.h"
#include "batch.h"
#include "errtext.h"
#include "fileio.h"
#include "macro.h"
#include "netsysctl.h"
#include "nl.h"
#include "ruleset.h"
#include "sandbox.h"
#include "snapshot.h"

#define RUN_FILE_MAX (16u * 1024 * 1024)       /* one captured file */
#define RUN_FILES_MAX 4096                      /* files below all overlay dirs */
#define RUN_TEXT_MAX 1024

enum {
        RUN_MSG_FILE = 1,       /* fd: new content, or none when deleted (mode 0) */
        RUN_MSG_DONE,           /* fd: S1; value: the command's exit code */
        RUN_MSG_FAILED,         /* value: a negative errno; text says which step */
        RUN_MSG_SYSCTL,         /* text: "NAME=VALUE", a network sysctl the command changed */
};

typedef struct RunMsg {
        uint32_t type;
        int32_t value;
        uint32_t mode;
        char text[PATH_MAX + RUN_TEXT_MAX];     /* FILE: the path; FAILED: the message */
} RunMsg;

/* What S reads before anything is mounted: one regular file. */
typedef struct Orig {
        char *path;
        char *data;
        size_t len;
        mode_t mode;
        bool seen;              /* found again afterwards */
} Orig;

typedef struct Origs {
        Orig *items;
        size_t n;
} Origs;

DEFINE_TRIVIAL_CLEANUP_FUNC(Nl *, nl_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Links *, links_free);

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* ---------------------------------------------------------------- messages */

static int msg_send(int sock, const RunMsg *m, int fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) m, .iov_len = sizeof(*m) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

/* 1 with a message (and *ret_fd its fd or -1), 0 at EOF, or a negative errno. */
static int msg_recv(int sock, RunMsg *m, int *ret_fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control = {};
        struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        ssize_t n;

        *ret_fd = -1;
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0)
                return negative_errno();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                int fd;

                                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (*ret_fd < 0)
                                        *ret_fd = fd;
                                else
                                        close(fd);
                        }
        if (n == 0)
                return 0;
        if ((size_t) n != sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                return -EBADMSG;
        m->text[sizeof(m->text) - 1] = '\0';
        return 1;
}

static int child_failed(int sock, int r, const char *fmt, ...) _printf_(3, 4);
static int child_failed(int sock, int r, const char *fmt, ...) {
        RunMsg *m = calloc(1, sizeof(RunMsg));
        va_list ap;

        if (m) {
                m->type = RUN_MSG_FAILED;
                m->value = r < 0 ? r : -EIO;
                va_start(ap, fmt);
                vsnprintf(m->text, sizeof(m->text), fmt, ap);
                va_end(ap);
                (void) msg_send(sock, m, -1);
                free(m);
        }
        return r < 0 ? r : -EIO;
}

/* ---------------------------------------------------------------- files */

static void origs_done(Origs *o) {
        for (size_t i = 0; i < o->n; i++) {
                free(o->items[i].path);
                free(o->items[i].data);
        }
        free(o->items);
        *o = (Origs) {};
}

/* The whole regular file at @fd (at most RUN_FILE_MAX bytes). */
static int read_all(int fd, char **ret, size_t *ret_len) {
        size_t len = 0, size = 0;
        char *data = NULL;

        for (;;) {
                ssize_t n;

                if (len == size) {
                        char *p;

                        if (size >= RUN_FILE_MAX) {
                                free(data);
                                return -EFBIG;
                        }
                        size = size ? size * 2 : 4096;
                        p = realloc(data, size);
                        if (!p) {
                                free(data);
                                return -ENOMEM;
                        }
                        data = p;
                }
                n = read(fd, data + len, size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(data);
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        *ret = data;
        *ret_len = len;
        return 0;
}

static int origs_add(Origs *o, const char *path, int fd, mode_t mode) {
        Orig *items, *e;
        int r;

        if (o->n >= RUN_FILES_MAX)
                return -E2BIG;
        items = reallocarray(o->items, o->n + 1, sizeof(Orig));
        if (!items)
                return -ENOMEM;
        o->items = items;
        e = &o->items[o->n];
        *e = (Orig) { .mode = mode & 07777 };
        e->path = strdup(path);
        if (!e->path)
                return -ENOMEM;
        r = read_all(fd, &e->data, &e->len);
        if (r < 0) {
                free(e->path);
                return r;
        }
        o->n++;
        return 0;
}

/* Every regular file below the directory @dfd (named @path), recursively,
 * into @o. Symlinks and special files are not followed nor captured.
 * Errors name the path in @err. */
static int walk(int dfd, const char *path, Origs *o, char *err, size_t errlen) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                char sub[PATH_MAX];
                struct stat st;
                _cleanup_close_ int cfd = -1;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if ((size_t) snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0)
                                continue;
                        r = walk(cfd, sub, o, err, errlen);
                        if (r < 0)
                                return r;
                } else if (S_ISREG(st.st_mode)) {
                        cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                        if (cfd < 0) {
                                snprintf(err, errlen, "cannot read %.300s: %m", sub);
                                return negative_errno();
                        }
                        r = origs_add(o, sub, cfd, st.st_mode);
                        if (r < 0) {
                                snprintf(err, errlen, "cannot read %.300s: %s", sub, strerror(-r));
                                return r;
                        }
                }
        }
        return errno > 0 ? -errno : 0;
}

/* Every allow-listed file as it is now: the directories of @dirs that exist,
 * walked, then the regular files of @files that exist. */
static int read_allowed(char *const *dirs, size_t n_dirs, char *const *files, size_t n_files,
                        Origs *ret, char *err, size_t errlen) {
        for (size_t i = 0; i < n_dirs; i++) {
                _cleanup_close_ int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int r;

                if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
                        continue;
                if (fd < 0) {
                        snprintf(err, errlen, "cannot open %s: %m", dirs[i]);
                        return negative_errno();
                }
                r = walk(fd, dirs[i], ret, err, errlen);
                if (r < 0) {
                        if (!err[0])
                                snprintf(err, errlen, "cannot read %s: %s", dirs[i], strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; i < n_files; i++) {
                _cleanup_close_ int fd = open(files[i], O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                struct stat st;
                int r;

                if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
                        continue;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        snprintf(err, errlen, "cannot read %s: %m", files[i]);
                        return negative_errno();
                }
                if (!S_ISREG(st.st_mode))
                        continue;
                r = origs_add(ret, files[i], fd, st.st_mode);
                if (r < 0) {
                        snprintf(err, errlen, "cannot read %s: %s", files[i], strerror(-r));
                        return r;
                }
        }
        return 0;
}

static Orig *origs_find(const Origs *o, const char *path) {
        for (size_t i = 0; i < o->n; i++)
                if (streq(o->items[i].path, path))
                        return &o->items[i];
        return NULL;
}

static int sealed_memfd(const char *data, size_t len, int *ret) {
        _cleanup_close_ int fd = memfd_create("fwguard-run-file", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        size_t done = 0;
        int r;

        if (fd < 0)
                return negative_errno();
        while (done < len) {
                ssize_t n = write(fd, data + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                done += (size_t) n;
        }
        r = fileio_seal(fd);
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

/* In C, after the command: every allow-listed file that differs from @before
 * (content or mode), was created, or is gone, as RUN_MSG_FILE messages. */
static int send_changed_files(int sock, const SandboxRunRequest *req, Origs *before, RunMsg *m) {
        Origs now = {};
        char err[512] = "";
        int r;

        r = read_allowed(req->overlay_dirs, req->n_overlay_dirs, req->private_files, req->n_private_files,
                         &now, err, sizeof(err));
        if (r < 0) {
                origs_done(&now);
                return child_failed(sock, r, "cannot read back the files the command wrote: %s",
                                    err[0] ? err : strerror(-r));
        }
        for (size_t i = 0; i < now.n; i++) {
                const Orig *n = &now.items[i];
                Orig *b = origs_find(before, n->path);
                _cleanup_close_ int fd = -1;

                if (b)
                        b->seen = true;
                if (b && b->mode == n->mode && b->len == n->len && memcmp(b->data, n->data, n->len) == 0)
                        continue;
                r = sealed_memfd(n->data, n->len, &fd);
                if (r < 0) {
                        origs_done(&now);
                        return child_failed(sock, r, "cannot pass on %s: %s", n->path, strerror(-r));
                }
                *m = (RunMsg) { .type = RUN_MSG_FILE, .mode = n->mode };
                snprintf(m->text, sizeof(m->text), "%s", n->path);
                r = msg_send(sock, m, fd);
                if (r < 0) {
                        origs_done(&now);
                        return r;
                }
        }
        origs_done(&now);
        for (size_t i = 0; i < before->n; i++) {
                if (before->items[i].seen)
                        continue;
                *m = (RunMsg) { .type = RUN_MSG_FILE, .mode = RUN_FILE_DELETED };
                snprintf(m->text, sizeof(m->text), "%s", before->items[i].path);
                r = msg_send(sock, m, -1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- network sysctls */

/* One value per netsysctl_names[i]; "" where the kernel has no such key. */
typedef char NetValue[NETSYSCTL_VALUE_MAX];

/* The values of this network namespace into @v (netsysctl_n_names of them). */
static int net_values_read(NetValue *v, char *err, size_t errlen) {
        for (size_t i = 0; i < netsysctl_n_names; i++) {
                int r = netsysctl_read(netsysctl_names[i], v[i]);

                if (r == -ENOENT) {
                        v[i][0] = '\0';
                        continue;
                }
                if (r < 0) {
                        snprintf(err, errlen, "cannot read /proc/sys/%s: %s", netsysctl_names[i], strerror(-r));
                        return r;
                }
        }
        return 0;
}

/* In C, in the sandbox's network namespace: the live values @live copied
 * in, then what is there read back into @base, what the command starts from. */
static int net_values_copy_in(const NetValue *live, NetValue *base, char *err, size_t errlen) {
        for (size_t i = 0; i < netsysctl_n_names; i++) {
                int r = live[i][0] ? netsysctl_write(netsysctl_names[i], live[i]) : 0;

                if (r < 0 && r != -ENOENT) {
                        snprintf(err, errlen, "cannot copy /proc/sys/%s (%s) into the sandbox: %s", netsysctl_names[i],
                                 live[i], strerror(-r));
                        return r;
                }
        }
        return net_values_read(base, err, errlen);
}

/* In C, after the command: every sysctl that differs from @base. */
static int send_changed_sysctls(int sock, const NetValue *base, RunMsg *m) {
        _cleanup_free_ NetValue *now = calloc(netsysctl_n_names, sizeof(NetValue));
        char err[256] = "";
        int r;

        if (!now)
                return child_failed(sock, -ENOMEM, "out of memory");
        r = net_values_read(now, err, sizeof(err));
        if (r < 0)
                return child_failed(sock, r, "cannot read back the network sysctls: %s", err);
        for (size_t i = 0; i < netsysctl_n_names; i++) {
                if (!now[i][0] || streq(now[i], base[i]))
                        continue;
                *m = (RunMsg) { .type = RUN_MSG_SYSCTL };
                snprintf(m->text, sizeof(m->text), "%s=%s", netsysctl_names[i], now[i]);
                r = msg_send(sock, m, -1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- mounts (in S) */

static int write_file(int dfd, const char *path, const char *text) {
        _cleanup_close_ int fd = openat(dfd, path, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(text);

        if (fd < 0)
                return negative_errno();
        if (write(fd, text, len) != (ssize_t) len)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

static int setattr(const char *path, unsigned flags, uint64_t set, uint64_t clr) {
        struct mount_attr a = { .attr_set = set, .attr_clr = clr };

        return syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &a, sizeof(a)) < 0 ? negative_errno() : 0;
}

/* Overlay options cannot quote ',' or ':' and treat '\\' specially. */
static bool overlay_path_ok(const char *p) {
        return !strpbrk(p, ",:\\");
}

/* A private copy of @path (with its mode and owner) in the scratch
 * directory, bind-mounted over it. */
static int private_copy(const char *path, const Orig *o, unsigned idx, char *err, size_t errlen) {
        char copy[64];
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t done = 0;

        snprintf(copy, sizeof(copy), "/run/fwguard-run-f%u", idx);
        if (stat(path, &st) < 0) {
                snprintf(err, errlen, "cannot stat %s: %m", path);
                return negative_errno();
        }
        fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, o->mode);
        if (fd < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, o->mode) < 0) {
                snprintf(err, errlen, "cannot copy %s: %m", path);
                return negative_errno();
        }
        while (done < o->len) {
                ssize_t n = write(fd, o->data + done, o->len - done);

                if (n < 0) {
                        snprintf(err, errlen, "cannot copy %s: %m", path);
                        return negative_errno();
                }
                done += (size_t) n;
        }
        if (mount(copy, path, NULL, MS_BIND, NULL) < 0) {
                snprintf(err, errlen, "cannot bind-mount a private copy over %s: %m", path);
                return negative_errno();
        }
        return 0;
}

/* A /dev of a few harmless nodes: the command is uid 0 for DAC, and device
 * nodes ignore read-only mounts, so the host's disks must not be there. Made
 * in the scratch space (/run), then moved over /dev. */
static int private_dev(char *err, size_t errlen) {
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        static const char *const links[][2] = {
                { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        };
        const char *dev = "/run/fwguard-run-dev";
        char path[128], src[64];

        if (mkdir(dev, 0755) < 0 || mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") < 0)
                return snprintf(err, errlen, "cannot make the sandbox's /dev: %m"), negative_errno();
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                _cleanup_close_ int fd = -1;

                snprintf(path, sizeof(path), "%s/%s", dev, nodes[i]);
                snprintf(src, sizeof(src), "/dev/%s", nodes[i]);
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
                if (fd < 0 || mount(src, path, NULL, MS_BIND, NULL) < 0)
                        return snprintf(err, errlen, "cannot bind %s into the sandbox: %m", src), negative_errno();
        }
        snprintf(path, sizeof(path), "%s/pts", dev);
        if (mkdir(path, 0755) < 0 || mount("/dev/pts", path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return snprintf(err, errlen, "cannot bind /dev/pts into the sandbox: %m"), negative_errno();
        snprintf(path, sizeof(path), "%s/shm", dev);
        if (mkdir(path, 01777) < 0 ||
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m") < 0)
                return snprintf(err, errlen, "cannot mount /dev/shm in the sandbox: %m"), negative_errno();
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                snprintf(path, sizeof(path), "%s/%s", dev, links[i][1]);
                if (symlink(links[i][0], path) < 0)
                        return snprintf(err, errlen, "cannot make %s in the sandbox: %m", path), negative_errno();
        }
        if (mount(dev, "/dev", NULL, MS_MOVE, NULL) < 0)
                return snprintf(err, errlen, "cannot put the sandbox's /dev in place: %m"), negative_errno();
        return 0;
}

/* In S, as real root in a mount namespace of its own. */
static int setup_mounts(const SandboxRunRequest *req, const Origs *before, int *ret_proc, char *err,
                        size_t errlen) {
        unsigned n_over = 0;
        int r;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return snprintf(err, errlen, "cannot make the mounts private: %m"), negative_errno();
        /* A writable /proc of our own, mounted nowhere, for C's id maps. */
        *ret_proc = (int) syscall(SYS_open_tree, AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (*ret_proc < 0)
                return snprintf(err, errlen, "cannot clone /proc: %m"), negative_errno();
        /* /proc/sys/net shows the reader's network namespace: a mount of its
         * own, so that it alone stays writable. */
        if (mount("/proc/sys/net", "/proc/sys/net", NULL, MS_BIND, NULL) < 0)
                return snprintf(err, errlen, "cannot bind /proc/sys/net: %m"), negative_errno();
        r = setattr("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0);
        if (r < 0)
                return snprintf(err, errlen, "cannot make the host's mounts read-only: %s", strerror(-r)), r;
        r = setattr("/proc/sys/net", 0, 0, MOUNT_ATTR_RDONLY);
        if (r < 0)
                return snprintf(err, errlen, "cannot make /proc/sys/net writable: %s", strerror(-r)), r;

        /* The scratch space: upper and work directories, private copies.
         * The empty tmpfs mounted on /run last covers it. */
        if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=256m") < 0)
                return snprintf(err, errlen, "cannot mount the scratch tmpfs: %m"), negative_errno();
        r = private_dev(err, errlen);
        if (r < 0)
                return r;
        /* /tmp as it is, but writable, the writes thrown away (ufw writes
         * its temporary files there). An overlay, not an empty tmpfs, so
         * that allow-listed paths below /tmp still have their content. */
        if (mkdir("/run/fwguard-run-tmp", 01777) < 0 || mkdir("/run/fwguard-run-tmpw", 0700) < 0 ||
            chmod("/run/fwguard-run-tmp", 01777) < 0 ||
            mount("overlay", "/tmp", "overlay", MS_NOSUID | MS_NODEV,
                  "lowerdir=/tmp,upperdir=/run/fwguard-run-tmp,workdir=/run/fwguard-run-tmpw") < 0)
                return snprintf(err, errlen, "cannot make /tmp writable in the sandbox: %m"), negative_errno();
        for (size_t i = 0; i < req->n_overlay_dirs; i++) {
                const char *dir = req->overlay_dirs[i];
                char up[64], work[64], opts[PATH_MAX + 160];
                struct stat st;

                if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (!overlay_path_ok(dir))
                        return snprintf(err, errlen, "cannot put an overlay on %s: ',' ':' or '\\' in the path",
                                        dir), -EINVAL;
                snprintf(up, sizeof(up), "/run/fwguard-run-o%u", n_over);
                snprintf(work, sizeof(work), "/run/fwguard-run-w%u", n_over);
                n_over++;
                if (mkdir(up, 0755) < 0 || mkdir(work, 0700) < 0 || chmod(up, st.st_mode & 07777) < 0 ||
                    chown(up, st.st_uid, st.st_gid) < 0)
                        return snprintf(err, errlen, "cannot make the overlay of %s: %m", dir), negative_errno();
                snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", dir, up, work);
                if (mount("overlay", dir, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
                        return snprintf(err, errlen, "cannot mount an overlay on %s: %m", dir), negative_errno();
        }
        for (size_t i = 0; i < req->n_private_files; i++) {
                const Orig *o = origs_find(before, req->private_files[i]);

                if (!o)
                        continue;       /* absent, or not a regular file */
                r = private_copy(req->private_files[i], o, (unsigned) i, err, errlen);
                if (r < 0)
                        return r;
        }
        if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") < 0)
                return snprintf(err, errlen, "cannot mount a tmpfs on /run: %m"), negative_errno();
        return 0;
}

/* ---------------------------------------------------------------- G and H */

static _Noreturn void exec_command(const SandboxRunRequest *req, int slave) {
        /* Default dispositions and mask, a session with the pty as its terminal. */
        sigset_t none;

        /* Should G be killed (a timeout, the caller gone), so is the command. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < _NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 ||
            dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 || dup2(slave, STDERR_FILENO) < 0)
                _exit(127);
        (void) close_range(3, ~0U, 0);
        execvp(req->argv[0], req->argv);
        fprintf(stderr, "fwguard run: cannot execute %s: %m\n", req->argv[0]);
        _exit(127);
}

/* Kill every child we have (orphans of the command come to us, a
 * subreaper), until none is left. */
static void kill_leftovers(void) {
        for (;;) {
                DIR *d = opendir("/proc");
                struct dirent *de;
                bool any = false;

                while (d && (de = readdir(d))) {
                        char path[300], buf[512], *p;
                        int fd;
                        ssize_t n;

                        if (de->d_name[0] < '1' || de->d_name[0] > '9')
                                continue;
                        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        n = read(fd, buf, sizeof(buf) - 1);
                        close(fd);
                        if (n <= 0)
                                continue;
                        buf[n] = '\0';
                        p = strrchr(buf, ')');  /* after the name, which may hold anything */
                        if (p && atoi(p + 4) == (int) getpid()) {
                                (void) kill(atoi(de->d_name), SIGKILL);
                                any = true;
                        }
                }
                if (d)
                        closedir(d);
                for (;;) {
                        pid_t p = waitpid(-1, NULL, WNOHANG);

                        if (p < 0 && errno == EINTR)
                                continue;
                        if (p < 0)
                                return;         /* ECHILD: nothing is left */
                        if (p == 0)
                                break;
                }
                if (!any)
                        (void) usleep(10000);
        }
}

/* The command's reaper: its exit code (128 + the signal when killed) once
 * it ends, after killing whatever it left running. No pid namespace: ufw
 * looks for sshd among its ancestors, in /proc, to decide whether to warn
 * ("Command may disrupt existing ssh connections. Proceed with operation?"). */
static _Noreturn void init_process(const SandboxRunRequest *req, int slave) {
        pid_t cmd;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        cmd = fork();
        if (cmd < 0)
                _exit(127);
        if (cmd == 0)
                exec_command(req, slave);
        close(slave);
        for (;;) {
                int status;
                pid_t p = waitpid(-1, &status, 0);

                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        _exit(127);
                if (p != cmd)
                        continue;
                kill_leftovers();
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
        }
}

/* ---------------------------------------------------------------- C */

static int load_seed(Nl *nl, const Ruleset *seed, char *err, size_t errlen) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL, *empty = NULL;
        int r;

        r = ruleset_copy(seed, &rs);
        if (r >= 0)
                r = ruleset_new(&empty);
        if (r < 0)
                return r;
        /* There is no owner here: owned tables are loaded as plain ones. */
        for (size_t i = 0; i < rs->tables.n; i++)
                ruleset_table(rs, i)->owned = false;
        return batch_replace_tables(nl, rs, empty, NULL, 0, 0, err, errlen);
}

static int send_s1(int sock, Nl *nl, int exit_code, RunMsg *m) {
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = ruleset_dump(nl, &s1);
        if (r < 0)
                return child_failed(sock, r, "cannot read the ruleset the command left: %s", strerror(-r));
        fd = memfd_create("fwguard-run-s1", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return child_failed(sock, negative_errno(), "cannot create a memfd: %m");
        r = snapshot_write(fd, s1, 0);
        if (r < 0)
                return child_failed(sock, r, "cannot write the ruleset the command left: %s", strerror(-r));
        r = fileio_seal(fd);
        if (r < 0)
                return child_failed(sock, r, "cannot seal the ruleset: %s", strerror(-r));
        *m = (RunMsg) { .type = RUN_MSG_DONE, .value = exit_code };
        return msg_send(sock, m, fd);
}

static int sandbox_child(const SandboxRunRequest *req, Links *links, Origs *before, const NetValue *live,
                         int sock, int slave, int sync_out, int sync_in) {
        _cleanup_(nl_freep) Nl *nl = NULL;
        _cleanup_free_ NetValue *base = calloc(netsysctl_n_names, sizeof(NetValue));
        _cleanup_free_ RunMsg *m = calloc(1, sizeof(RunMsg));
        char err[512] = "", c = 0;
        int status, r;
        pid_t g;

        if (!m || !base)
                return child_failed(sock, -ENOMEM, "out of memory");
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0)
                return child_failed(sock, negative_errno(), "cannot create the sandbox's namespaces: %m");
        /* S maps every id to itself; wait for it. */
        if (write(sync_out, "u", 1) != 1 || read(sync_in, &c, 1) != 1 || c != 'm')
                return child_failed(sock, -EIO, "cannot map the sandbox's user ids");
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* The command is root in our user namespace: keep it from our memory
         * (the socket to the caller, the captured files): a non-dumpable
         * process may be traced only with CAP_SYS_PTRACE where its memory
         * was made, the initial user namespace. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return child_failed(sock, negative_errno(), "cannot become root in the sandbox: %m");

        r = links_create_placeholders(links, err, sizeof(err));
        if (r < 0)
                return child_failed(sock, r, "cannot create the placeholder links: %s", err[0] ? err : strerror(-r));
        r = nl_open(&nl);
        if (r < 0)
                return child_failed(sock, r, "cannot open nftables netlink in the sandbox: %s", strerror(-r));
        r = load_seed(nl, req->seed, err, sizeof(err));
        if (r < 0)
                return child_failed(sock, r, "cannot load the live ruleset into the sandbox: %s",
                                    err[0] ? err : strerror(-r));
        r = net_values_copy_in(live, base, err, sizeof(err));
        if (r < 0)
                return child_failed(sock, r, "%s", err);

        g = fork();
        if (g < 0)
                return child_failed(sock, negative_errno(), "cannot start the command: %m");
        if (g == 0)
                init_process(req, slave);
        close(slave);
        while (waitpid(g, &status, 0) < 0)
                if (errno != EINTR)
                        return child_failed(sock, negative_errno(), "cannot wait for the command: %m");
        if (!WIFEXITED(status))
                return child_failed(sock, -EPROTO, "the sandbox's init process was killed (signal %d)",
                                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);

        r = send_changed_files(sock, req, before, m);
        if (r < 0)
                return r;
        r = send_changed_sysctls(sock, base, m);
        if (r < 0)
                return r;
        return send_s1(sock, nl, WEXITSTATUS(status), m);
}

/* ---------------------------------------------------------------- S */

static _Noreturn void sandbox_supervisor(const SandboxRunRequest *req, Links *links, int sock, int slave) {
        NetValue *live = calloc(netsysctl_n_names, sizeof(NetValue));
        Origs before = {};
        char err[512] = "";
        int to_c[2], from_c[2], status, r, proc = -1;
        char c;
        pid_t child;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (unshare(CLONE_NEWNS) < 0)
                _exit(child_failed(sock, negative_errno(), "cannot create the sandbox's mount namespace: %m") < 0);
        r = read_allowed(req->overlay_dirs, req->n_overlay_dirs, req->private_files, req->n_private_files,
                         &before, err, sizeof(err));
        if (r < 0) {
                child_failed(sock, r, "%s", err[0] ? err : strerror(-r));
                _exit(1);
        }
        /* Still in the live network namespace: its sysctls, for C to copy. */
        r = live ? net_values_read(live, err, sizeof(err)) : -ENOMEM;
        if (r < 0) {
                child_failed(sock, r, "%s", err[0] ? err : strerror(-r));
                _exit(1);
        }
        r = setup_mounts(req, &before, &proc, err, sizeof(err));
        if (r < 0) {
                child_failed(sock, r, "%s", err);
                _exit(1);
        }
        if (pipe2(to_c, O_CLOEXEC) < 0 || pipe2(from_c, O_CLOEXEC) < 0) {
                child_failed(sock, negative_errno(), "cannot create a pipe: %m");
                _exit(1);
        }
        child = fork();
        if (child < 0) {
                child_failed(sock, negative_errno(), "cannot fork: %m");
                _exit(1);
        }
        if (child == 0) {
                close(to_c[1]);
                close(from_c[0]);
                close(proc);
                _exit(sandbox_child(req, links, &before, live, sock, slave, from_c[1], to_c[0]) < 0 ? 1 : 0);
        }
        close(to_c[0]);
        close(from_c[1]);
        close(slave);
        if (read(from_c[0], &c, 1) == 1) {
                char path[64];

                /* Every uid and gid to itself: written from here, by real
                 * root, so that setgroups() stays allowed inside. */
                snprintf(path, sizeof(path), "%d/uid_map", (int) child);
                r = write_file(proc, path, "0 0 4294967295");
                if (r >= 0) {
                        snprintf(path, sizeof(path), "%d/gid_map", (int) child);
                        r = write_file(proc, path, "0 0 4294967295");
                }
                if (r < 0)
                        child_failed(sock, r, "cannot write the sandbox's id maps: %s", strerror(-r));
                else
                        (void) !write(to_c[1], "m", 1);
        }
        close(to_c[1]);
        close(sock);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* ---------------------------------------------------------------- P */

void sandbox_run_result_done(SandboxRunResult *res) {
        ruleset_freep(&res->s1);
        run_files_free(res->files, res->n_files);
        free(res->sysctls);
        *res = (SandboxRunResult) {};
}

static int take_s1(int fd, const Ruleset *seed, Ruleset **ret, char **ret_errors) {
        const int need = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
        _cleanup_(ruleset_freep) Ruleset *s1 = NULL;
        char err[256] = "";
        int seals, r;

        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || (seals & need) != need)
                return errtext(ret_errors, -EPROTO, "the sandbox's ruleset is not a sealed memfd");
        r = snapshot_read(fd, &s1, NULL, err, sizeof(err));
        if (r < 0)
                return errtext(ret_errors, r == -EBADMSG ? -EPROTO : r, "cannot read the sandbox's ruleset: %s",
                            err[0] ? err : strerror(-r));
        for (size_t i = 0; i < s1->tables.n; i++) {
                RsTable *t = ruleset_table(s1, i);
                const RsTable *o = ruleset_find_table(seed, t->family, t->name);

                t->owned = o && o->owned;
        }
        s1->genid = 0;
        *ret = TAKE_PTR(s1);
        return 0;
}

static int add_file(SandboxRunResult *res, const RunMsg *m, int *fd, const SandboxRunRequest *req,
                    char **ret_errors) {
        RunFile *files;

        if (!run_file_allowed(m->text, req->overlay_dirs, req->n_overlay_dirs, req->private_files,
                              req->n_private_files))
                return errtext(ret_errors, -EPROTO, "the sandbox captured a path outside the allow-list: %s", m->text);
        if ((m->mode == RUN_FILE_DELETED) != (*fd < 0) || (m->mode & ~07777u))
                return errtext(ret_errors, -EPROTO, "the sandbox sent a malformed file record");
        files = reallocarray(res->files, res->n_files + 1, sizeof(RunFile));
        if (!files)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        res->files = files;
        files[res->n_files] = (RunFile) {
                .path = strdup(m->text), .fd = -1, .deleted = m->mode == RUN_FILE_DELETED, .mode = m->mode,
        };
        if (!files[res->n_files].path)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        files[res->n_files].fd = TAKE_FD(*fd);
        res->n_files++;
        return 0;
}

static int add_sysctl(SandboxRunResult *res, const RunMsg *m, char **ret_errors) {
        const char *eq = strchr(m->text, '=');
        RunSysctl *s;

        if (!eq || (size_t) (eq - m->text) >= NETSYSCTL_NAME_MAX || strlen(eq + 1) >= NETSYSCTL_VALUE_MAX)
                return errtext(ret_errors, -EPROTO, "the sandbox sent a malformed sysctl record");
        s = reallocarray(res->sysctls, res->n_sysctls + 1, sizeof(RunSysctl));
        if (!s)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        res->sysctls = s;
        s = &s[res->n_sysctls];
        *s = (RunSysctl) {};
        memcpy(s->name, m->text, (size_t) (eq - m->text));
        strcpy(s->value, eq + 1);
        if (!netsysctl_known(s->name) || !netsysctl_value_valid(s->value))
                return errtext(ret_errors, -EPROTO, "the sandbox sent a sysctl outside the list: %s", m->text);
        res->n_sysctls++;
        return 0;
}

static void copy_out(int master, int out_fd, bool *master_open) {
        char buf[4096];

        for (;;) {
                ssize_t n = read(master, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        *master_open = false;   /* EIO: no slave is open any more */
                        return;
                }
                for (ssize_t done = 0; done < n; ) {
                        ssize_t w = write(out_fd, buf + done, (size_t) (n - done));

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;          /* nobody reads our output: drop it */
                        done += w;
                }
        }
}

/* Relay until the answer is complete: 0 with @res filled, or an error. */
static int relay(const SandboxRunRequest *req, int master, int sock, SandboxRunResult *res, char **ret_errors) {
        _cleanup_free_ RunMsg *m = malloc(sizeof(RunMsg));
        uint64_t deadline = req->timeout_sec ? now_usec(CLOCK_MONOTONIC) + req->timeout_sec * 1000000ULL : 0;
        bool in_open = req->in_fd >= 0, master_open = true;
        int r;

        if (!m)
                return errtext(ret_errors, -ENOMEM, "out of memory");
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = sock, .events = POLLIN },
                        { .fd = master_open ? master : -1, .events = POLLIN },
                        { .fd = in_open && master_open ? req->in_fd : -1, .events = POLLIN },
                };
                int timeout = -1;

                if (deadline) {
                        uint64_t now = now_usec(CLOCK_MONOTONIC);

                        if (now >= deadline)
                                return errtext(ret_errors, -ETIMEDOUT, "%s did not finish within %u s and was killed; "
                                            "nothing was changed", req->argv[0], req->timeout_sec);
                        timeout = (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX);
                }
                r = poll(p, 3, timeout);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return errtext(ret_errors, negative_errno(), "poll: %m");
                if (p[1].revents)
                        copy_out(master, req->out_fd, &master_open);
                if (p[2].revents) {
                        char buf[4096];
                        ssize_t n = read(req->in_fd, buf, sizeof(buf));

                        if (n > 0)
                                (void) !write(master, buf, (size_t) n);
                        else if (n == 0 || errno != EINTR) {
                                /* Our input ended: so does the command's (VEOF). */
                                struct termios t;
                                char eof = 4;

                                if (tcgetattr(master, &t) == 0)
                                        eof = (char) t.c_cc[VEOF];
                                (void) !write(master, &eof, 1);
                                in_open = false;
                        }
                }
                if (p[0].revents) {
                        _cleanup_close_ int fd = -1;

                        r = msg_recv(sock, m, &fd);
                        if (r == -EAGAIN)
                                continue;
                        if (r < 0)
                                return errtext(ret_errors, -EPROTO, "cannot read the sandbox's answer: %s",
                                            strerror(-r));
                        if (r == 0)
                                return errtext(ret_errors, -EPROTO, "the sandbox ended without an answer");
                        switch (m->type) {
                        case RUN_MSG_FILE:
                                r = add_file(res, m, &fd, req, ret_errors);
                                if (r < 0)
                                        return r;
                                break;
                        case RUN_MSG_SYSCTL:
                                r = add_sysctl(res, m, ret_errors);
                                if (r < 0)
                                        return r;
                                break;
                        case RUN_MSG_DONE:
                                if (fd < 0)
                                        return errtext(ret_errors, -EPROTO, "the sandbox sent no ruleset");
                                r = take_s1(fd, req->seed, &res->s1, ret_errors);
                                if (r < 0)
                                        return r;
                                res->exit_code = m->value;
                                /* What the command wrote last. */
                                if (master_open)
                                        copy_out(master, req->out_fd, &master_open);
                                return 0;
                        case RUN_MSG_FAILED:
                                return errtext(ret_errors, m->value < 0 ? m->value : -EIO, "%s", m->text);
                        default:
                                return errtext(ret_errors, -EPROTO, "the sandbox sent an unknown message");
                        }
                }
        }
}

static int open_pty(const SandboxRunRequest *req, int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        struct termios t;
        struct winsize ws;
        char name[64];
        int slave;

        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
            ptsname_r(master, name, sizeof(name)) != 0)
                return negative_errno();
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return negative_errno();
        if (req->in_fd >= 0 && isatty(req->in_fd)) {
                if (tcgetattr(req->in_fd, &t) == 0)
                        (void) tcsetattr(slave, TCSANOW, &t);
                if (ioctl(req->in_fd, TIOCGWINSZ, &ws) == 0)
                        (void) ioctl(slave, TIOCSWINSZ, &ws);
        } else if (tcgetattr(slave, &t) == 0) {
                /* No person types: input is not echoed into the output. */
                t.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
                if (!isatty(req->out_fd))
                        t.c_oflag &= ~(tcflag_t) OPOST;   /* plain "\n" into a file or pipe */
                (void) tcsetattr(slave, TCSANOW, &t);
        }
        if (fcntl(master, F_SETFL, O_NONBLOCK) < 0) {
                close(slave);
                return negative_errno();
        }
        *ret_master = TAKE_FD(master);
        *ret_slave = slave;
        return 0;
}

int sandbox_run(const SandboxRunRequest *req, SandboxRunResult *ret, char **ret_errors) {
        _cleanup_(links_freep) Links *links = NULL;
        _cleanup_close_ int master = -1, slave = -1, sock = -1, child_sock = -1;
        SandboxRunResult res = {};
        struct termios saved;
        bool raw = false;
        int pair[2], status, r;
        pid_t s;

        if (ret_errors)
                *ret_errors = NULL;
        if (geteuid() != 0)
                return errtext(ret_errors, -EPERM, "only root may run a command in the sandbox");
        if (!req->argv || !req->argv[0] || !req->seed)
                return errtext(ret_errors, -EINVAL, "no command to run");
        r = links_read_host(&links);
        if (r < 0)
                return errtext(ret_errors, r, "cannot read the host's interfaces: %s", strerror(-r));
        r = open_pty(req, &master, &slave);
        if (r < 0)
                return errtext(ret_errors, r, "cannot create a pty: %s", strerror(-r));
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return errtext(ret_errors, negative_errno(), "cannot create the sandbox's socket: %m");
        sock = pair[0];
        child_sock = pair[1];
        fflush(NULL);

        s = fork();
        if (s < 0)
                return errtext(ret_errors, negative_errno(), "cannot fork: %m");
        if (s == 0) {
                close(master);
                close(sock);
                sandbox_supervisor(req, links, child_sock, slave);
        }
        close(TAKE_FD(child_sock));
        close(TAKE_FD(slave));

        /* A person at a terminal types into the command's pty as it is. */
        if (req->in_fd >= 0 && isatty(req->in_fd) && tcgetattr(req->in_fd, &saved) == 0) {
                struct termios t = saved;

                cfmakeraw(&t);
                raw = tcsetattr(req->in_fd, TCSANOW, &t) == 0;
        }
        r = relay(req, master, sock, &res, ret_errors);
        if (raw)
                (void) tcsetattr(req->in_fd, TCSANOW, &saved);
        if (r < 0)
                (void) kill(s, SIGKILL);       /* its children follow (parent-death signals) */
        while (waitpid(s, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0) {
                sandbox_run_result_done(&res);
                return r;
        }
        *ret = res;
        return 0;
}

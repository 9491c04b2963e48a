/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fileio.c — durable file replacement (temp file, fsync, rename, fsync dir) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int fileio_write_atomic(const char *path, unsigned mode, fileio_writer write, void *userdata) {
        _cleanup_free_ char *tmp = NULL, *dircopy = strdup(path);
        _cleanup_close_ int fd = -1, dfd = -1;
        int r;

        if (!dircopy || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fchmod(fd, (mode_t) mode) < 0) {
                r = negative_errno();
                goto fail;
        }
        r = write(fd, userdata);
        if (r < 0)
                goto fail;
        if (fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return negative_errno();
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}

int fileio_copy(int in, int out) {
        char buf[65536];

        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return 0;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(out, buf + done, (size_t) (n - done));

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return negative_errno();
                        done += w;
                }
        }
}

int fileio_open_parent(const char *path, int *ret_dfd, const char **ret_name) {
        _cleanup_close_ int fd = -1;
        const char *p = path, *last;

        if (path[0] != '/')
                return -EINVAL;
        last = strrchr(path, '/') + 1;
        if (!*last || streq(last, ".") || streq(last, ".."))
                return -EINVAL;
        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        while (p < last - 1) {
                char comp[256];
                size_t len;
                int next;

                p += strspn(p, "/");
                len = strcspn(p, "/");
                if (len == 0 || p >= last)
                        break;
                if (len >= sizeof(comp))
                        return -ENAMETOOLONG;
                memcpy(comp, p, len);
                comp[len] = 0;
                if (streq(comp, ".") || streq(comp, ".."))
                        return -EINVAL;
                next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return negative_errno();
                close(fd);
                fd = next;
                p += len;
        }
        *ret_dfd = TAKE_FD(fd);
        *ret_name = last;
        return 0;
}

int fileio_seal(int fd) {
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
            lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        return 0;
}

int fileio_read_all(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;

        /* One byte more than allowed tells "too long" from "just fits";
         * the file's size is only a first guess of how much there is. */
        if (fstat(fd, &st) < 0)
                return negative_errno();
        cap = MIN((size_t) MAX(st.st_size, (off_t) 4096) + 1, max + 1);
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        char *grown;

                        if (cap > max)
                                return -EFBIG;
                        cap = MIN(cap * 2, max + 1);
                        grown = realloc(buf, cap + 1);
                        if (!grown)
                                return -ENOMEM;
                        buf = grown;
                } else if (!buf && !(buf = malloc(cap + 1)))
                        return -ENOMEM;
                n = pread(fd, buf + len, cap - len, (off_t) len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (len > max)
                return -EFBIG;
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int fileio_read_nofollow(const char *path, size_t max, bool *ret_exists, unsigned *ret_mode,
                         char **ret_data, size_t *ret_len) {
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *buf = NULL;
        const char *name;
        struct stat st;
        size_t len = 0;
        int r;

        r = fileio_open_parent(path, &dfd, &name);
        if (r < 0)
                return r;
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                *ret_exists = false;
                *ret_mode = 0;
                *ret_data = NULL;
                *ret_len = 0;
                return 0;
        }
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        r = fileio_read_all(fd, max, &buf, &len);
        if (r < 0)
                return r;
        *ret_exists = true;
        *ret_mode = st.st_mode & 07777;
        *ret_data = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* Temporary files of earlier fileio_install() calls for @name that a crash
 * interrupted: ".NAME.fwguard-*" beside it, which only we make. */
static void fileio_remove_leftovers(int dfd, const char *name) {
        _cleanup_free_ char *prefix = NULL;
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        if (asprintf(&prefix, ".%s.fwguard-", name) >= 0)
                while ((de = readdir(d)))
                        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                                (void) unlinkat(dfd, de->d_name, 0);
        closedir(d);
}

int fileio_install(const char *path, bool exists, unsigned mode, const char *data, size_t len) {
        _cleanup_close_ int dfd = -1, fd = -1;
        const char *name;
        char tmp[320];
        struct stat st;
        int r;

        r = fileio_open_parent(path, &dfd, &name);
        if (r < 0)
                return r;
        if (!exists) {
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return negative_errno();
                return fsync(dfd) < 0 ? negative_errno() : 0;
        }
        fileio_remove_leftovers(dfd, name);
        for (unsigned attempt = 0; fd < 0; attempt++) {
                if (attempt > 100)
                        return -EEXIST;
                snprintf(tmp, sizeof(tmp), ".%.200s.fwguard-%d-%u", name, (int) getpid(), (unsigned) rand());
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return negative_errno();
        }
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            fchown(fd, st.st_uid, st.st_gid) < 0) {
                r = negative_errno();
                goto fail;
        }
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, data + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        goto fail;
                }
                done += (size_t) n;
        }
        if (fchmod(fd, (mode_t) (mode & 07777)) < 0 || fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
                r = negative_errno();
                goto fail;
        }
        return fsync(dfd) < 0 ? negative_errno() : 0;
fail:
        (void) unlinkat(dfd, tmp, 0);
        return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fileio.c — durable file replacement (temp file, fsync, rename, fsync dir) */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

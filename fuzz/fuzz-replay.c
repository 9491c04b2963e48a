/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-replay.c — run the fuzz targets over their corpora, as a unit test
 *
 * Every file under DIR/snapshot/ (the seeds) and DIR/crashers/ (what the
 * fuzzer once found) goes through LLVMFuzzerTestOneInput() once. In this
 * build the payload CRC is checked, so most crashers stop at it; they must
 * still not crash. Seeds must parse: they are valid snapshots.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "macro.h"
#include "ruleset.h"
#include "snapshot.h"

static int read_file(int dirfd, const char *name, uint8_t **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);
        if (!buf)
                return -ENOMEM;
        if (read(fd, buf, (size_t) st.st_size) != st.st_size)
                return -EIO;
        *ret = TAKE_PTR(buf);
        *ret_len = (size_t) st.st_size;
        return 0;
}

/* Replays every file of @dir; returns how many there were, or -errno. With
 * @must_parse, a file that snapshot_parse() refuses is an error. */
static int replay_dir(const char *dir, bool must_parse) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0, r = 0;

        if (!d)
                return errno == ENOENT && !must_parse ? 0 : negative_errno();
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_(ruleset_freep) Ruleset *rs = NULL;
                _cleanup_free_ uint8_t *buf = NULL;
                char err[256] = "";
                size_t len = 0;

                if (de->d_name[0] == '.')
                        continue;
                r = read_file(dirfd(d), de->d_name, &buf, &len);
                if (r < 0) {
                        fprintf(stderr, "%s/%s: %s\n", dir, de->d_name, strerror(-r));
                        break;
                }
                LLVMFuzzerTestOneInput(buf, len);
                if (must_parse && snapshot_parse(buf, len, &rs, NULL, err, sizeof(err)) < 0) {
                        fprintf(stderr, "%s/%s: seed does not parse: %s\n", dir, de->d_name, err);
                        r = -EBADMSG;
                }
                n++;
        }
        closedir(d);
        return r < 0 ? r : n;
}

int main(int argc, char **argv) {
        _cleanup_free_ char *seeds = NULL, *crashers = NULL;
        int n_seeds, n_crashers;

        if (argc != 2) {
                fprintf(stderr, "Usage: %s CORPUS-DIR\n", argv[0]);
                return 2;
        }
        if (asprintf(&seeds, "%s/snapshot", argv[1]) < 0 || asprintf(&crashers, "%s/crashers", argv[1]) < 0)
                return 1;
        n_seeds = replay_dir(seeds, true);
        n_crashers = replay_dir(crashers, false);
        if (n_seeds < 0 || n_crashers < 0)
                return 1;
        if (n_seeds == 0) {
                fprintf(stderr, "%s: no seeds\n", seeds);
                return 1;
        }
        printf("replayed %d seeds and %d crashers\n", n_seeds, n_crashers);
        return 0;
}

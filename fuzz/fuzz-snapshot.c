/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-snapshot.c — snapshot_parse() on arbitrary bytes
 *
 * In a -Dfuzz=true build snapshot_parse() skips the payload CRC, so inputs
 * reach the records, ruleset_add_msg() and libnftnl. Whatever parses is
 * written out again and must parse again, to the same bytes: the writer may
 * never produce a snapshot that the reader refuses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "macro.h"
#include "ruleset.h"
#include "snapshot.h"

/* The written snapshot, read back; a memfd reused from one input to the
 * next. -EFBIG, a record that grew past the limit, is the writer refusing
 * what it could not read back: allowed. */
static int write_out(const Ruleset *rs, uint8_t **ret, size_t *ret_len) {
        static int fd = -1;
        uint8_t *buf;
        off_t len;
        int r;

        if (fd < 0)
                fd = memfd_create("fuzz-snapshot", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        r = snapshot_write(fd, rs, 0);
        if (r == -EFBIG)
                return r;
        if (r < 0)
                abort();
        len = lseek(fd, 0, SEEK_CUR);
        buf = malloc(len > 0 ? (size_t) len : 1);
        if (len <= 0 || !buf || pread(fd, buf, (size_t) len, 0) != len)
                abort();
        *ret = buf;
        *ret_len = (size_t) len;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(ruleset_freep) Ruleset *rs = NULL, *again = NULL;
        _cleanup_free_ uint8_t *out = NULL, *out2 = NULL;
        size_t len = 0, len2 = 0;
        char err[256];

        if (snapshot_parse(data, size, &rs, NULL, err, sizeof(err)) < 0)
                return 0;
        if (write_out(rs, &out, &len) < 0)
                return 0;
        if (snapshot_parse(out, len, &again, NULL, err, sizeof(err)) < 0 ||
            write_out(again, &out2, &len2) < 0 ||
            len != len2 || memcmp(out, out2, len) != 0)
                abort();
        return 0;
}

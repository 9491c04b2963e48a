/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c — fwguardd's messages: the journal under systemd, stderr otherwise
 *
 * `fwguard deadman`, which systemd runs as a service of its own, logs
 * through this file too (cli/ links it), under its own name.
 *
 * Under systemd, stderr is a stream to the journal already, but a stream
 * carries no fields: the MESSAGE_IDs would be lost. So when stderr is that
 * stream (JOURNAL_STREAM names its device and inode), messages go to the
 * journal natively and not to stderr too. Anywhere else (a test, a
 * terminal), they go to stderr, where the test reads them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "log.h"

static bool stderr_is_journal(void) {
        static int cached = -1;
        unsigned long long dev, ino;
        const char *e;
        struct stat st;

        if (cached >= 0)
                return cached;
        e = getenv("JOURNAL_STREAM");
        cached = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                 (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
        return cached;
}

void log_event(int priority, const char *message_id, unsigned long long trial_id,
               const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        if (!stderr_is_journal()) {
                fprintf(stderr, "%s: %s\n", program_invocation_short_name, text);
                return;
        }
        char *fields[5] = {};
        struct iovec iov[5];
        size_t n = 0;

        if (asprintf(&fields[n++], "MESSAGE=%s", text) < 0 ||
            asprintf(&fields[n++], "PRIORITY=%i", priority) < 0 ||
            asprintf(&fields[n++], "SYSLOG_IDENTIFIER=%s", program_invocation_short_name) < 0 ||
            (message_id && asprintf(&fields[n++], "MESSAGE_ID=%s", message_id) < 0) ||
            (trial_id && asprintf(&fields[n++], "FWGUARD_TRIAL_ID=%llu", trial_id) < 0)) {
                fields[--n] = NULL;     /* asprintf() left it undefined */
                r = -ENOMEM;
        } else {
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec) { .iov_base = fields[i], .iov_len = strlen(fields[i]) };
                r = sd_journal_sendv(iov, (int) n);
        }
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", program_invocation_short_name, text);
}

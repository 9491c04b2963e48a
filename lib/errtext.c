/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errtext.c — the error text that goes with a negative errno */
#include <stdarg.h>
#include <stdio.h>

#include "errtext.h"

int errtext(char **ret, int r, const char *fmt, ...) {
        va_list ap;

        if (!ret)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
        return r;
}

int errbuf(int r, char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;

        if (err && errlen > 0) {
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}
